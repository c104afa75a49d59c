"""Every check, with data that passes it and data that fails it (real polars frames)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from steward.data import CheckResult, parse_suite, validate
from steward.data._pii import iban_is_valid, luhn_is_valid


def run(yaml_text: str, frame: pl.DataFrame) -> list[CheckResult]:
    return list(validate(frame, parse_suite("name: t\n" + yaml_text)).checks)


def only(results: list[CheckResult], name: str) -> CheckResult:
    (found,) = [r for r in results if r.name == name]
    return found


def test_row_count_bounds_pass_inside_and_fail_outside() -> None:
    frame = pl.DataFrame({"a": range(10)})
    assert only(run("rows: {min: 5, max: 10}", frame), "row_count").passed
    failed = only(run("rows: {min: 11}", frame), "row_count")
    assert not failed.passed and failed.observed == 10 and "between 11" in failed.expected


def test_a_present_column_passes_and_a_missing_one_fails_naming_the_suite_line_and_similar_names() -> None:
    frame = pl.DataFrame({"amount": [1.0]})
    assert only(run("columns:\n  amount: {}\n", frame), "present").passed
    results = run("columns:\n  amout: {type: float, min: 0}\n", frame)
    present = only(results, "present")
    assert not present.passed and "line 3" in present.message and present.examples == ("amount",)
    assert not only(results, "type").evaluated and "missing" in only(results, "type").message
    assert only(run("columns:\n  extra: {required: false}\n", frame), "present").passed


def test_type_checks_pass_for_matching_families_and_show_the_values_of_a_mixed_column() -> None:
    frame = pl.DataFrame({"i": [1, 2], "f": [1.0, 2.0], "s": ["a", "b"], "d": [dt.date(2024, 1, 1)] * 2})
    results = run("columns:\n  i: {type: integer}\n  f: {type: number}\n  s: {type: string}\n  d: {type: date}\n", frame)
    assert all(r.passed for r in results)
    mixed = pl.DataFrame({"amount": ["1.5", "2", "abc", None, "n/a"]})  # how a mixed CSV column loads
    failed = only(run("columns:\n  amount: {type: float}\n", mixed), "type")
    assert not failed.passed and failed.observed == "string"
    assert failed.counts["unexpected_count"] == 2 and failed.counts["element_count"] == 4
    assert {e["value"] for e in failed.examples} == {"abc", "n/a"}


def test_not_null_passes_without_nulls_and_fails_listing_the_rows() -> None:
    assert only(run("columns:\n  a: {nullable: false}\n", pl.DataFrame({"a": [1, 2]})), "not_null").passed
    failed = only(run("columns:\n  a: {nullable: false}\n", pl.DataFrame({"a": [1, None, 3, None]})), "not_null")
    assert not failed.passed and failed.counts["missing_count"] == 2 and failed.counts["missing_share"] == 0.5
    assert failed.examples == ({"row": 1}, {"row": 3})


def test_max_missing_share_tolerates_up_to_the_bound_and_reports_an_all_null_column() -> None:
    frame = pl.DataFrame({"a": [1, None, 3, 4]})
    assert only(run("columns:\n  a: {max_missing: 0.25}\n", frame), "max_missing").passed
    assert not only(run("columns:\n  a: {max_missing: 0.2}\n", frame), "max_missing").passed
    all_null = only(run("columns:\n  a: {max_missing: 0.5}\n", pl.DataFrame({"a": [None, None]}, schema={"a": pl.Float64})), "max_missing")
    assert not all_null.passed and "every value is missing" in all_null.message


def test_numeric_ranges_pass_inside_and_fail_with_counts_and_the_offending_values() -> None:
    assert only(run("columns:\n  a: {min: 0, max: 10}\n", pl.DataFrame({"a": [0, 5, 10]})), "range").passed
    failed = only(run("columns:\n  a: {min: 0, max: 10}\n", pl.DataFrame({"a": [-1, 5, 11, 11, None]})), "range")
    assert not failed.passed
    assert failed.counts["unexpected_count"] == 3 and failed.counts["element_count"] == 4
    assert failed.examples[0] == {"value": 11, "count": 2}
    assert failed.observed == {"min": -1, "max": 11}


def test_date_ranges_accept_iso_bounds() -> None:
    frame = pl.DataFrame({"d": [dt.date(2024, 1, 1), dt.date(2024, 6, 1)]})
    assert only(run("columns:\n  d: {min: '2024-01-01', max: '2024-12-31'}\n", frame), "range").passed
    assert not only(run("columns:\n  d: {min: '2024-02-01'}\n", frame), "range").passed


def test_a_range_on_a_text_column_is_reported_as_not_evaluated_not_as_passed() -> None:
    failed = only(run("columns:\n  a: {min: 0}\n", pl.DataFrame({"a": ["x"]})), "range")
    assert not failed.passed and not failed.evaluated and "needs numbers" in failed.message


def test_allowed_categories_pass_and_fail_with_counts_of_new_values() -> None:
    ok = pl.DataFrame({"c": ["a", "b", None]})
    assert only(run("columns:\n  c: {allowed: [a, b]}\n", ok), "allowed").passed
    bad = pl.DataFrame({"c": ["a"] * 97 + ["z", "z", "y"]})
    failed = only(run("columns:\n  c: {allowed: [a, b]}\n", bad), "allowed")
    assert not failed.passed and failed.counts["unexpected_count"] == 3
    assert failed.examples[0] == {"value": "z", "count": 2}
    assert only(run("columns:\n  c: {allowed: [a, b], max_new_share: 0.05}\n", bad), "allowed").passed


def test_allowed_works_on_categorical_columns_and_numbers() -> None:
    frame = pl.DataFrame({"c": pl.Series(["a", "b"], dtype=pl.Categorical), "n": [1, 2]})
    results = run("columns:\n  c: {allowed: [a]}\n  n: {allowed: [1, 2]}\n", frame)
    assert [r.passed for r in results if r.name == "allowed"] == [False, True]


def test_unique_passes_for_distinct_values_and_fails_showing_the_repeats() -> None:
    assert only(run("columns:\n  id: {unique: true}\n", pl.DataFrame({"id": [1, 2, 3]})), "unique").passed
    failed = only(run("columns:\n  id: {unique: true}\n", pl.DataFrame({"id": [1, 2, 2, 3, 3, 3]})), "unique")
    assert not failed.passed and failed.counts["unexpected_count"] == 3
    assert failed.examples[0] == {"value": 3, "count": 3}


def test_compound_keys_pass_when_the_combination_is_unique_and_fail_otherwise() -> None:
    frame = pl.DataFrame({"a": [1, 1, 2], "b": ["x", "y", "x"]})
    assert only(run("checks:\n  - {check: key, columns: [a, b]}\n", frame), "key").passed
    dup = pl.concat([frame, frame.head(1)])
    failed = only(run("checks:\n  - {check: key, columns: [a, b]}\n", dup), "key")
    assert not failed.passed and failed.column == "a+b" and failed.examples[0]["value"] == {"a": 1, "b": "x"}


def test_duplicate_row_share_passes_under_the_bound_and_fails_above_it() -> None:
    frame = pl.DataFrame({"a": [1, 1, 2, 3], "b": ["x", "x", "y", "z"]})
    assert only(run("checks:\n  - {check: duplicate_rows, max_share: 0.25}\n", frame), "duplicate_rows").passed
    failed = only(run("checks:\n  - {check: duplicate_rows}\n", frame), "duplicate_rows")
    assert not failed.passed and failed.counts["unexpected_share"] == 0.25


LABELS = "checks:\n  - {check: label, column: y, allowed: [0, 1], min_share: 0.3, max_share: 0.7, features: [f]}\n"


def test_label_checks_pass_on_clean_balanced_labels() -> None:
    frame = pl.DataFrame({"f": [1, 2, 3, 4], "y": [0, 1, 0, 1]})
    results = run(LABELS, frame)
    assert [r.name for r in results] == ["label_values", "class_balance", "label_conflicts"]
    assert all(r.passed for r in results)


def test_label_checks_fail_on_unknown_labels_imbalance_and_conflicting_rows() -> None:
    frame = pl.DataFrame({"f": [1, 1, 2, 3, 4], "y": [0, 1, 1, 1, 2]})
    results = run(LABELS, frame)
    values, balance, conflicts = (only(results, n) for n in ("label_values", "class_balance", "label_conflicts"))
    assert not values.passed and values.examples[0]["value"] == 2
    assert not balance.passed and {e["value"] for e in balance.examples} == {"0", "2"}
    assert not conflicts.passed and conflicts.counts["rows_in_conflict"] == 2
    assert conflicts.examples[0]["f"] == 1 and conflicts.examples[0]["labels"] == [0, 1]


def test_leakage_flags_a_feature_that_mirrors_the_target_and_passes_honest_features() -> None:
    n = 200
    honest = pl.DataFrame({"noise": [(i * 7919) % 13 for i in range(n)], "y": [i % 2 for i in range(n)]})
    assert only(run("checks:\n  - {check: leakage, target: y}\n", honest), "leakage").passed
    leaky = honest.with_columns(copy=pl.col("y") * 3.0 + 1.0, code=pl.when(pl.col("y") == 1).then(pl.lit("yes")).otherwise(pl.lit("no")))
    failed = only(run("checks:\n  - {check: leakage, target: y}\n", leaky), "leakage")
    assert not failed.passed
    assert {e["feature"] for e in failed.examples} == {"copy", "code"}
    assert failed.observed["copy"]["abs_correlation"] == pytest.approx(1.0)
    assert failed.observed["code"]["normalized_mutual_information"] == pytest.approx(1.0)


def test_split_overlap_passes_for_disjoint_splits_and_fails_for_shared_rows() -> None:
    frame = pl.DataFrame({"x": [1, 2, 3, 4], "split": ["train", "train", "test", "test"]})
    assert only(run("checks:\n  - {check: split_overlap, split_column: split}\n", frame), "split_overlap").passed
    leaked = pl.DataFrame({"x": [1, 2, 2, 4], "split": ["train", "train", "test", "test"]})
    failed = only(run("checks:\n  - {check: split_overlap, split_column: split}\n", leaked), "split_overlap")
    assert not failed.passed and failed.counts["unexpected_count"] == 1 and failed.examples == ({"x": 2},)


def test_time_split_passes_when_test_follows_train_and_fails_when_it_precedes() -> None:
    days = [dt.date(2024, 1, d) for d in (1, 2, 3, 4)]
    ok = pl.DataFrame({"t": days, "split": ["train", "train", "test", "test"]})
    spec = "checks:\n  - {check: time_split, split_column: split, time_column: t}\n"
    assert only(run(spec, ok), "time_split").passed
    bad = pl.DataFrame({"t": days, "split": ["train", "test", "train", "test"]})
    failed = only(run(spec, bad), "time_split")
    assert not failed.passed and failed.counts["unexpected_count"] == 1
    assert failed.examples[0]["value"] == "2024-01-02"


def test_pii_passes_on_plain_text_and_warns_on_emails_phones_cards_and_ibans() -> None:
    clean = pl.DataFrame({"note": ["hello", "order 12345", "card 4111 1111 1111 1112"]})  # last fails Luhn
    assert only(run("checks:\n  - {check: pii}\n", clean), "pii").passed
    dirty = pl.DataFrame(
        {"note": ["mail me at ann@example.org", "call +49 30 1234567", "pay 4111 1111 1111 1111", "IBAN DE89 3704 0044 0532 0130 00"]}
    )
    failed = only(run("checks:\n  - {check: pii}\n", dirty), "pii")
    assert not failed.passed and failed.severity == "warning"
    assert failed.observed == {"note": {"email": 1, "phone": 1, "card": 1, "iban": 1}}
    assert all("*" in e["value"] for e in failed.examples)  # shown masked


def test_a_failed_warning_does_not_fail_the_validation() -> None:
    result = validate(pl.DataFrame({"e": ["a@b.io"]}), parse_suite("name: t\nchecks:\n  - {check: pii}\n"))
    assert result.passed and len(result.failures) == 1


def test_checksums_reject_lookalikes() -> None:
    assert luhn_is_valid("4111 1111 1111 1111") and not luhn_is_valid("4111 1111 1111 1112")
    assert iban_is_valid("GB82 WEST 1234 5698 7654 32") and not iban_is_valid("GB82 WEST 1234 5698 7654 33")


def test_an_empty_table_fails_the_row_count_and_passes_value_checks_vacuously() -> None:
    frame = pl.DataFrame({"a": []}, schema={"a": pl.Int64})
    result = validate(frame, parse_suite("name: t\nrows: {min: 1}\ncolumns:\n  a: {nullable: false, min: 0, unique: true}\n"))
    assert not result.passed
    assert [c.name for c in result.failures] == ["row_count"]


def test_the_suite_severity_applies_to_column_checks() -> None:
    result = validate(pl.DataFrame({"a": [None]}, schema={"a": pl.Int64}), parse_suite("name: t\ncolumns:\n  a: {nullable: false, severity: warning}\n"))
    assert result.passed and result.failures[0].severity == "warning"
