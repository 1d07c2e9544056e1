"""Every ninja entry of the public corpus analyzes (exit 0) with one step per build statement
(counted here by the lines that start with ``build``, in the file and the includes it has),
and a dyndep file's dependencies where the build has one. Skipped without the corpus."""

from __future__ import annotations

import json
import re

import pytest

from serialscale.sources import load_workload

from .foreign_corpus import entries, entry_path


@pytest.mark.parametrize(("entry", "options"), entries(".ninja"))
def test_corpus_ninja_builds_analyze_with_one_step_per_edge(entry: str, options: list[str],
                                                            run_cli) -> None:  # fmt: skip
    path = entry_path(entry)
    result = run_cli("analyze", str(path), *options, "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    text = path.read_text()
    count = len(re.findall(r"^build ", text, re.M))
    for included in re.findall(r"^(?:include|subninja) +(\S+)", text, re.M):
        file = path.parent / included.replace("\\", "/")
        if file.is_file():
            count += len(re.findall(r"^build ", file.read_text(), re.M))
    assert report["steps"] == count
    if (path.parent / ".ninja_log").is_file():
        assert report["unit"] == "seconds"


def test_corpus_dyndep_adds_the_module_dependency() -> None:
    entry = "real3/ninja/qtnixmon/build.ninja"
    if entry not in [e for e, _ in entries(".ninja")]:
        pytest.skip("the corpus (../shared/corpus) is not on this machine")
    w = load_workload(entry_path(entry))
    g = w.graph
    edges = {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)}
    # CXX.dd: main.cpp.o imports the module that meminfo.cppm.o makes (meminfo.pcm)
    assert ("CMakeFiles/QtNixMon.dir/src/core/meminfo.cppm.o",
            "CMakeFiles/QtNixMon.dir/src/main.cpp.o") in edges  # fmt: skip
