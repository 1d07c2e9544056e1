"""Inputs the fuzzer (``make fuzz``, fuzz/fuzz_loaders.py) found, kept as regression tests:
each must end in a workload, a report or a located error, the same whichever path reads it."""

from __future__ import annotations

import base64

import pytest

from serialscale.errors import WorkloadError
from serialscale.limits import Limits
from serialscale.report import parse_reports
from serialscale.sources.workload_file import parse_workload

from .test_validation_paths import _same_everywhere

LIMITS = Limits(max_steps=20_000, max_dependencies=100_000)

#: (base64 of the fuzzer's input, what the message must say); the first byte picks the target
#: as in fuzz/fuzz_loaders.py: 0 YAML, 1 JSON, 2 template, 3 saved report.
FINDINGS = [
    # msgspec raised UnicodeDecodeError (not its DecodeError) for bad UTF-8 inside a key
    ("AXsic3RlcHMiOiBbeyJcdTAwNjlkwiI6ICJhIiwgImNvc3QiOiAxLjV9XX0=", "not valid UTF-8"),
    # the same, in the reader of saved reports
    (
        "A3sic2NoZW1hX3ZlcnNpb24iOiAxLCAid29ya2xvYWQiOiAidyIsICJzb3VyY2UiOiBudWxsLCAic3RlcHMiOiAx"
        "LCAiZGVwZf////////////9uZGVuY2llcyI6IDAsICJ3b3JrIjogMX0=",
        "1:73: error: not a JSON report: not valid UTF-8 (byte 0xff)",
    ),
]


@pytest.mark.parametrize(("encoded", "expected"), FINDINGS)
def test_fuzzer_findings_end_in_located_errors(encoded: str, expected: str) -> None:
    data = base64.b64decode(encoded)
    kind, body = data[0] % 5, data[1:]
    with pytest.raises(WorkloadError) as info:
        if kind == 0:
            parse_workload(body, "fuzz.yaml", limits=LIMITS)
        elif kind == 1:
            parse_workload(body, "fuzz.json", is_json=True, limits=LIMITS)
        elif kind == 2:
            split = body.find(b"\n")
            text = b"params: {n: 2, m: 1}\nsteps:\n" + body[split + 1 :]
            value = body[:split].decode("utf-8", "replace")
            parse_workload(text, "fuzz.yaml", params={"n": value}, limits=LIMITS)
        else:
            parse_reports(body, "fuzz-report.json")
    assert expected in str(info.value)
    if kind == 1:
        verdict, message = _same_everywhere(body)
        assert verdict == "error" and expected in message
