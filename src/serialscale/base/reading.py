"""Reading a file or a stream whole, bounded: every input (workloads, other tools' files,
saved reports) is read through here, so no read can run forever or fill memory."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import Location, WorkloadError

__all__ = ["READ_CHUNK", "forget_input", "is_an_input", "read_file", "read_input",
           "remember_input"]  # fmt: skip

#: The (device, inode) of every regular file or FIFO this process read as an input: an output
#: never replaces one, nor writes into it (``-o`` naming the workload itself).
_INPUTS: set[tuple[int, int]] = set()


def remember_input(info: os.stat_result) -> None:
    """Note the file of ``info`` as one of this run's inputs (see :func:`is_an_input`)."""
    if stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode):
        _INPUTS.add((info.st_dev, info.st_ino))


def forget_input(path: Path) -> None:
    """``path`` may be replaced by the output after all (a ``--baseline`` updated in place:
    it was read whole)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return
    _INPUTS.discard((info.st_dev, info.st_ino))


def is_an_input(info: os.stat_result) -> bool:
    """Whether the file of ``info`` is one this run read as an input."""
    return (info.st_dev, info.st_ino) in _INPUTS


def read_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path``, at most ``max_bytes`` of them; every problem a located error.

    Regular files are checked by size before they are read; anything else (a FIFO, a device
    such as ``/dev/zero``) is read up to the limit, so it cannot run forever or fill memory.
    """
    source = str(path)
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            remember_input(info)
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError
            if stat.S_ISREG(info.st_mode):
                if info.st_size > max_bytes:
                    raise _too_large(source, max_bytes)
                data = handle.read()  # one allocation of the file's size
                if len(data) > max_bytes:  # it grew while we read it
                    raise _too_large(source, max_bytes)
                return data
            return read_input(handle, source, max_bytes)
    except FileNotFoundError:
        message = "no such file" if not path.is_symlink() else "a symlink to a missing file"
        raise WorkloadError(message, Location(source)) from None
    except IsADirectoryError:
        raise WorkloadError("is a directory, expected a workload file", Location(source)) from None
    except PermissionError:
        raise WorkloadError("permission denied: cannot read the file", Location(source)) from None
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
        raise WorkloadError(message, Location(source)) from None


#: Bytes read at a time from a stream of unknown length.
READ_CHUNK = 1 << 20


def read_input(handle: BinaryIO, source: str, max_bytes: int) -> bytes:
    """Read ``handle`` to its end, refusing more than ``max_bytes`` (read in chunks: asking
    for ``max_bytes`` at once would reserve that much memory for every small file)."""
    # (standard input redirected from a file is an input too)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        remember_input(os.fstat(handle.fileno()))
    chunks: list[bytes] = []
    total = 0
    while chunk := handle.read(min(READ_CHUNK, max_bytes + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(source, max_bytes)
    return b"".join(chunks) if len(chunks) != 1 else chunks[0]


def _too_large(source: str, max_bytes: int) -> WorkloadError:
    return WorkloadError(
        f"the input is larger than --max-input-size ({max_bytes:,} bytes); raise the limit "
        "to read it",
        Location(source),
    )
