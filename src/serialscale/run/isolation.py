"""Running code we import in a child process, so that it cannot take serialscale down.

A traced target is someone else's code: it may call ``sys.exit`` or ``os._exit``, raise
``KeyboardInterrupt``, kill its own process or its parent, signal its process group, print,
write to file descriptor 1, leave processes behind, or run forever. The command line runs each
one two forks away::

    serialscale ── sentinel (own session and process group) ── target (runs the function)

- The **sentinel** starts a new session (``setsid``), so the target's process group is not
  serialscale's: ``os.killpg(0, ...)``, ``os.kill(0, ...)`` and a terminal's signals to
  serialscale's group do not cross. It points file descriptor 1 at serialscale's standard
  error and 0 at ``/dev/null``, closes every other descriptor but its two pipes, forks the
  target, waits for it, and sends back how it ended (its wait status) on a pipe only the
  sentinel holds.
- The **target**'s parent is the sentinel (``os.getppid()``, ``/proc/<ppid>/fd/1`` name the
  sentinel, whose standard output is serialscale's standard error): its prints, from Python or
  C, reach standard error, never the report. It sends back its result, or its error, as one
  length-prefixed frame on a pipe of its own.
- **serialscale** stops waiting as soon as the frame is whole, or the sentinel says the target
  ended without one, or the sentinel is gone (the target killed it), or ``timeout`` passes;
  not when every holder of the pipe closed it (a grandchild the target left running, a
  ``sleep 60 &``, holds it). Then it kills the whole process group (the target and what it left
  behind) and reaps the sentinel (the command line, which ends once its output is written,
  does not wait for that: :func:`reap_at_exit`). On Linux, the sentinel and the target are
  killed when their parent dies (``PR_SET_PDEATHSIG``), so nothing outlives a killed
  serialscale either.
- The result is unpickled with only serialscale's report and error types allowed (and one
  function that splits a string: a long critical path is sent as one): a target writing a
  crafted pickle on its pipe cannot run code in serialscale's process. Bytes the function
  returned (a large report's JSON text) cross unpickled, in a frame of their own
  (:data:`BYTES`): they are data, as a pickled ``bytes`` was. A report crosses as MessagePack
  (:data:`REPORT`), decoded as a :class:`~serialscale.documents.report.Report` (every field
  checked against its type as it is read): a report of 2,000,000 steps took 3.8 s to pickle,
  0.16 to encode so.
- The command may start the sentinel and the target early (:func:`prestart`, as
  ``serialscale analyze FILE.py:FUNC`` starts, before its options are parsed): the target
  imports serialscale's tracer and analysis (:data:`WARM`), nothing of the user's, and waits
  for its job on a pipe only it holds (every target finds the standard modules of
  :data:`INHERITED` where the standard library is, never in the function's folder);
  :func:`run_isolated` sends it the job (the label, a function by name, its arguments) for
  that label only, and ends it unused otherwise. The timeout counts from the job.
  Everything above holds for it as for a target started late.
- The target ends with ``os._exit``, its heap never freed (:func:`keep_until_exit`); it lets
  go of descriptors 1 and 2 before it sends its result, so that a pipe reading serialscale's
  standard error ends with serialscale, not once the killed target's memory is released.

Whatever the target does, serialscale turns it into one :class:`WorkloadError`:

- it returns: its result;
- it raises a located error, or any exception or ``BaseException`` (``SystemExit``,
  ``KeyboardInterrupt``): that error, naming what happened;
- its process ends without a result (``os._exit``, a signal, a crash): which exit code or
  signal ended it; it kills the sentinel (its parent, or its process group): that;
- it runs past ``timeout`` seconds: it is killed, and the error names ``--timeout``.

What this does not cover (the target runs as you, with your permissions): it can read and
write your files, open network connections, find serialscale's process through ``/proc`` (the
sentinel's parent) and signal it or open its standard output there, ``ptrace`` it where the
system allows, or start a new session of its own that outlives the run. Isolation keeps
honest-but-careless code from spoiling a report; it is not a sandbox for hostile code.

A real Ctrl-C reaches serialscale (the terminal signals its process group, which the target is
not in): serialscale kills the target's group and lets ``KeyboardInterrupt`` end it (exit
code 130). Where ``os.fork`` does not exist (Windows), the work runs in this process.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import pickle
import select
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..base.errors import Location, WorkloadError
from . import early

T = TypeVar("T")

#: Bytes read from a pipe at a time.
CHUNK = 1 << 20
#: A frame: one kind byte and an 8-byte big-endian length, then the payload.
HEADER = 9
#: The kinds of frame: a pickled outcome; the bytes the function returned, as they are
#: (a report's JSON text, see :func:`serialscale.run.batch.analyze_function_json`: no
#: pickling, no copies).
RESULT = b"R"
BYTES = b"B"
#: A report the function returned, as MessagePack (``msgspec.msgpack``).
REPORT = b"M"
_KINDS = {RESULT: "result", BYTES: "bytes", REPORT: "report"}
#: The longest payload a frame may announce (64 GiB): a longer one is refused before it is
#: read (a header forged by the traced code could announce 2**63 bytes, read until memory
#: ran out).
LONGEST = 1 << 36
#: Exit code of a sentinel or target that failed itself (not the function): the parent says
#: how it ended.
FAILED = 70


def available() -> bool:
    """Whether work can run in a child process here."""
    return hasattr(os, "fork") and hasattr(os, "setsid") and hasattr(select, "poll")


#: In a target process, what it holds until it ends (see :func:`keep_until_exit`); ``None``
#: elsewhere.
_kept: list[object] | None = None


def keep_until_exit(value: object) -> None:
    """In a target process, hold ``value`` until the process ends: it ends with ``os._exit``,
    and freeing what the work built (a workload of millions of steps: tens of milliseconds)
    would be work for nothing. Elsewhere (in process, no fork), nothing."""
    if _kept is not None:
        _kept.append(value)


def run_isolated(
    work: Callable[[], T],
    label: str,
    timeout: float | None = None,
    job: tuple[Callable[..., T], tuple[Any, ...]] | None = None,
    *,
    expect: Callable[[Any], bool],
) -> T:
    """``work()`` two forks away (see the module); its result, or a :class:`WorkloadError`
    for ``label``. The result must pass ``expect`` (what ``work`` returns: the target's pipe
    is the traced code's to write on too, so a forged frame or value is refused there, as a
    located error, not taken for a result).

    ``job``, ``(function, args)`` with ``work() == function(*args)``, the function a module's
    own (pickled by name): a target started early for ``label`` (:func:`prestart`) runs it,
    its imports done while this process started. Without one, or for another label, a new
    target runs ``work``."""
    if not available():
        return work()
    for stream in (sys.stdout, sys.stderr):  # None where the descriptor was closed (>&-)
        if stream is not None:
            stream.flush()
    reap_dying()  # (a batch's earlier ones)
    started = _take_prestarted(label, job)
    if started is not None:
        pid, result_r, status_r = started
    else:
        pid, result_r, status_r = _start(work, label)
    sentinel = 0
    kind, value = "interrupted", None
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        # the result's types, and what shows it, imported while the target works: beside the
        # wait, which the timeout bounds (a result that came after it is not taken)
        importer = _importing_meanwhile()
        kind, value = _collect(result_r, status_r, deadline)
        if importer is not None:
            importer.join()
    finally:
        # the target, its grandchildren and the sentinel: nothing is left running
        early.kill(pid)
        os.close(result_r)
        os.close(status_r)
        if _dying is None or kind == "lost":  # (how the sentinel ended says what happened)
            sentinel = early.reap(pid) or 0
        else:
            _dying.append(pid)
    not_a_result = "the function's process sent back something that is not a result"
    if kind == "bytes":
        returned: Any = value
        if not expect(returned):
            raise WorkloadError(f"{not_a_result} (bytes)", Location(label))
        return returned
    if kind == "report":
        from ..documents.report import from_messagepack

        returned = from_messagepack(value)
        if returned is None or not expect(returned):
            raise WorkloadError(f"{not_a_result} (Report)", Location(label))
        return returned
    if kind == "bad":
        raise WorkloadError(f"{not_a_result} ({value!r})", Location(label))
    if kind == "timeout":
        raise WorkloadError(
            f"stopped after --timeout {timeout:g} seconds: the function was still running",
            Location(label),
        )
    if kind == "ended":
        raise WorkloadError(_ended(value), Location(label))
    if kind == "lost":
        raise WorkloadError(_lost(sentinel), Location(label))
    try:
        sent, returned = _Results(io.BytesIO(value)).load()
    except Exception as exc:  # a truncated or forged result
        raise WorkloadError(f"{not_a_result} ({exc})", Location(label)) from None
    if sent == "error" and isinstance(returned, WorkloadError):
        raise returned
    if sent != "ok":
        raise WorkloadError("the function's process sent back an unknown outcome", Location(label))
    if not expect(returned):
        raise WorkloadError(f"{not_a_result} ({type(returned).__name__})", Location(label))
    return returned


#: Sentinels killed and not waited for (:func:`reap_at_exit`); ``None``: each is waited for.
_dying: list[int] | None = None


def reap_at_exit() -> None:
    """For a process that ends once its output is written (the command line): from here, a
    sentinel killed once its target's result came is not waited for (its end took 1 ms of
    each run, 5-13 ms on a loaded machine, while the result waited). It is killed all the
    same; :func:`reap_dying` reaps those that have ended, and init the rest once this
    process has ended. A library caller's are waited for (it may wait for children of its
    own: none of ours is left for it to find)."""
    global _dying
    if _dying is None:
        _dying = []


def reap_dying() -> None:
    """Reap the sentinels killed and not waited for that have ended, without waiting."""
    if _dying:
        _dying[:] = [pid for pid in _dying if early.reap(pid, wait=False) is None]


#: Modules imported while a target works (:func:`import_meanwhile`), the report's types first.
_meanwhile = ["serialscale.documents.report"]


def import_meanwhile(*names: str) -> None:
    """Have :func:`run_isolated` import the modules ``names`` while its target works (those
    that show its result: the command's process is idle until the result comes)."""
    _meanwhile.extend(name for name in names if name not in _meanwhile)


def _importing_meanwhile() -> threading.Thread | None:
    """A thread running :func:`_import_meanwhile` (``None`` when none can start: the modules
    are imported where they are used)."""
    importer = threading.Thread(target=_import_meanwhile, name="serialscale-imports", daemon=True)
    try:
        importer.start()
    except RuntimeError:
        return None
    return importer


def _import_meanwhile() -> None:
    """Import what :func:`import_meanwhile` asked for, with the working folder off sys.path
    ('python -m' puts it first): a 'rich.py' there must not run for a result never shown
    (a run that fails renders nothing)."""
    import importlib

    saved = early.path_without_working_folder()
    try:
        for name in _meanwhile:
            with contextlib.suppress(Exception):  # imported again where used, which says why
                importlib.import_module(name)
    finally:
        sys.path[:] = saved


def _start(work: Callable[[], object] | None, label: str, job: int = -1) -> tuple[int, int, int]:
    """Fork the sentinel (which forks the target): its pid, and the ends of the result and
    status pipes that serialscale reads. ``job``: see :func:`prestart`."""
    result_r, result_w = os.pipe()
    status_r, status_w = os.pipe()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError as exc:
        for fd in (result_r, result_w, status_r, status_w):
            os.close(fd)
        message = f"could not start a process for the function: {exc.strerror or exc}"
        raise WorkloadError(message, Location(label)) from None
    if pid == 0:  # the sentinel: never returns
        os.close(result_r)
        os.close(status_r)
        _sentinel(work, label, result_w, status_w, parent, job)
    os.close(result_w)
    os.close(status_w)
    return pid, result_r, status_r


#: The standard modules a target started by typer's command line inherits (typer and click
#: import them), which another target would import only when used, after the function's
#: folder is on sys.path, where a 'difflib.py' of the user's would stand in for them
#: (serialscale's own lazy imports included): every target finds them where the standard
#: library is, as they were found before the job (:class:`_Inherited`; importing them all
#: took 12-16 ms of each start). With the modules they import, and json (the file readers
#: import it, which a target no longer does): a target started early had all of these
#: imported before its job.
INHERITED = frozenset({
    "bz2", "difflib", "fcntl", "gettext", "hashlib", "locale", "lzma", "select", "selectors",
    "shutil", "signal", "string", "subprocess", "tomllib", "zlib",
    "_blake2", "_bz2", "_compression", "_hashlib", "_locale", "_lzma", "_posixsubprocess",
    "_string", "json", "_json",
})  # fmt: skip

#: What a target started early imports while it waits for its job: the analysis of a traced
#: function (a module missing from the list is imported when needed, as before).
WARM = (
    "serialscale.run.batch",
    "serialscale.sources.python_targets",
    "serialscale.trace.mathlib",
    "serialscale.trace.scopes",
    "serialscale.trace.selection",
    "serialscale.trace.native_selection",
    "serialscale.core.analysis",
)


class _Inherited:
    """A finder, first on ``sys.meta_path`` in a target, for the top-level modules of
    :data:`INHERITED` only: it looks for them in ``path`` (sys.path as it was before the
    function's folder was added to it), so the function's folder cannot stand in for them."""

    def __init__(self, path: list[str]) -> None:
        self.path = path

    def find_spec(self, name: str, path: object = None, target: object = None) -> Any:
        if path is not None or name not in INHERITED:
            return None
        from importlib.machinery import PathFinder

        return PathFinder.find_spec(name, self.path)


def _find_inherited_as_before(path: list[str]) -> None:
    """Install :class:`_Inherited` for ``path`` (once), before the import system's path
    finder (builtin modules are found first, as always)."""
    if any(isinstance(finder, _Inherited) for finder in sys.meta_path):
        return
    from importlib.machinery import PathFinder

    at = sys.meta_path.index(PathFinder) if PathFinder in sys.meta_path else 0
    sys.meta_path.insert(at, _Inherited(list(path)))


def prestart(label: str) -> None:
    """Start the sentinel and the target for ``label`` now, before the command has read its
    options (:mod:`.early` forks them): the target imports :data:`WARM` while serialscale
    starts (on another core), then waits for its job, which :func:`run_isolated` sends it,
    for ``label`` only. Nothing of the user's is imported or run before the job comes; a
    target never given one ends when serialscale does (or at :func:`cancel_prestarted`).
    Best effort: nothing on failure."""
    if available():
        early.prestart(label)


def cancel_prestarted() -> None:
    """End the target :func:`prestart` started, if any (unused: the command needs another)."""
    early.cancel()


def _take_prestarted(
    label: str, job: tuple[Callable[..., object], tuple[Any, ...]] | None
) -> tuple[int, int, int] | None:
    """The target started for ``label``, given ``job`` (pid of its sentinel, the result and
    status pipes' ends); ``None`` when there is none, or it is for another label, or ``job``
    cannot be pickled by name (it is then ended: it would never be used)."""
    try:
        data = None if job is None else pickle.dumps((label, *job), pickle.HIGHEST_PROTOCOL)
    except Exception:  # not picklable by name: a new target runs the work itself
        data = None
    if data is None:
        early.cancel()
        return None
    started = early.take(label)
    if started is None:
        return None
    pid, job_w, result_r, status_r = started
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(job_w, view) :]
    except OSError:  # the target is gone: collecting says how
        pass
    finally:
        os.close(job_w)  # the end of the job
    return pid, result_r, status_r


