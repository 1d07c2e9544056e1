"""Coverage-guided fuzzing (atheris) of everything that reads untrusted bytes.

Targets, picked by the first input byte:

- the workload loaders, as YAML and as JSON (the JSON fast path through msgspec and the
  compiled repeated-key scan and name resolver, and the checked path);
- templated workloads with parameter overrides;
- the validating reader of saved reports (``gate``, ``--baseline``);
- the compiled JSON scan on its own;
- the plain-YAML fast reader against PyYAML (a disagreement is a finding);
- the foreign readers: GitHub Actions, GitLab CI, ninja, DOT; cargo timings pages, make
  databases, Bazel aquery JSON (seeds: fuzz/seeds/foreign_*).

Every input must end in a workload, a report or a located ``WorkloadError``; anything else
(another exception, a crash, a sanitizer report) is a finding. ``make fuzz`` runs it; turn
every finding into a regression test (``tests/test_fuzz_findings.py``).

    python fuzz/fuzz_loaders.py -max_total_time=600 fuzz/corpus
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from targets import read  # fuzz/ is sys.path[0] when this file runs

    from serialscale.base.errors import WorkloadError


def one_input(data: bytes) -> None:
    with contextlib.suppress(WorkloadError):  # a located error is a right answer
        read(data)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
