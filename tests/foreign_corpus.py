"""The public corpus of real step-graph files (``../shared/corpus``, outside the repository):
its entries, with the options each needs, for the tests that keep them analyzing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def corpus() -> Path | None:
    """The corpus folder, if this machine has one (``SERIALSCALE_CORPUS`` names another)."""
    candidates = [os.environ.get("SERIALSCALE_CORPUS", ""), ROOT.parent / "shared" / "corpus",
                  ROOT.parent.parent / "shared" / "corpus"]  # fmt: skip
    for folder in candidates:
        if folder and (Path(folder) / "ENTRIES").is_file():
            return Path(folder)
    return None


def entries(*markers: str) -> list[tuple[str, list[str]]]:
    """(entry, options) of every corpus entry whose path holds one of ``markers``."""
    folder = corpus()
    if folder is None:
        return []
    out = []
    for line in (folder / "ENTRIES").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        entry, *options = line.split()
        if any(marker in entry for marker in markers):
            out.append((entry, options))
    return out


def entry_path(entry: str) -> Path:
    folder = corpus()
    if folder is None:
        pytest.skip("the corpus (../shared/corpus) is not on this machine")
    return folder / entry