def _sentinel(
    work: Callable[[], object] | None, label: str, out: int, status: int, parent: int, job: int
) -> None:
    """The target's parent: its own session, fds 0 and 1 away from serialscale's, fork the
    target, send back its wait status, end."""
    code = 0
    try:
        if os.getsid(0) != os.getpid():  # (one started early is a leader already)
            os.setsid()  # a new session and process group: killpg from the target stops here
        _die_with_parent(parent)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # serialscale's standard input may be a workload being read
        os.close(null)
        os.dup2(2, 1)  # fd 1 (and /proc/<ppid>/fd/1 for the target) is standard error
        _close_all_but(out, status, *([job] if job >= 0 else []))
        me = os.getpid()
        target = os.fork()
        if target == 0:  # never returns
            os.close(status)  # only the sentinel holds it: its end means the sentinel's
            _target(work, label, out, me, job)
        os.close(out)
        if job >= 0:
            os.close(job)  # the target's alone: serialscale's closing it ends the target
        _, how = os.waitpid(target, 0)
        os.write(status, how.to_bytes(4, "big", signed=True))
    except BaseException:
        code = FAILED
    finally:
        os._exit(code)


def _target(
    work: Callable[[], object] | None, label: str, out: int, parent: int, job: int = -1
) -> None:
    """Run ``work`` (prints go to stderr: fd 1 is stderr already); send back the outcome as
    one frame; end the process. With a ``job`` pipe (:func:`prestart`): import
    :data:`WARM`, then read the label and the work from it (none: end)."""
    global _kept
    code = 0
    try:
        _kept = []
        _die_with_parent(parent)
        if job >= 0:
            label, work = _await_job(job)
        else:
            _find_inherited_as_before(sys.path)
        # What the parent built is never garbage here: frozen, the collector neither walks it
        # nor writes to it (which would copy every page of it from the parent).
        gc.freeze()
        gc.enable()  # the command starts with it off (serialscale.cli.entry); user code needs it
        from ..trace.memory import prepare_ahead

        prepare_ahead()  # this process is ours: malloc may keep what is freed (trace/memory.py)
        sys.stdout = sys.stderr
        try:
            assert work is not None
            outcome: tuple[str, object] = ("ok", work())
        except WorkloadError as exc:
            outcome = ("error", exc)
        except SystemExit as exc:
            outcome = ("error", WorkloadError(_exit_message(exc), Location(label)))
        except BaseException as exc:  # KeyboardInterrupt raised by the code, and the rest
            what = type(exc).__name__ + (f": {exc}" if str(exc) else "")
            outcome = ("error", WorkloadError(f"the function raised {what}", Location(label)))
        kind, data = _frame(outcome, label)
        _let_go_of_stdio()
        for part in (kind + len(data).to_bytes(8, "big"), data):  # (not joined: a copy)
            view = memoryview(part)
            while view:
                view = view[os.write(out, view[:CHUNK]) :]
    except BaseException:
        code = FAILED  # the sentinel reports how the target ended
    finally:
        os._exit(code)


