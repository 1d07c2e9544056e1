"""Where a batch's targets are analyzed when not one after the other here: worker processes
(``--jobs``) or a Dask cluster (``--scheduler``). Outcomes come back in target order; a
crashed worker becomes an error entry for its target."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..base.errors import UsageError, WorkloadError
from ..documents.report import ErrorEntry
from ..sources import looks_like_function
from .batch import Options, Progress, error_entries, outcome_of, read_options, report_of_workload
from .stopping import in_worker, stop_workers, worker_started

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from .batch import Outcome

__all__ = ["DASK_CONNECT_TIMEOUT", "outcome_on_worker", "run_dask", "run_processes"]

DASK_CONNECT_TIMEOUT = "5s"


def _crash(target: str, detail: str) -> Outcome:
    message = f"the worker analyzing it crashed ({detail})"
    return "error", [ErrorEntry(source=target, message=message)]


def run_processes(
    targets: Sequence[str], options: Options, jobs: int, progress: Progress | None
) -> list[Outcome]:
    """A process pool; when a worker dies, the targets it took down are retried one per fresh
    process, so the crash is pinned on the target that caused it. Ctrl-C stops the workers at
    once (see :mod:`serialscale.run.stopping`).
    """
    from concurrent.futures.process import BrokenProcessPool

    outcomes: list[Outcome | None] = [None] * len(targets)
    broken: list[int] = []
    try:
        with _pool(jobs) as pool:
            futures = [pool.submit(in_worker, outcome_of, t, options) for t in targets]
            for i, future in enumerate(futures):
                try:
                    outcomes[i] = future.result()
                    if progress:
                        progress(1)
                except BrokenProcessPool:
                    broken.append(i)
        for i in broken:
            with _pool(1) as pool:
                try:
                    outcomes[i] = pool.submit(in_worker, outcome_of, targets[i], options).result()
                except BrokenProcessPool:
                    outcomes[i] = _crash(targets[i], "it was killed or exited")
            if progress:
                progress(1)
    except (OSError, RuntimeError):
        # No worker process or thread could start (a process limit, no memory left for a
        # stack): what is left is analyzed here, one target after another, as --jobs 1 does
        # (not a target whose worker died: that could take this process down too).
        for i, outcome in enumerate(outcomes):
            if outcome is None:
                outcomes[i] = (_crash(targets[i], "it was killed or exited") if i in broken
                               else outcome_of(targets[i], options))  # fmt: skip
                if progress:
                    progress(1)
    return [o for o in outcomes if o is not None]


@contextmanager
def _pool(jobs: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``jobs`` workers that ignore Ctrl-C; on ``KeyboardInterrupt`` (or any other
    way out but the end of the work) its workers are stopped at once, not waited for."""
    from concurrent.futures import ProcessPoolExecutor  # only batches with --jobs need it

    pool = ProcessPoolExecutor(max_workers=jobs, initializer=worker_started)
    try:
        yield pool
    except BaseException as exc:
        stop_workers(pool, interrupted=isinstance(exc, KeyboardInterrupt))
        raise
    pool.shutdown(wait=True)


def run_dask(targets: Sequence[str], options: Options, address: str) -> list[Outcome]:
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install 'serialscale[dask]'") from None
    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address at all
        raise UsageError(
            f"--scheduler: cannot reach a Dask scheduler at {address!r}: {exc}"
        ) from None
    try:
        payloads = [_payload(t, options) for t in targets]
        futures = client.map(outcome_on_worker, payloads, options=options, pure=False, retries=0)
        outcomes = []
        for target, future in zip(targets, futures, strict=True):
            try:
                outcomes.append(future.result())
            except Exception as exc:  # KilledWorker and friends: this target's worker died
                outcomes.append(_crash(target, type(exc).__name__))
        return outcomes
    finally:
        client.close()


#: A target as sent to a Dask worker: its name, and the bytes of a file (``None`` for a
#: function target, sent as an absolute path, which the workers must be able to import).
Payload = tuple[str, bytes | None]


def _payload(target: str, options: Options) -> Payload | Outcome:
    """What a worker needs to analyze ``target`` exactly as here: the file's bytes (so
    relative paths and standard input work on any worker), or a function target with its
    file made absolute (for workers that share this file system)."""
    from ..base.reading import read_file, read_input

    if target == "-":
        import sys

        data = read_input(sys.stdin.buffer, "<stdin>", options.limits.max_input_bytes)
        return target, data
    if looks_like_function(target):
        file, sep, func = target.rpartition(":")
        if sep and file.endswith(".py"):
            return str(Path(file).resolve()) + ":" + func, None
        return target, None
    try:
        path = Path(target)
        if path.is_dir() and (path / "build.ninja").is_file():
            return target, None  # a ninja build reads files beside it: a shared file system
        return target, read_file(path, options.limits.max_input_bytes)
    except WorkloadError as exc:
        return "error", error_entries(target, exc)


def outcome_on_worker(payload: Payload | Outcome, options: Options) -> Outcome:
    """:func:`outcome_of` on a Dask worker, from what :func:`_payload` sent."""
    if payload[0] == "error":
        return payload  # type: ignore[return-value]
    target, data = str(payload[0]), payload[1]
    if not isinstance(data, bytes):
        return outcome_of(target, options)
    try:
        from ..sources.registry import read_path
        from ..sources.workload_file import parse_workload

        params = dict(options.params)
        if target == "-":
            workload = parse_workload(
                data, "<stdin>", name="stdin", params=params, limits=options.limits
            )
        else:
            workload = read_path(Path(target), data, params, options.limits, read_options(options))
        return "ok", report_of_workload(workload, options)
    except WorkloadError as exc:
        return "error", error_entries(target, exc)
    except MemoryError:
        return "error", [ErrorEntry(source=target, message="ran out of memory")]
