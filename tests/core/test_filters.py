"""The search filter language: parsing, positions of syntax errors, and safety."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.core import Comparison, Logical, OrderBy, parse_filter, parse_order_by
from steward.errors import FilterSyntaxError


def test_blank_or_missing_filter_means_no_filter() -> None:
    assert parse_filter(None) is None
    assert parse_filter("   ") is None


@pytest.mark.parametrize(
    ("op", "expected"),
    [("=", "="), ("==", "="), ("!=", "!="), ("<", "<"), ("<=", "<="), (">", ">"), (">=", ">=")],
)
def test_every_comparison_operator_parses_on_metrics(op: str, expected: str) -> None:
    assert parse_filter(f"metrics.auc {op} 0.5") == Comparison("metric", "auc", expected, 0.5)


@pytest.mark.parametrize("op", ["like", "LIKE", "ilike", "ILike"])
def test_like_and_ilike_take_a_quoted_pattern_case_insensitively(op: str) -> None:
    assert parse_filter(f"params.model {op} 'gb%'") == Comparison("param", "model", op.lower(), "gb%")


def test_like_with_a_number_is_a_syntax_error() -> None:
    with pytest.raises(FilterSyntaxError):
        parse_filter("params.model like 5")


def test_entity_aliases_all_map_to_the_same_entity() -> None:
    for alias in ("metrics", "metric"):
        assert parse_filter(f"{alias}.x > 1") == Comparison("metric", "x", ">", 1.0)
    for alias in ("params", "param"):
        assert parse_filter(f"{alias}.x = 'a'") == Comparison("param", "x", "=", "a")
    for alias in ("tags", "tag"):
        assert parse_filter(f"{alias}.x = 'a'") == Comparison("tag", "x", "=", "a")
    for alias in ("attributes", "attribute", "attr", "run"):
        assert parse_filter(f"{alias}.status = 'finished'") == Comparison("attribute", "status", "=", "finished")


def test_bare_attribute_names_and_mlflow_aliases_resolve() -> None:
    assert parse_filter("status = 'running'") == Comparison("attribute", "status", "=", "running")
    assert parse_filter("attributes.run_name = 'a'") == Comparison("attribute", "name", "=", "a")
    assert parse_filter("run_uuid = 'a'") == Comparison("attribute", "run_id", "=", "a")
    assert parse_filter("attributes.user_id = 'a'") == Comparison("attribute", "user", "=", "a")


def test_and_binds_tighter_than_or_and_parens_override() -> None:
    a = Comparison("metric", "a", ">", 1.0)
    b = Comparison("metric", "b", ">", 2.0)
    c = Comparison("metric", "c", ">", 3.0)
    assert parse_filter("metrics.a > 1 or metrics.b > 2 and metrics.c > 3") == Logical(
        "or", (a, Logical("and", (b, c)))
    )
    assert parse_filter("(metrics.a > 1 or metrics.b > 2) and metrics.c > 3") == Logical(
        "and", (Logical("or", (a, b)), c)
    )
    assert parse_filter("metrics.a > 1 AND metrics.b > 2 AND metrics.c > 3") == Logical("and", (a, b, c))


def test_not_negates_a_comparison_or_a_group() -> None:
    a = Comparison("metric", "a", ">", 1.0)
    assert parse_filter("not metrics.a > 1") == Logical("not", (a,))
    assert parse_filter("NOT (metrics.a > 1)") == Logical("not", (a,))
    assert parse_filter("not not metrics.a > 1") == Logical("not", (Logical("not", (a,)),))


def test_quoted_keys_may_hold_spaces_and_dots() -> None:
    assert parse_filter("metrics.`val loss` < 1") == Comparison("metric", "val loss", "<", 1.0)
    assert parse_filter('params."learning rate" = \'0.1\'') == Comparison("param", "learning rate", "=", "0.1")
    assert parse_filter("metrics.val.loss < 1") == Comparison("metric", "val.loss", "<", 1.0)
    assert parse_filter("params.layer-1.size = '3'") == Comparison("param", "layer-1.size", "=", "3")


def test_in_and_not_in_lists() -> None:
    assert parse_filter("params.model in ('gbm', 'rf')") == Comparison("param", "model", "in", ("gbm", "rf"))
    assert parse_filter("params.model NOT IN ('gbm')") == Comparison("param", "model", "not_in", ("gbm",))
    assert parse_filter("metrics.k in (1, 2.5)") == Comparison("metric", "k", "in", (1.0, 2.5))


def test_is_null_and_is_not_null() -> None:
    assert parse_filter("metrics.auc is null") == Comparison("metric", "auc", "is_null", None)
    assert parse_filter("tags.owner IS NOT NULL") == Comparison("tag", "owner", "is_not_null", None)


def test_string_escapes_doubled_quotes_and_backslashes() -> None:
    assert parse_filter("params.a = 'it''s'") == Comparison("param", "a", "=", "it's")
    assert parse_filter(r"params.a = 'it\'s'") == Comparison("param", "a", "=", "it's")
    assert parse_filter('params.a = "say \\"hi\\""') == Comparison("param", "a", "=", 'say "hi"')


def test_numbers_in_every_notation() -> None:
    for text, value in [("1", 1.0), ("-2.5", -2.5), (".5", 0.5), ("1e-3", 0.001), ("+3E2", 300.0)]:
        assert parse_filter(f"metrics.x > {text}") == Comparison("metric", "x", ">", value)


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("metrics.auc >", 13),  # value missing at the end
        ("metrics.auc > 0.9 and", 21),  # dangling and
        ("metrics.auc ~ 1", 12),  # unknown character
        ("metrics.auc 0.9", 12),  # operator missing
        ("(metrics.auc > 1", 16),  # unclosed paren
        ("metrics.auc > 1 )", 16),  # stray paren
        ("bogus.x = 1", 0),  # unknown entity
        ("nosuchattr = 'a'", 0),  # unknown attribute
        ("metrics.auc > 'high'", 12),  # metric compared with a string
        ("params.lr > 0.1", 10),  # params are strings
        ("metrics.auc is 1", 15),  # IS without NULL
        ("params.a not ('x')", 13),  # NOT without IN
        ("params.a in 'x'", 12),  # IN without a list
        ("params.a in ('x',)", 17),  # trailing comma
        ("metrics. > 1", 9),  # key missing
        ("params.a = 'unterminated", 11),
    ],
)
def test_syntax_errors_name_the_position_of_the_fault(text: str, position: int) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text)
    assert info.value.position == position
    assert f"at position {position}" in info.value.message
    assert info.value.field == "filter"


def test_order_by_parses_direction_and_defaults_to_ascending() -> None:
    assert parse_order_by(["metrics.auc DESC", "start_time", "params.model asc"]) == [
        OrderBy("metric", "auc", True),
        OrderBy("attribute", "start_time", False),
        OrderBy("param", "model", False),
    ]
    assert parse_order_by(None) == []


@pytest.mark.parametrize("clause", ["metrics.auc sideways", "", "metrics.", "bogus.x", "nosuch DESC"])
def test_order_by_errors_name_the_order_by_field(clause: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_order_by([clause])
    assert info.value.field == "order_by"


def test_sql_fragments_are_only_ever_values() -> None:
    injected = "a'; DROP TABLE runs; --"
    quoted = "'" + injected.replace("'", "''") + "'"
    assert parse_filter(f"params.x = {quoted}") == Comparison("param", "x", "=", injected)
    # unquoted, the same fragment is a syntax error, never something executed
    with pytest.raises(FilterSyntaxError):
        parse_filter("params.x = 'a'; DROP TABLE runs; --'")


# -- property tests ---------------------------------------------------------------------

_identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
_quoted_keys = st.text(st.characters(blacklist_characters="`", blacklist_categories=("Cs",)), min_size=1, max_size=30)
_strings = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_numbers = st.floats(allow_nan=False, allow_infinity=False)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


@settings(max_examples=200, deadline=None)
@given(key=_identifiers, value=_strings, op=st.sampled_from(["=", "!=", "like", "ilike"]))
def test_random_param_identifiers_and_values_round_trip(key: str, value: str, op: str) -> None:
    assert parse_filter(f"params.{key} {op} {_quote(value)}") == Comparison("param", key, op, value)


@settings(max_examples=200, deadline=None)
@given(key=_quoted_keys, value=_numbers, op=st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
def test_random_quoted_metric_keys_and_numbers_round_trip(key: str, value: float, op: str) -> None:
    parsed = parse_filter(f"metrics.`{key}` {op} {value!r}")
    assert isinstance(parsed, Comparison)
    assert (parsed.entity, parsed.key, parsed.op) == ("metric", key, op)
    assert isinstance(parsed.value, float) and math.isclose(parsed.value, value) or parsed.value == value


@settings(max_examples=100, deadline=None)
@given(values=st.lists(_strings, min_size=1, max_size=5))
def test_random_in_lists_round_trip(values: list[str]) -> None:
    text = "tags.t in (" + ", ".join(_quote(v) for v in values) + ")"
    assert parse_filter(text) == Comparison("tag", "t", "in", tuple(values))


_filter_alphabet = st.sampled_from(
    list("abcmetrisparmtg.=<>!()'\"`,- 0123456789eE_\\;%*\n\t")
    + ["metrics.", "params.", "and", "or", "not", "in", "is", "null", "like", "'x'", "1.5"]
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_filter_alphabet, max_size=25).map("".join)))
def test_random_garbage_raises_only_filter_syntax_errors(text: str) -> None:
    try:
        parse_filter(text)
    except FilterSyntaxError as exc:
        assert 0 <= exc.position <= len(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(_filter_alphabet, max_size=12).map("".join))
def test_random_garbage_in_order_by_raises_only_filter_syntax_errors(text: str) -> None:
    try:
        parse_order_by([text])
    except FilterSyntaxError as exc:
        assert 0 <= exc.position <= len(text)


def test_a_filter_nested_past_the_depth_limit_is_a_filter_error_not_a_recursion_error() -> None:
    from steward.core.filters import MAX_FILTER_DEPTH

    for deep in ("(" * 100_000 + "metrics.a > 1" + ")" * 100_000, "not " * 100_000 + "metrics.a > 1"):
        with pytest.raises(FilterSyntaxError) as info:
            parse_filter(deep)
        assert info.value.field == "filter" and f"more than {MAX_FILTER_DEPTH} deep" in info.value.message
    assert parse_filter("(" * MAX_FILTER_DEPTH + "metrics.a > 1" + ")" * MAX_FILTER_DEPTH) is not None