def _frame(outcome: tuple[str, object], label: str) -> tuple[bytes, bytes]:
    """The kind and payload of the frame that sends ``outcome`` back."""
    from ..documents.report import Report, to_messagepack

    value = outcome[1]
    if outcome[0] == "ok" and type(value) is bytes:
        return BYTES, value
    if outcome[0] == "ok" and type(value) is Report:
        with contextlib.suppress(Exception):  # (a lone surrogate: pickled)
            return REPORT, to_messagepack(value)
    try:
        return RESULT, _dumps(outcome)
    except Exception as exc:
        message = f"its result could not be sent back ({type(exc).__name__}: {exc})"
        return RESULT, _dumps(("error", WorkloadError(message, Location(label))))


def _await_job(job: int) -> tuple[str, Callable[[], object]]:
    """In a target started early: import :data:`WARM`, then wait for the job serialscale
    sends (its own pickle: trusted); the process ends if none comes."""
    import importlib

    # Nothing of the user's before the job: a 'struct.py' in the working folder (first on
    # sys.path under 'python -m') would otherwise run here, before the options are checked.
    saved = early.path_without_working_folder()
    try:
        _find_inherited_as_before(sys.path)
        for name in WARM:
            with contextlib.suppress(Exception):  # the work imports it again, and says why not
                importlib.import_module(name)
    finally:
        sys.path[:] = saved
    chunks = []
    while chunk := os.read(job, CHUNK):
        chunks.append(chunk)
    os.close(job)
    if not chunks:  # serialscale ended, or needed another target
        os._exit(0)
    label, function, args = pickle.loads(b"".join(chunks))
    return label, lambda: function(*args)


