"""The validation result as JSON, a terminal table and self-contained HTML."""

from __future__ import annotations

import json
import re

import polars as pl

from steward.data import ValidationResult, parse_suite, validate

SUITE = parse_suite("name: s\ncolumns:\n  a: {min: 0, nullable: false}\n  b: {allowed: [x]}\nchecks:\n  - {check: pii}\n")
FRAME = pl.DataFrame({"a": [1, -5, None], "b": ["x", "<script>alert(1)</script>", "x"], "e": ["a@b.io", "", ""]})


def test_the_json_form_is_strict_and_round_trips() -> None:
    result = validate(FRAME, SUITE, dataset="file.csv")
    text = result.to_json()
    doc = json.loads(text)
    assert doc["passed"] is False and doc["summary"] == {"checks": 6, "passed": 2, "failed_errors": 3, "failed_warnings": 1}
    again = ValidationResult.from_dict(doc)
    assert again.to_dict() == doc
    rng = [c for c in doc["checks"] if c["name"] == "range"][0]
    assert rng["counts"] == {"element_count": 2, "unexpected_count": 1, "unexpected_share": 0.5}
    assert rng["examples"] == [{"value": -5, "count": 1}]


def test_the_html_report_is_self_contained_and_escapes_data() -> None:
    html = validate(FRAME, SUITE, dataset="file.csv").to_html()
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert not re.search(r"(?:src|href)\s*=", html), "no external (or any) linked assets"
    assert "http://" not in html and "https://" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "FAILED" in html


def test_table_rows_mark_errors_warnings_and_passes() -> None:
    rows = validate(FRAME, SUITE).table_rows()
    assert [r[0] for r in rows] == ["ok", "FAIL", "FAIL", "ok", "FAIL", "warn"]
    assert "-5 (1)" in rows[2][6]
