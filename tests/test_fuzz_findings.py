"""Inputs the fuzzer (``make fuzz``, fuzz/fuzz_loaders.py) found, kept as regression tests:
each must end in a workload, a report or a located error, the same whichever path reads it."""

from __future__ import annotations

import base64
import json

import pytest

from fuzz.targets import read
from serialscale.base.errors import WorkloadError

from .test_validation_paths import _same_everywhere

#: (base64 of the fuzzer's input, what the message must say); the first byte picks the target
#: as in fuzz/targets.py: 0 YAML, 1 JSON, 2 template, 3 saved report.
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
    kind, body = data[0] % 6, data[1:]
    with pytest.raises(WorkloadError) as info:
        read(data)
    assert expected in str(info.value)
    if kind == 1:
        verdict, message = _same_everywhere(body)
        assert verdict == "error" and expected in message


def test_a_control_character_in_a_gitlab_file_is_a_located_error(tmp_path) -> None:
    """Found by tests/test_fuzz_readers.py (1,500 mutations): PyYAML's reader refuses the
    character while the loader is made, before the parse that caught its errors."""
    from pathlib import Path

    from serialscale.sources.registry import ReadOptions, read_path

    with pytest.raises(WorkloadError, match=r"\.gitlab-ci\.yml:3:3: error: not YAML: character "
                                            r"#x0017 is not allowed"):  # fmt: skip
        read_path(Path(".gitlab-ci.yml"), b"test:\n  script: y\n  \x17eeds: [a]\n",
                  options=ReadOptions(fmt="gitlab-ci"))  # fmt: skip


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_an_integer_cost_past_the_largest_float_is_a_located_error(suffix: str) -> None:
    """Found by tests/test_fuzz_readers.py: a 401-digit cost (under the 4,300-digit limit) was
    an OverflowError where the graph turned it into a float."""
    from serialscale.sources.workload_file import parse_workload

    text = ('{"steps": [{"id": "a", "cost": ' + "9" * 401 + "}]}") if suffix == ".json" else \
        "steps:\n  - id: a\n    cost: " + "9" * 401 + "\n"  # fmt: skip
    with pytest.raises(WorkloadError, match=r"larger than the largest float.*\(step 'a'\)"):
        parse_workload(text.encode(), "w" + suffix, is_json=suffix == ".json")


# Found by the hostile pass over the readers of issue 29 (tests first, then the fix).

_CARGO = "<html><script>\nconst UNIT_DATA = {units};\n</script></html>"


@pytest.mark.parametrize(("name", "fmt", "text"), [
    ("cargo-timing.html", "cargo-timings",
     _CARGO.format(units='[{"i": 0, "name": "a\\ud800", "duration": 1}]')),
    ("dry.json", "turbo", '{\n"turboVersion": "2",\n"tasks": [{"taskId": "a\\ud800#b"}]}'),
    ("graph.json", "nx", '{"graph": {"nodes": {"a\\udc00": {}}, "dependencies": {}}}'),
])  # fmt: skip
def test_a_lone_surrogate_in_a_step_name_is_a_located_error(
    tmp_path, run_cli, name: str, fmt: str, text: str
) -> None:
    """A JSON escape such as "\\ud800" in a name read by a foreign reader went through to the
    report, whose writing then failed ('cannot write the result', or an internal error with
    -o)."""
    path = tmp_path / name
    path.write_text(text)
    out = tmp_path / "out.json"
    result = run_cli("analyze", str(path), "--from", fmt, "-f", "json", "-o", str(out))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{path}: error: a step name contains a lone surrogate")
    assert "internal error" not in result.stderr and not out.exists()


_DIGITS = "7" * 4301


@pytest.mark.parametrize(("name", "fmt", "text"), [
    ("cargo-timing.html", "cargo-timings",
     _CARGO.format(units='[{"i": 0, "name": "a", "duration": ' + _DIGITS + "}]")),
    ("aquery.json", "bazel",
     '{"actions": [\n  {"actionKey": "k", "outputIds": [' + _DIGITS + "]}]}"),
])  # fmt: skip
def test_an_integer_of_4301_digits_is_a_located_error(
    tmp_path, run_cli, name: str, fmt: str, text: str
) -> None:
    """The json module refuses such an integer with a ValueError that is no JSONDecodeError:
    the cargo and Bazel readers caught only the latter (an internal error)."""
    path = tmp_path / name
    path.write_text(text)
    line = text.split("\n")[1]
    result = run_cli("analyze", str(path), "--from", fmt)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{path}:2:{line.index('7') + 1}: error: ")
    assert "a number with more than 4,300 digits" in result.stderr
    assert "internal error" not in result.stderr


