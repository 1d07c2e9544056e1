"""Writing results: whole or not at all, and never replacing what is not ours.

- A regular file (or a new one) is written to a temporary file in the same folder and renamed
  over it, so readers never see half a file and a failure leaves the old file untouched. A
  new file gets the mode the umask gives; an existing one keeps its mode.
- A symlink is followed: its target is replaced the same way, the link itself stays.
- An existing file is replaced only where writing it is allowed (its mode, for you) and it
  is yours (replacing another user's file would make it yours: root gives it back to its
  owner); never a file this run read as an input (``-o`` naming the workload).
- Anything else that exists (a device such as ``/dev/null``, a FIFO, a pipe) is written
  directly, never replaced by a regular file; so is this process's own standard output or
  error named by a path (``-o /dev/stdout``: a pipe, or a file opened to append to).
- ``-`` means standard output, written by :func:`write_stdout`: every byte or an error
  (a reader that went away, ``| head -c 10``, is an error, not a silent success).
- SIGINT and SIGTERM during the write remove the temporary file before the process ends.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import os
import select
import signal
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from ..base.reading import is_an_input


def write_atomically(path: str | Path, text: str | bytes) -> None:
    """Write ``text`` (UTF-8, or bytes as they are) to ``path`` whole or not at all; see the
    module docstring."""
    data = _utf8(text) if isinstance(text, str) else text
    try:  # (as named: /dev/stdout and /proc/self/fd/1 name a pipe no real path names)
        info: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        info = None
    for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
        if info is not None and _is_open_as(info, fd):
            if stream is None:  # closed as the command started (/dev/null holds its place)
                raise OSError(errno.EBADF, "standard output or error is closed")
            stream.flush()
            _write_all(fd, data)  # as it was opened (appending, where it was)
            return
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, "is a directory", str(path))
    if info is not None and not stat.S_ISREG(info.st_mode):
        if is_an_input(info):  # a FIFO read already: writing would wait for a reader for good
            raise PermissionError(errno.EPERM, "it is an input of this run")
        _write_directly(Path(path), data)  # a device or a FIFO: to write to, not to replace
        return
    target = Path(os.path.realpath(path))  # through symlinks, to the file they name
    if info is not None:
        _check_replaceable(target, info)
    mode = stat.S_IMODE(info.st_mode) if info is not None else _umask_mode()
    folder = target.parent
    import tempfile  # here: 7 ms (shutil, random) that writing to standard output never needs

    with _removed_on_signal() as pending:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        pending.append(tmp)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)  # mkstemp makes 0600
            if info is not None:
                _give_back(tmp, info)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        finally:
            pending.clear()


def _is_open_as(info: os.stat_result, fd: int) -> bool:
    """Whether ``info`` is of the file open as descriptor ``fd``."""
    try:
        opened = os.fstat(fd)
    except OSError:
        return False
    return (opened.st_dev, opened.st_ino) == (info.st_dev, info.st_ino)


def _check_replaceable(target: Path, info: os.stat_result) -> None:
    """Raise :class:`PermissionError` where the existing regular file ``target`` (``info``) is
    not ours to replace: see the module docstring."""
    if is_an_input(info):
        raise PermissionError(errno.EPERM, "it is an input of this run (the output would "
                              "replace it); write the output to another file")  # fmt: skip
    if not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, "permission denied (the file is read-only for "
                              "you)")  # fmt: skip
    uid = os.geteuid()
    if uid != 0 and info.st_uid != uid:
        raise PermissionError(errno.EPERM, "the file belongs to another user (replacing "
                              "it would make it yours); remove it or write to another "
                              "file")  # fmt: skip


def _give_back(tmp: str, info: os.stat_result) -> None:
    """The replacement of a file gets its owner (root can give it) and group (where we are
    in it); otherwise it stays ours, as the check before allowed."""
    if (info.st_uid, info.st_gid) == (os.geteuid(), os.getegid()):
        return
    uid = info.st_uid if os.geteuid() == 0 else -1
    with contextlib.suppress(OSError):
        os.chown(tmp, uid, info.st_gid)


def _write_directly(target: Path, data: bytes) -> None:
    fd = os.open(target, os.O_WRONLY)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def write_stdout(text: str | bytes) -> None:
    """Write ``text`` to standard output, every byte of it, or raise :class:`OSError` (or
    :class:`ValueError` for text its encoding cannot hold). Bytes are text in UTF-8: written
    as they are where the stream's encoding is UTF-8, else as their text would be.

    Python's buffered writer can give up after a short write to a pipe whose reader has gone
    away without raising anything; here each ``write`` is checked, so ``serialscale ... |
    head -c 10`` is seen to fail. A standard output that is not a file (a test's capture)
    is written as a stream.
    """
    stream = sys.stdout
    if stream is None:  # started with standard output closed
        raise OSError(errno.EBADF, "standard output is closed")
    encoding = stream.encoding or "utf-8"
    if isinstance(text, bytes) and codecs.lookup(encoding).name != "utf-8":
        text = text.decode("utf-8")
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        stream.write(text.decode("utf-8") if isinstance(text, bytes) else text)
        stream.flush()
        return
    if isinstance(text, bytes):
        data = text
    elif codecs.lookup(encoding).name == "utf-8":
        data = _utf8(text)
    else:
        data = text.encode(encoding, stream.errors or "strict")
    stream.flush()  # anything already written to the stream goes first
    _write_all(fd, data)


def _utf8(text: str) -> bytes:
    """``text`` in UTF-8, a lone surrogate (a file name that is not UTF-8 decodes to them:
    ``\udcff``) written as its escape, never as the raw byte it stood for: the output stays
    UTF-8, and in a JSON string the escape is JSON's own (the same text read back)."""
    return text.encode("utf-8", "backslashreplace")


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte of ``data`` is written (a short write is continued, a
    descriptor left non-blocking by a parent is waited for); a failure raises."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        if written <= 0:
            raise OSError(errno.EIO, "nothing could be written")
        view = view[written:]


def _umask_mode() -> int:
    """The mode a new file gets here: 0666 less the umask (read without changing it for
    long: ``os.umask`` can only be read by setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def _removed_on_signal() -> Iterator[list[str]]:
    """While active, SIGINT and SIGTERM first remove the files listed in the yielded list,
    then act as they would have (the previous handler, or the default: end the process)."""
    pending: list[str] = []
    previous: dict[int, object] = {}

    def handler(number: int, frame: FrameType | None) -> None:
        for name in pending:
            with contextlib.suppress(OSError):
                os.unlink(name)
        pending.clear()
        old = previous.get(number)
        if callable(old):
            old(number, frame)
        else:
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)

    try:
        for number in (signal.SIGINT, signal.SIGTERM):
            previous[number] = signal.signal(number, handler)
    except ValueError:  # not the main thread: signals cannot be handled here
        pass
    try:
        yield pending
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)  # type: ignore[arg-type]
