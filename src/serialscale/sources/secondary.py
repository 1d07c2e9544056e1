"""The one way a reader opens a file that another file names (a secondary input).

A workflow's ``uses: ./.github/workflows/x.yml``, a GitLab ``include: local:``, ninja's
``include``/``subninja``/``dyndep`` and the ``.ninja_log`` beside a ``build.ninja`` are files
the *input* names, not the user: a hostile input could name ``/etc/shadow``, ``../../.ssh``,
``/dev/zero`` or a FIFO. :class:`SecondaryReads` opens them all, and only so:

- resolved (symlinks followed) **inside the project root**: the nearest folder at or above
  the primary input that holds ``.git``; without one, the reader's own root (the folder
  holding ``.github``, the folder of ``.gitlab-ci.yml``, the build folder);
- **regular files only** (opened non-blocking, so a FIFO cannot hang the open, then checked);
- at most ``--max-input-size`` bytes each, and at most :data:`MAX_SECONDARY_FILES` files per
  primary input (include chains and fan-out cannot run forever);
- errors name the path as the input wrote it and where it was written, never the content of
  the file (a file outside the project is never opened at all).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..base.errors import Location, WorkloadError
from ..base.limits import DEFAULT_LIMITS, Limits
from ..base.reading import remember_input

#: Secondary files one primary input may read in all (includes of includes counted).
MAX_SECONDARY_FILES = 1000


class MissingInput(WorkloadError):
    """A secondary input that does not exist (readers may turn this into a note)."""


def project_root(primary: Path, fallback: Path | None = None) -> Path:
    """The folder secondary reads of ``primary`` are confined to (resolved).

    The nearest folder at or above ``primary``'s folder holding ``.git``; else ``fallback``
    (the reader's own root) if given; else ``primary``'s folder.
    """
    start = Path(os.path.realpath(primary)).parent
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    if fallback is not None:
        return Path(os.path.realpath(fallback))
    return start


def refuse_nul(path: str, written: str, where: Location) -> None:
    """An error located at ``where`` if ``path`` holds a NUL character (a ``"\\0"`` escape
    in YAML): ``os.path.realpath`` and ``os.open`` raise ``ValueError`` on one."""
    if "\0" in path:
        raise WorkloadError(f"{written!r} holds a NUL character; expected a file path", where)


@dataclass
class SecondaryReads:
    """Opens the files an input names, confined to ``root`` and bounded by ``limits``."""

    root: Path
    limits: Limits = DEFAULT_LIMITS
    opened: int = field(default=0)

    @classmethod
    def for_input(cls, primary: Path, limits: Limits, fallback: Path | None = None
                  ) -> SecondaryReads:  # fmt: skip
        """The reads allowed for the primary input ``primary``."""
        return cls(project_root(primary, fallback), limits)

    def resolve(self, target: Path, written: str, where: Location) -> Path:
        """``target`` resolved; an error located at ``where`` if it leaves the project."""
        refuse_nul(str(target), written, where)
        real = Path(os.path.realpath(target))
        if not real.is_relative_to(self.root):
            raise WorkloadError(
                f"{written!r} is outside the project ({self.root}); serialscale reads only "
                "files inside the project (the folder holding .git)",
                where,
            )
        return real

    def read(self, target: Path, written: str, where: Location) -> bytes:
        """The bytes of ``target`` (``written`` is how the input named it; ``where`` is the
        place that named it). Raises :class:`MissingInput` when it does not exist and
        :class:`WorkloadError` for anything else that is not a readable regular file inside
        the project within the limits."""
        real = self.resolve(target, written, where)
        self.opened += 1
        if self.opened > MAX_SECONDARY_FILES:
            raise WorkloadError(
                f"more than {MAX_SECONDARY_FILES:,} included files in one input; "
                f"stopped at {written!r}",
                where,
            )
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        try:
            fd = os.open(real, flags)
        except FileNotFoundError:
            raise MissingInput(f"{written!r} does not exist", where) from None
        except IsADirectoryError:
            raise WorkloadError(f"{written!r} is a directory, expected a file", where) from None
        except OSError as exc:
            raise WorkloadError(f"cannot read {written!r}: {exc.strerror or exc}",
                                where) from None  # fmt: skip
        try:
            info = os.fstat(fd)
            remember_input(info)
            if not stat.S_ISREG(info.st_mode):
                kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
                raise WorkloadError(f"{written!r} is {kind}, expected a file", where)
            limit = self.limits.max_input_bytes
            if info.st_size > limit:
                raise _too_large(written, limit, where)
            with os.fdopen(fd, "rb", closefd=True) as handle:
                fd = -1
                data = handle.read(limit + 1)
        except OSError as exc:
            raise WorkloadError(f"cannot read {written!r}: {exc.strerror or exc}",
                                where) from None  # fmt: skip
        finally:
            if fd >= 0:
                os.close(fd)
        if len(data) > limit:  # it grew while we read it
            raise _too_large(written, limit, where)
        return data

    def exists(self, target: Path) -> bool:
        """Whether ``target`` is a regular file inside the project (nothing is opened)."""
        if "\0" in str(target):
            return False
        real = Path(os.path.realpath(target))
        return real.is_relative_to(self.root) and real.is_file()


def _too_large(written: str, limit: int, where: Location) -> WorkloadError:
    return WorkloadError(
        f"{written!r} is larger than --max-input-size ({limit:,} bytes); raise the limit to "
        "read it",
        where,
    )
