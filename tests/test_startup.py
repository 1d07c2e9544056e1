"""How the command starts (issue #23, part 3): the guess that starts a traced function's
process before the options are parsed, and the parsers typer builds on demand. Timing is
measured in benchmarks/, never asserted here."""

from __future__ import annotations

import sys

import pytest
import typer.main

from serialscale.cli import app as cli_app
from serialscale.cli.entry import _function_target


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["analyze", "a.py:f", "-f", "json"], "a.py:f"),
        (["analyze", "-f", "json", "pkg.mod:run", "--timeout", "3"], "pkg.mod:run"),
        (["analyze", "a.py:Cls.method"], "a.py:Cls.method"),
        (["analyze", "a.py:f", "b.py:g"], None),  # a batch: no one target
        (["analyze", "ci.yaml"], None),
        (["analyze", "--param", "n=a.py:f", "ci.yaml"], None),
        (["analyze", "a.py:f", "-j", "2"], None),  # workers
        (["analyze", "a.py:f", "--jobs=2"], None),
        (["analyze", "a.py:f", "--plot", "x.svg"], None),
        (["analyze", "a.py:f", "--help"], None),
        (["scale", "a.py:f", "--sweep", "n=1..4"], None),
        (["analyze"], None),
        ([], None),
    ],
)
def test_the_traced_function_is_guessed_before_parsing(argv: list[str], expected: str | None
                                                        ) -> None:  # fmt: skip
    assert _function_target(argv) == expected


def test_only_the_invoked_commands_parser_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building every parser (as typer does) and building the invoked one only (the others
    when first looked at) give the same parsers."""
    original = typer.main.get_command_from_info
    every = typer.main.get_command(cli_app.app).commands  # type: ignore[attr-defined]
    monkeypatch.setattr(sys, "argv", ["serialscale", "gate", "report.json"])
    with cli_app._built_when_used():
        lazy = typer.main.get_command(cli_app.app).commands  # type: ignore[attr-defined]
    assert sorted(lazy) == sorted(every) and len(every) == 8
    assert not isinstance(lazy["gate"], cli_app._Later)
    later = [name for name, command in lazy.items() if isinstance(command, cli_app._Later)]
    assert sorted(later) == sorted(set(every) - {"gate"})
    for name, command in every.items():
        assert [p.name for p in lazy[name].params] == [p.name for p in command.params]
        assert lazy[name].help == command.help
    assert typer.main.get_command_from_info is original  # restored after the run


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["analyze", "x.yaml"], "analyze"),
        (["render", "r.json", "-f", "markdown"], "render"),
        (["analyze", "--help"], None),  # help lists every command's options
        (["-h"], None),
        (["--version"], None),
        (["analyz", "x"], None),  # click suggests from every name
        ([], None),
    ],
)
def test_which_parser_is_built_first(argv: list[str], expected: str | None,
                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.delenv("_SERIALSCALE_COMPLETE", raising=False)
    assert cli_app._only(argv) == expected
    monkeypatch.setenv("_SERIALSCALE_COMPLETE", "complete_bash")  # completion: all
    assert cli_app._only(argv) is None


def _typer_values(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> dict | None:
    """The values typer's command line gives ``analyze`` for ``argv`` (``None``: it refused
    them, or ran another command)."""
    from serialscale.cli import commands

    seen: list[dict] = []

    def configured(ctx, command, values):
        seen.append(dict(values))
        raise SystemExit(0)

    monkeypatch.setattr(commands, "configured", configured)
    monkeypatch.setattr(sys, "argv", ["serialscale", *argv])
    with pytest.raises(SystemExit):
        cli_app.main()
    return seen[0] if seen else None


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "a.py:f"],
        ["analyze", "a.py:f", "--format", "json"],
        ["analyze", "-f", "markdown", "pkg.mod:run"],
        ["analyze", "a.py:Cls.method", "--format=csv", "-f", "json"],
        ["analyze", "a.py:f", "-f", "concise"],
    ],
)
def test_the_quick_path_gives_the_command_what_typer_gives(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``analyze FILE.py:FUNC [--format F]`` runs without typer (:mod:`serialscale.cli.quick`):
    the values it gives the command are typer's, defaults included."""
    from serialscale.cli import quick

    monkeypatch.delenv("_SERIALSCALE_COMPLETE", raising=False)
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    ours = quick.values(argv)
    theirs = _typer_values(argv, monkeypatch)
    assert ours is not None and theirs is not None
    assert ours.pop("ctx") is None and theirs.pop("ctx") is not None
    assert ours == theirs
    assert [type(v) for v in ours.values()] == [type(v) for v in theirs.values()]


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "a.py:f", "-f", "jsn"],  # typer says what is wrong
        ["analyze", "a.py:f", "-f"],
        ["analyze", "a.py:f", "--format="],
        ["analyze", "a.py:f", "-fjson"],  # typer's spellings beyond the quick path's
        ["analyze", "a.py:f", "--processors", "3"],
        ["analyze", "a.py:f", "-q"],
        ["analyze", "a.py:f", "--help"],
        ["analyze", "--", "a.py:f"],
        ["analyze", "a.py:f", "b.py:g"],
        ["analyze", "ci.yaml"],
        ["analyze", "a.py:f", "ci.yaml"],
        ["analyze"],
        ["scale", "a.py:f"],
        ["gate", "a.py:f"],
        [],
    ],
)
def test_other_command_lines_go_to_typer(argv: list[str], monkeypatch: pytest.MonkeyPatch
                                         ) -> None:  # fmt: skip
    from serialscale.cli import quick

    monkeypatch.delenv("_SERIALSCALE_COMPLETE", raising=False)
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert quick.values(argv) is None
    monkeypatch.setenv("_SERIALSCALE_COMPLETE", "complete_bash")
    assert quick.values(["analyze", "a.py:f"]) is None
    monkeypatch.delenv("_SERIALSCALE_COMPLETE")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://x:1")
    assert quick.values(["analyze", "a.py:f"]) is None


def test_a_configuration_file_sends_the_quick_path_to_typer(tmp_path, monkeypatch) -> None:
    """The quick path has no parser to check a configuration file's keys against: a run that
    finds one is typer's, from the start (nothing was done yet)."""
    from serialscale.cli import commands, quick

    (tmp_path / "a.py").write_text("def f():\n    return 1\n")
    (tmp_path / "serialscale.toml").write_text("processors = 3\n")
    ran: list[object] = []
    monkeypatch.setattr(commands, "run_analyze", lambda v: ran.append(v) or 0)
    monkeypatch.chdir(tmp_path)
    assert quick.run(["analyze", "a.py:f"]) is None  # returned: typer's turn
    assert ran == []
    (tmp_path / "serialscale.toml").unlink()
    with pytest.raises(SystemExit) as info:
        quick.run(["analyze", "a.py:f"])
    assert info.value.code == 0 and len(ran) == 1