def _let_go_of_stdio() -> None:
    """Flush what the function printed (``os._exit`` flushes nothing: a line written to
    ``sys.__stdout__``, block-buffered, was lost), then point descriptors 1 and 2 at
    ``/dev/null``.

    Done before the result is sent, after which the target is killed: a process killed with
    a large heap holds its descriptors until the kernel has freed all of that memory (a tenth
    of a second for a few GB), and whoever reads serialscale's standard error through a pipe
    (a CI log, ``subprocess.run(capture_output=True)``) would wait that long for its end."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()  # type: ignore[union-attr]
    with contextlib.suppress(OSError):  # best effort: out of descriptors, the result still goes
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)


def _dumps(outcome: tuple[str, object]) -> bytes:
    """``outcome`` pickled by the types' own ``__reduce__``, past any reducers a library
    registered for everyone (``tblib.pickling_support``, which distributed installs, pickles
    every exception through a function of its own): the parent accepts only its types.
    A report's long critical path goes as one string (see :class:`_Lines`)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {}
    pickler.dump((outcome[0], _compact(outcome[1])))
    return buffer.getvalue()


#: A critical path at least this long is sent as one string.
LONG_PATH = 1000


class _Lines:
    """A list of strings none of which holds a newline, pickled as the one string of them
    joined by newlines and split again as it is unpickled (:func:`_split_lines`): the pickler
    memoizes every object it writes, and a report with a critical path of 400,000 step ids
    took 77 ms to pickle and 67 to unpickle, against 15 and 52 so (one sitting, loaded)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __reduce__(self) -> tuple[Callable[[str], list[str]], tuple[str]]:
        return _split_lines, (self.text,)


def _split_lines(text: str) -> list[str]:
    """The list a :class:`_Lines` stands for (the only function a result may call)."""
    if type(text) is not str:
        raise pickle.UnpicklingError("a list of lines is not a string")
    return text.split("\n")


def _compact(value: object) -> object:
    """``value``, a report's long critical path (also as the first item of a tuple) made a
    :class:`_Lines` when no step id holds a newline; anything else as it is."""
    if type(value) is tuple and value:
        return (_compact(value[0]), *value[1:])
    report = sys.modules.get("serialscale.documents.report")
    if report is None or not isinstance(value, report.Report):
        return value
    path = value.critical_path
    if type(path) is not list or len(path) < LONG_PATH:
        return value
    try:
        text = "\n".join(path)
    except TypeError:  # not all strings: as it is
        return value
    if text.count("\n") != len(path) - 1:  # an id holds a newline: as it is
        return value
    import msgspec

    return msgspec.structs.replace(value, critical_path=_Lines(text))


#: ``signal.SIGKILL`` on Linux, the one system :func:`_die_with_parent` acts on: a target
#: does not import :mod:`signal` for it (0.6 ms of each start).
_SIGKILL = 9


def _die_with_parent(parent: int) -> None:
    """On Linux, be killed when the parent dies (``PR_SET_PDEATHSIG``); best effort."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, _SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request: end now
        os._exit(FAILED)