def test_an_integer_of_4301_digits_in_a_chrome_trace_is_a_located_error(tmp_path, run_cli) -> None:
    """--durations said "not JSON: Exceeds the limit (4300 digits) for integer string
    conversion ...; use sys.set_int_max_str_digits()", unlocated."""
    graph = tmp_path / "g.dot"
    graph.write_text("digraph { a -> b }\n")
    trace = tmp_path / "trace.json"
    trace.write_text('[\n{"name": "a", "ph": "X", "ts": 0, "dur": ' + _DIGITS + "}\n]\n")
    result = run_cli("analyze", str(graph), "--durations", str(trace))
    assert result.exit_code == 2, result.output
    column = trace.read_text().split("\n")[1].index("7") + 1
    assert result.stderr.startswith(f"{trace}:2:{column}: error: --durations: a number with")
    assert "set_int_max_str_digits" not in result.stderr


@pytest.mark.parametrize(("column", "cell", "expected"), [
    ("realtime", "\u00b2", "'\u00b2' is not a duration"),
    ("start", "\u00b2", "'\u00b2' is not a time"),
])  # fmt: skip
def test_a_unicode_digit_in_a_nextflow_trace_is_a_located_error(
    tmp_path, run_cli, column: str, cell: str, expected: str
) -> None:
    """'²'.isdigit() is true but int('²') and float('²') fail: the Nextflow reader took
    the cell for milliseconds and ended in an internal error."""
    graph = tmp_path / "g.dot"
    graph.write_text("digraph { a -> b }\n")
    trace = tmp_path / "trace.txt"
    row = {"name": "a", "realtime": "10", "start": "-"} | {column: cell}
    trace.write_text("name\trealtime\tstart\n" + "\t".join(row.values()) + "\n")
    result = run_cli("analyze", str(graph), "--durations", str(trace))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{trace}:2: error: --durations: {expected}")


def _aquery_chain(depth: int) -> str:
    """An aquery whose one action makes an artifact at the end of ``depth`` path fragments."""
    fragments = [{"id": i, "label": "d", "parentId": i - 1} for i in range(1, depth + 1)]
    return json.dumps({
        "actions": [{"actionKey": "k", "mnemonic": "M", "outputIds": [1]}],
        "artifacts": [{"id": 1, "pathFragmentId": depth}],
        "pathFragments": fragments,
    })  # fmt: skip


def test_a_deep_chain_of_bazel_path_fragments_is_refused_not_quadratic(tmp_path, run_cli) -> None:
    """Each fragment kept its whole path: a chain of n parents held n paths of up to 2n
    characters (40,000 fragments, 1.9 MB of JSON: 1.6 GB and 20 s). A path past PATH_MAX
    is now an error; one under it reads whole."""
    fine = tmp_path / "fine.json"
    fine.write_text(_aquery_chain(2048))  # a path of 4,095 characters
    result = run_cli("analyze", str(fine), "--from", "bazel", "-f", "json", "--detail")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["critical_path"] == ["/".join(["d"] * 2048)]
    deep = tmp_path / "deep.json"
    deep.write_text(_aquery_chain(40_000))
    result = run_cli("analyze", str(deep), "--from", "bazel")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{deep}: error: bazel aquery: the path of path fragment ")
    assert "longer than 4,096 characters (PATH_MAX)" in result.stderr


@pytest.mark.parametrize(("name", "text", "where"), [
    ("azure-pipelines.yml", 'stages:\n- template: "a\\0b.yml"\n', ":2:13:"),
    (".gitlab-ci.yml", 'include:\n  - local: "a\\0b.yml"\nx:\n  script: y\n', ":2:5:"),
    (".github/workflows/ci.yml", 'on: push\njobs:\n  a:\n    uses: "./x\\0.yml"\n', ":4:11:"),
])  # fmt: skip
def test_a_nul_in_a_local_template_path_is_a_located_error(
    tmp_path, run_cli, name: str, text: str, where: str
) -> None:
    """A YAML "\\0" escape in the path of a local template or include reached
    os.path.realpath, whose ValueError ('embedded null byte') was an internal error."""
    (tmp_path / ".git").mkdir()
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{path}{where} error: ")
    assert "holds a NUL character; expected a file path" in result.stderr
