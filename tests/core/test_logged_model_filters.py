"""MLflow's logged-model filter language: parsing, matching, ordering (pure, no store)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.core.logged_models import (
    LoggedModel,
    LoggedModelMetric,
    LoggedModelStatus,
    ModelCondition,
    check_model_id,
    matches,
    new_model_id,
    order_models,
    parse_model_filter,
    parse_order,
)
from steward.errors import FilterSyntaxError, InvalidInputError


def _model(name: str, created: int, *, auc: float | None = None, status: LoggedModelStatus = LoggedModelStatus.READY,
           **tags: str) -> LoggedModel:
    metrics = () if auc is None else (LoggedModelMetric("auc", auc / 2, step=0), LoggedModelMetric("auc", auc, step=1))
    return LoggedModel(new_model_id(), "1", name, status, created, created, params={"C": "1"}, tags=dict(tags), metrics=metrics)


def test_filters_compare_attributes_params_tags_and_the_latest_metric_point() -> None:
    a = _model("clf", 10, auc=0.9, team="risk")
    b = _model("clf-2", 20, auc=0.7, status=LoggedModelStatus.PENDING)

    def names(text: str) -> list[str]:
        return [m.name for m in (a, b) if matches(m, parse_model_filter(text))]

    assert names("name = 'clf'") == ["clf"]
    assert names("name LIKE 'clf%'") == ["clf", "clf-2"]
    assert names("metrics.auc > 0.8") == ["clf"]  # the step-1 point, not the step-0 one
    assert names("status = 'LOGGED_MODEL_PENDING'") == ["clf-2"]
    assert names("status IN ('READY', 'FAILED') AND tags.team = 'risk' AND params.C = '1'") == ["clf"]
    assert names("tags.team != 'risk'") == []  # a missing tag matches nothing, as in SQL
    assert names("creation_timestamp >= 20") == ["clf-2"]
    assert names("attributes.name ILIKE 'CLF'") == ["clf"]
    assert names(f"model_id = '{a.model_id}'") == ["clf"]


@pytest.mark.parametrize(
    ("text", "position"),
    [("name = ", 7), ("name = 'a' OR name = 'b'", 11), ("colour = 'x'", 0), ("metrics.auc > 'x'", 12),
     ("name = 1", 5), ("status = 'DONE'", 7), ("name IN 'a'", 8), ("name = 'a' name", 11), ("name @ 'a'", 5)],
)
def test_a_filter_that_does_not_parse_names_the_position(text: str, position: int) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_model_filter(text)
    assert info.value.position == position and info.value.field == "filter"


@given(st.text(max_size=40))
def test_any_quoted_name_parses_back_to_itself(value: str) -> None:
    quoted = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    assert parse_model_filter(f"name = {quoted}") == [ModelCondition("attribute", "name", "=", value)]


def test_ordering_by_metric_puts_missing_values_last_and_defaults_to_newest_first() -> None:
    old, new, none = _model("old", 1, auc=0.5), _model("new", 2, auc=0.9), _model("none", 3)
    assert [m.name for m in order_models([old, new, none], [])] == ["none", "new", "old"]
    assert [m.name for m in order_models([old, new, none], [parse_order("metrics.auc", ascending=False)])] == ["new", "old", "none"]
    assert [m.name for m in order_models([old, new, none], [parse_order("name")])] == ["new", "none", "old"]
    with pytest.raises(FilterSyntaxError) as info:
        parse_order("params.C")
    assert info.value.field == "order_by"


def test_model_ids_are_m_and_32_hex() -> None:
    assert check_model_id(new_model_id()).startswith("m-")
    for bad in ("m-XYZ", "0" * 34, None, "m-" + "0" * 31 + "/"):
        with pytest.raises(InvalidInputError):
            check_model_id(bad)
