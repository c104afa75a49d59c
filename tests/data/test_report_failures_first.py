"""The validation report leads with what failed: failure cards (examples as tables, charts) before
the folded passes, per-column histograms with the expected range from a profile, no links."""

from __future__ import annotations

import re

import polars as pl

from steward.data import parse_suite, profile, validate

COLUMNS = {f"ok{i}": {"min": 0, "max": 100} for i in range(40)}


def _frame() -> pl.DataFrame:
    data: dict[str, list[object]] = {name: [i % 100 for i in range(200)] for name in COLUMNS}
    data["amount"] = [float(i) for i in range(-5, 195)]  # five values below the minimum
    data["colour"] = ["red", "green", "blue", "mauve"] * 50  # mauve is not allowed
    return pl.DataFrame(data)


def _suite() -> str:
    lines = ["name: wide", "columns:"]
    lines += [f"  {name}: {{min: 0, max: 100}}" for name in COLUMNS]
    lines += ["  amount: {min: 0, max: 200}", "  colour: {allowed: [red, green, blue]}"]
    return "\n".join(lines) + "\n"


def _outside_details(page: str) -> str:
    return re.sub(r"<details.*?</details>", "", page, flags=re.DOTALL)


def test_failures_lead_and_passes_are_folded() -> None:
    result = validate(_frame(), parse_suite(_suite()), dataset="wide.csv")
    failures = [c for c in result.checks if not c.passed]
    assert {(c.name, c.column) for c in failures} == {("range", "amount"), ("allowed", "colour")}
    page = result.to_html()
    first_failure = page.index("What failed (2)")
    assert first_failure < page.index("Passed (")
    assert page.index("<code>range</code> on amount") < page.index("Passed (")
    assert page.index("<code>allowed</code> on colour") < page.index("Passed (")
    # the passes exist, but only inside the folded section
    visible = _outside_details(page)
    assert "ok7" not in visible and "ok7" in page
    assert re.search(r"<details><summary>\d+ passed checks</summary>", page)


def test_examples_are_tables_not_raw_json() -> None:
    page = validate(_frame(), parse_suite(_suite()), dataset="wide.csv").to_html()
    assert '[{"value"' not in page and "&quot;value&quot;" not in page and "<pre>" not in page
    assert "<th>value</th><th>count</th>" in page
    assert "<td>mauve</td>" in page and "<td>-5</td>" in page


def test_charts_draw_the_expected_range_and_category_bars() -> None:
    frame = _frame()
    result = validate(frame, parse_suite(_suite()), dataset="wide.csv")
    without = result.to_html()
    assert 'class="band"' in without  # observed span against the expected range, even with no profile
    page = result.to_html(profile(frame))
    assert "amount: distribution (bars), expected range shaded" in page
    assert page.count('class="limit"') >= 2 and '<rect class="bad"' in page  # bins below the minimum in red
    assert "colour: most frequent values (red: unexpected)" in page
    assert "<title>mauve: 50</title>" in page
    assert "Distributions of 42 columns" in page


def test_the_report_is_self_contained_and_follows_the_system_theme() -> None:
    page = validate(_frame(), parse_suite(_suite()), dataset="wide.csv").to_html(profile(_frame()))
    assert not re.search(r"""(src|href)\s*=""", page)
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "prefers-color-scheme: dark" in page


def test_a_passing_report_says_so() -> None:
    frame = pl.DataFrame({"x": [1, 2, 3]})
    page = validate(frame, parse_suite("name: s\ncolumns:\n  x: {min: 0}\n")).to_html()
    assert "Every check passed." in page and "What failed" not in page