def _close_all_but(*keep: int) -> None:
    """Close every descriptor above 2 except ``keep`` (what serialscale had open: output
    files, a worker pool's pipes)."""
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    try:
        high = os.sysconf("SC_OPEN_MAX")
    except (OSError, ValueError):
        high = 1 << 16
    os.closerange(low, max(low, high))


def _exit_message(exc: SystemExit) -> str:
    if exc.code is None or exc.code == 0:
        return "the function called sys.exit() (exit code 0) before returning a result"
    return f"the function called sys.exit({exc.code!r}) before returning a result"


def _collect(result: int, status: int, deadline: float | None) -> tuple[str, Any]:
    """Wait for the target's frame until ``deadline`` (``time.monotonic()``; ``None``: no
    limit): ``("result", payload)`` (a pickled outcome), ``("bytes", payload)`` (bytes the
    function returned) or ``("report", payload)`` (a report as MessagePack); ``("bad",
    header)`` for a header no target writes (:meth:`_Incoming.bad`); ``("ended", wait
    status)`` when the target ended without one (the sentinel says how); ``("lost", None)``
    when the sentinel is gone without saying; ``("timeout", None)``."""
    frame = _Incoming()
    said = bytearray()
    open_fds = [result, status]
    while True:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready = _ready(open_fds, wait)
        if not ready:
            return "timeout", None
        if result in ready:
            if not frame.read(result):
                open_fds.remove(result)
            elif frame.whole():
                return frame.outcome()
        if status in ready:
            chunk = os.read(status, 4)
            if chunk:
                said += chunk
                if len(said) < 4:
                    continue
            # The target has ended (and the sentinel told how), or the sentinel is gone: what
            # the target wrote is in the pipe already; take it without waiting for an end of
            # file a grandchild may hold off.
            if result in open_fds:
                while _ready([result], 0) and frame.read(result):
                    pass
            if frame.whole():
                return frame.outcome()
            if len(said) == 4:
                return "ended", int.from_bytes(said[:4], "big", signed=True)
            return "lost", None


