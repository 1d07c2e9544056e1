"""Every cargo timings page, make database and Bazel aquery file of the public corpus analyzes
(exit 0) with the step count its own data implies: a unit per UNIT_DATA entry (two for a unit
waited for as metadata), an action per aquery action (besides the dep-set connectors), a
target per make entry that is one. Skipped without the corpus, or while it has none."""

from __future__ import annotations

import json
import re

import pytest

from .foreign_corpus import entries, entry_path


@pytest.mark.parametrize(("entry", "options"), entries("cargo-timing"))
def test_corpus_cargo_pages_analyze_with_a_step_per_unit(entry: str, options: list[str],
                                                         run_cli) -> None:  # fmt: skip
    path = entry_path(entry)
    result = run_cli("analyze", str(path), *options, "-f", "json")
    assert result.exit_code == 0, result.stderr
    text = path.read_text()
    units, _ = json.JSONDecoder().raw_decode(text, text.index("const UNIT_DATA = ") + 18)
    split = sum(1 for u in units if u.get("unblocked_rmeta_units", u.get("unlocked_rmeta_units")))
    assert json.loads(result.stdout)["steps"] == len(units) + split


@pytest.mark.parametrize(("entry", "options"), entries("aquery"))
def test_corpus_aquery_files_analyze_with_a_step_per_action(entry: str, options: list[str],
                                                            run_cli) -> None:  # fmt: skip
    path = entry_path(entry)
    result = run_cli("analyze", str(path), "--from", "bazel", *options, "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    actions = json.loads(path.read_text()).get("actions", [])
    assert report["steps"] - len(report.get("connectors", [])) == len(actions)


@pytest.mark.parametrize(("entry", "options"), entries("make-db", "make_db"))
def test_corpus_make_databases_analyze_with_a_step_per_target(entry: str, options: list[str],
                                                              run_cli) -> None:  # fmt: skip
    path = entry_path(entry)
    result = run_cli("analyze", str(path), "--from", "make", *options, "-f", "json")
    assert result.exit_code == 0, result.stderr
    files = path.read_text().split("\n# Files\n", 1)[1].split("\n# files hash-table", 1)[0]
    targets = set()
    for block in re.split(r"\n\s*\n", files):
        lines = [x for x in block.split("\n") if x and not x.startswith(("#", "\t"))]
        if lines and "# Not a target:" not in block and not lines[-1].startswith("."):
            targets.add(re.split(r"::?(?=\s|$)", lines[-1], maxsplit=1)[0])
    report = json.loads(result.stdout)
    assert report["steps"] - len(report.get("connectors", [])) <= len(targets)
