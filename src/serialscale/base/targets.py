"""What names a traced function on the command line (``file.py:f``, ``pkg.mod:f``) rather
than a file. Here, below the layers that read and trace them, so that deciding where a target
runs (the command runs functions in a process of their own) imports none of them."""

from __future__ import annotations

import re
from pathlib import Path

#: ``WHERE:FUNC``: a file or module, then a (dotted) function name.
FUNCTION_TARGET = re.compile(r"(?P<where>.+):(?P<func>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")


def is_python_target(text: str) -> bool:
    """Whether ``text`` names a function (``x.py:f``, ``pkg.mod:f``) rather than a file."""
    if text == "-" or (Path(text).exists() and not text.endswith(".py")):
        return False
    return text.endswith(".py") or FUNCTION_TARGET.fullmatch(text) is not None


def looks_like_function(text: str) -> bool:
    """Whether ``text`` names a function (``x.py:f``, ``pkg.mod:f``) rather than a file
    (:func:`is_python_target`, without a look at the disk for most file names)."""
    if text == "-" or (":" not in text and not text.endswith(".py")):
        return False
    return is_python_target(text)
