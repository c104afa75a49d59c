"""Suite documents: schema, line-numbered errors, inference, and versioning in the store."""

from __future__ import annotations

import polars as pl
import pytest
import sqlalchemy as sa

from steward.adapters.sql._tables import audit_log
from steward.adapters.sql._tables_validation import validation_results, validation_suites
from steward.data import SUITE_SCHEMA, Suite, infer_suite, parse_suite, schema_errors, validate
from steward.errors import InvalidInputError, NotFoundError
from steward.wiring import Services

GOOD = """\
name: orders
rows: {min: 1}
columns:
  id: {type: integer, nullable: false, unique: true}
  amount: {type: float, max_missing: 0.1, min: 0}
checks:
  - check: duplicate_rows
"""


def test_a_suite_expands_to_one_check_per_constraint_with_its_line() -> None:
    suite = parse_suite(GOOD)
    assert [(c.kind, c.column, c.line) for c in suite.checks] == [
        ("row_count", None, 2),
        ("present", "id", 4),
        ("type", "id", 4),
        ("not_null", "id", 4),
        ("unique", "id", 4),
        ("present", "amount", 5),
        ("type", "amount", 5),
        ("max_missing", "amount", 5),
        ("range", "amount", 5),
        ("duplicate_rows", None, 7),
    ]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("name: s\ncolumns:\n  a:\n    type: integr\n", 4, "'integr' is not one of"),
        ("name: s\ncolumns:\n  a:\n    colour: red\n", 4, "unknown key 'colour'"),
        ("name: s\nchecks:\n  - check: key\n", 3, "'columns' is a required property"),
        ("name: s\ncolumns:\n  a: {min: 5, max: 1}\n", 3, "min (5) is above max (1)"),
        ("name: s\ncolumns:\n  a: [1\n", 4, "YAML syntax"),
        ("name: s\nrows: {min: -1}\n", 2, "less than the minimum"),
        ("columns: {}\n", 1, "'name' is a required property"),
        ("", 1, "empty"),
        ("- a\n- b\n", 1, "YAML mapping"),
    ],
)
def test_a_malformed_suite_is_refused_naming_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_suite(text)
    assert f"suite line {line}:" in info.value.message
    assert fragment in info.value.message


def test_schema_errors_lists_every_fault_in_line_order() -> None:
    faults = schema_errors("name: s\ncolumns:\n  a: {type: x}\n  b: {max_missing: 2}\n")
    assert [line for line, _ in faults] == [3, 4]


def test_the_json_schema_is_a_valid_draft_2020_12_schema() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(SUITE_SCHEMA)


def test_an_inferred_suite_passes_on_its_reference_and_round_trips_through_yaml() -> None:
    frame = pl.DataFrame(
        {"id": [1, 2, 3, 4], "x": [0.5, None, 2.0, 3.0], "c": ["a", "b", "a", "a"], "empty": [None] * 4},
        schema_overrides={"empty": pl.Float64},
    )
    suite = infer_suite(frame, "ref")
    assert validate(frame, suite).passed
    assert parse_suite(suite.to_yaml()).checks == suite.checks
    cols = suite.document["columns"]
    assert cols["id"]["unique"] is True and cols["x"]["max_missing"] == pytest.approx(0.301)
    assert cols["c"]["allowed"] == ["a", "b"] and "type" not in cols["empty"]
    changed = frame.with_columns(pl.col("x") * 10, pl.lit("z").alias("c"))
    failed = {c.name for c in validate(changed, suite).failures}
    assert failed == {"range", "allowed"}


def test_inferring_from_an_empty_table_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="empty table"):
        infer_suite(pl.DataFrame({"a": []}, schema={"a": pl.Int64}), "s")
    with pytest.raises(InvalidInputError, match="no columns"):
        infer_suite(pl.DataFrame(), "s")


def test_suites_are_versioned_by_content_and_every_new_version_is_audited(services: Services) -> None:
    validation = services.validation("tester")
    first = validation.create_suite(GOOD)
    again = validation.create_suite(GOOD)
    second = validation.create_suite(GOOD.replace("min: 1}", "min: 2}"))
    assert (first.ref, again.ref, second.ref) == ("suites:/orders/1", "suites:/orders/1", "suites:/orders/2")
    assert validation.get_suite("orders").version == 2
    assert validation.get_suite("orders:1").to_yaml() == GOOD
    assert validation.get_suite("suites:/orders/1").checks == parse_suite(GOOD).checks
    assert [r.version for r in validation.list_suites("orders")] == [1, 2]
    with services.store.read() as conn:
        actions = conn.execute(sa.select(audit_log.c.action, audit_log.c.target).where(audit_log.c.action == "create_suite")).all()
    assert len(actions) == 2


def test_a_malformed_suite_stores_nothing(services: Services) -> None:
    validation = services.validation("tester")
    with pytest.raises(InvalidInputError):
        validation.create_suite("name: s\ncolumns:\n  a: {type: nope}\n")
    with services.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(validation_suites)).scalar() == 0


def test_unknown_suites_and_versions_are_not_found(services: Services) -> None:
    validation = services.validation("tester")
    with pytest.raises(NotFoundError):
        validation.get_suite("nope")
    validation.create_suite(GOOD)
    with pytest.raises(NotFoundError):
        validation.get_suite("orders:9")
    with pytest.raises(InvalidInputError):
        validation.get_suite("bad name!")


def test_validating_a_stored_dataset_version_records_the_result_with_an_audit_row(services: Services) -> None:
    frame = pl.DataFrame({"id": [1, 2, 2], "amount": [1.0, -1.0, None]})
    version = services.data("tester").register("orders", frame)
    validation = services.validation("tester")
    validation.create_suite(GOOD)
    result = validation.validate(version.ref, "orders")
    assert not result.passed and result.dataset == version.ref and result.suite == "suites:/orders/1"
    (stored,) = validation.list_results(dataset=version.ref)
    assert stored.passed is False and stored.summary["failed_errors"] == 3
    with services.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(validation_results)).scalar() == 1
        audited = conn.execute(sa.select(audit_log.c.details).where(audit_log.c.action == "validate")).scalar_one()
    assert audited["suite"] == "suites:/orders/1" and audited["passed"] is False


def test_suite_built_in_code_matches_the_same_yaml() -> None:
    suite = Suite.from_document({"name": "s", "columns": {"a": {"min": 0}}})
    assert [c.kind for c in suite.checks] == ["present", "range"]