class _Incoming:
    """A frame as it arrives: its header, read on its own, then its payload's chunks, joined
    once when it is whole (a report's JSON text of several MB is copied once here)."""

    def __init__(self) -> None:
        self.head = b""
        self.chunks: list[bytes] = []
        self.size = 0

    def read(self, fd: int) -> bool:
        """Read once what ``fd`` holds into the frame; ``False`` at its end."""
        missing = HEADER - len(self.head)
        chunk = os.read(fd, missing if missing > 0 else CHUNK)
        if not chunk:
            return False
        if missing > 0:
            self.head += chunk
        else:
            self.chunks.append(chunk)
            self.size += len(chunk)
        return True

    def bad(self) -> bool:
        """Whether the header says no frame a target writes (an unknown kind, a length past
        :data:`LONGEST`): what follows is not read (it could be endless)."""
        return len(self.head) == HEADER and (
            self.head[:1] not in _KINDS or int.from_bytes(self.head[1:], "big") > LONGEST
        )

    def whole(self) -> bool:
        """Whether the frame is whole, or :meth:`bad` (nothing more to read)."""
        return len(self.head) == HEADER and (
            self.bad() or self.size >= int.from_bytes(self.head[1:], "big")
        )

    def outcome(self) -> tuple[str, bytes]:
        """``(kind, payload)`` of a whole frame (``"result"``, ``"bytes"`` or ``"report"``:
        :data:`_KINDS`); ``("bad", header)`` for a bad one."""
        if self.bad():
            return "bad", self.head
        size = int.from_bytes(self.head[1:], "big")
        payload = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        if len(payload) > size:  # (written after the frame: not part of it)
            payload = payload[:size]
        return _KINDS[self.head[:1]], payload


