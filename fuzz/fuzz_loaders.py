"""Coverage-guided fuzzing (atheris) of everything that reads untrusted bytes.

Targets, picked by the first input byte:

- the workload loaders, as YAML and as JSON (the JSON fast path through msgspec and the
  compiled repeated-key scan and name resolver, and the checked path);
- templated workloads with parameter overrides;
- the validating reader of saved reports (``gate``, ``--baseline``);
- the compiled JSON scan on its own.

Every input must end in a workload, a report or a located ``WorkloadError``; anything else
(another exception, a crash, a sanitizer report) is a finding. ``make fuzz`` runs it; turn
every finding into a regression test (``tests/test_fuzz_findings.py``).

    python fuzz/fuzz_loaders.py -max_total_time=600 fuzz/corpus
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from serialscale import kernels
    from serialscale.errors import WorkloadError
    from serialscale.limits import Limits
    from serialscale.report import parse_reports
    from serialscale.sources.workload_file import parse_workload

LIMITS = Limits(max_steps=20_000, max_dependencies=100_000, max_ops=100_000)


def one_input(data: bytes) -> None:
    if not data:
        return
    kind, body = data[0] % 5, data[1:]
    try:
        if kind == 0:
            parse_workload(body, "fuzz.yaml", limits=LIMITS)
        elif kind == 1:
            parse_workload(body, "fuzz.json", is_json=True, limits=LIMITS)
        elif kind == 2:
            split = body.find(b"\n")
            value = body[:split].decode("utf-8", "replace") if split >= 0 else "3"
            text = b"params: {n: 2, m: 1}\nsteps:\n" + body[split + 1 :]
            parse_workload(text, "fuzz.yaml", params={"n": value}, limits=LIMITS)
        elif kind == 3:
            parse_reports(body, "fuzz-report.json")
        else:
            fast = kernels.select()
            if fast is not None:
                fast.json_duplicate_key(body)
    except WorkloadError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
