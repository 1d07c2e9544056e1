"""Numbers people type (--what-if, --target-depth, duration costs): ASCII decimals only."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from serialscale.base.words import duration_seconds, not_a_number, plain_number
from serialscale.core.compress import parse_target


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_written_by_python_reads_back_exactly(x: float) -> None:
    assert plain_number(repr(x)) == x


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_a_whole_number_stays_whole(n: int) -> None:
    value = plain_number(str(n))
    assert isinstance(value, int) and value == n


def test_what_python_would_take_but_a_person_did_not_mean() -> None:
    # int() and float() accept all of these; none is a plain number
    for text in ("1_000", "１", "٣", "inf", "nan", "-inf", "1e999", "", " ", "+", "e3", "1e", "."):
        assert plain_number(text) is None, text
    assert plain_number("5.") == 5.0 and plain_number(".5") == 0.5 and plain_number("1e3") == 1000.0


def test_a_refused_number_is_named_for_what_is_wrong_with_it() -> None:
    # '1_000' and '٣' are finite to float(): blaming "finite" sent people the wrong way
    spelling = "a number written with ASCII digits and no underscores"
    for text in ("1_000", "٣", "１０", " 1_0 "):
        assert not_a_number(text) == spelling, text
    for text in ("inf", "nan", "-inf", "1e999"):
        assert not_a_number(text) == "a finite number", text
    for text in ("abc", "", "1..2", "e3"):
        assert not_a_number(text) == "a number", text


def test_a_target_depth_takes_plain_numbers_only() -> None:
    assert parse_target("-20%", 34) == 27.2
    assert parse_target("27.5", 34) == 27.5
    for text in ("1_0", "２０", "-２０%", "nan", "inf%"):
        try:
            parse_target(text, 34)
        except ValueError:
            continue
        raise AssertionError(f"{text!r} was taken")


def test_a_duration_with_a_digit_float_cannot_read_is_not_a_duration() -> None:
    # '²'.isdigit() is True and float('²') raises: this was an internal error
    assert duration_seconds("²s") is None
    assert duration_seconds("１s") is None
    assert duration_seconds("1h30m") == 5400.0
    assert math.isclose(duration_seconds("250ms") or 0, 0.25)


def test_a_superscript_cost_is_a_located_error(tmp_path, run_cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "w.yaml"
    path.write_text('steps:\n  - id: a\n    cost: "²s"\n', encoding="utf-8")
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2
    assert "w.yaml:3:" in result.stderr and "internal error" not in result.stderr


@given(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            ["1_000", "٣", "１０", "1e3", "+7", "inf", "nan", "1e999", " 12 ", "2.5", "-4"]
        ),
    )
)
def test_every_flag_that_takes_a_number_reads_it_as_plain_number(text: str) -> None:
    """--sweep, --predict and --max-input-size take the numbers --param, --what-if and
    --target-depth take: one parser (they used int()/float(), which take '1_000' and '٣')."""
    from serialscale.cli.commands import CommandError, parse_predict, parse_size
    from serialscale.cli.options import parse_sweep

    expected = plain_number(text)
    if "," not in text and ".." not in text and expected not in (1000001, 1000002):
        try:
            got: object = parse_sweep(f"n={text},1000001,1000002")[1][0]
        except ValueError:
            got = None
        assert got == expected and type(got) is type(expected), (text, got)
    try:
        at: float | None = parse_predict(f"n={text}", "n")
    except CommandError:
        at = None
    assert at == (expected if expected is not None and expected > 0 else None), (text, at)
    if not text.strip().upper().endswith(("K", "M", "G", "T", "B", "I")):
        try:
            size: int | None = parse_size(text)
        except CommandError:
            size = None
        fits = expected is not None and 1 <= expected < 2**62
        assert size == (int(expected) if fits else None), (text, size)  # type: ignore[arg-type]


def test_a_sweep_range_takes_plain_integers_only() -> None:
    from serialscale.cli.options import parse_sweep

    assert parse_sweep("n=8..32") == ("n", [8, 16, 32])
    for spec in ("n=1_0..64", "n=٨..64", "n=8..6_4", "n=8.0..64"):
        try:
            parse_sweep(spec)
        except ValueError:
            continue
        raise AssertionError(f"{spec!r} was taken")
