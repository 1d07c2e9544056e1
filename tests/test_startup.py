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
