"""Regressions from a hostile-input pass over spans, array tracing, plots and the CLI: each
test failed before its fix."""

from __future__ import annotations

import re
from pathlib import Path

from serialscale.base.words import times


def test_huge_speedups_are_written_with_an_exponent_not_hundreds_of_digits(
    tmp_path: Path, run_cli
) -> None:
    # A step of work 1e300 and span 1e-300 gives a ceiling of 1e300 / 50 = 2e298: before, the
    # headline and the table wrote all 299 digits of it with two decimals.
    path = tmp_path / "w.yaml"
    path.write_text("unit: minutes\nsteps:\n  - {id: a, cost: 80, span: 10}\n"
                    "  - {id: b, cost: 40, needs: [a]}\n"
                    "  - {id: d, cost: 1.0e+300, span: 1.0e-300, needs: [b]}\n")  # fmt: skip
    result = run_cli("analyze", str(path), "--color", "never")
    assert result.exit_code == 0, result.stderr
    assert not re.search(r"\d{20}", result.stdout), result.stdout
    ceiling = 1e300 / (10 + 40 + 1e-300)
    assert f"the ceiling is {ceiling:.3g}x" in " ".join(result.stdout.split())
    assert "2e+298x" in result.stdout


def test_times_keeps_two_decimals_below_a_million() -> None:
    assert times(3.0) == "3.00x" and times(999_999.0) == "999999.00x"
    assert times(17_179_869_184.0) == "1.72e+10x"