def _ready(fds: list[int], wait: float | None) -> list[int]:
    """The descriptors of ``fds`` that can be read (or are at their end) within ``wait``
    seconds (``None``: no limit). ``poll``, not ``select``: a descriptor past 1023 is fine."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    timeout = None if wait is None else max(0, int(wait * 1000 + 0.999))
    return [fd for fd, _ in poller.poll(timeout)]


def _lost(status: int) -> str:
    """Why the sentinel ended without saying how the target did."""
    if os.WIFSIGNALED(status):
        return (f"the function's parent process was killed by {_signal_name(status)} before "
                "the function returned a result (did it signal its parent or its process "
                "group?)")  # fmt: skip
    return "could not start a process for the function (out of processes or memory?)"


class _Results(pickle.Unpickler):
    """Unpickles only what a target sends back: reports and errors (the pipe is the
    target's: anything else written on it is refused, not run)."""

    ALLOWED = frozenset({
        ("serialscale.base.errors", "WorkloadError"), ("serialscale.base.errors", "WorkloadErrors"),
        ("serialscale.base.errors", "Location"),
        ("msgspec._core", "UNSET"), ("msgspec._utils", "rebuild"),
        ("serialscale.run.isolation", "_split_lines"),
    })  # fmt: skip

    def find_class(self, module: str, name: str) -> Any:
        report = module == "serialscale.documents.report"
        if (module, name) in self.ALLOWED or (report and _struct(name)):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a result")


def _struct(name: str) -> bool:
    """Whether ``serialscale.documents.report.<name>`` is one of the report's record types."""
    import msgspec

    from ..documents import report

    value = getattr(report, name, None)
    return isinstance(value, type) and issubclass(value, msgspec.Struct)


def _ended(status: int) -> str:
    """How a target that sent nothing back ended."""
    if os.WIFSIGNALED(status):
        name = _signal_name(status)
        return f"the function's process was killed by {name} before returning a result"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return f"the function ended its process (exit code {code}) before returning a result"


def _signal_name(status: int) -> str:
    number = os.WTERMSIG(status)
    try:
        import signal

        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
