"""Validation rules for names, keys, params, tags and metric points."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from steward.core import validate_metric, validate_name, validate_param, validate_tag
from steward.core.limits import (
    MAX_KEY_LENGTH,
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    validate_key,
)
from steward.errors import InvalidInputError


def test_a_valid_name_is_returned_unchanged() -> None:
    assert validate_name("experiment", "churn v2") == "churn v2"


@pytest.mark.parametrize("bad", ["", "   ", None, 3, "x" * (MAX_KEY_LENGTH + 1)])
def test_empty_non_string_or_overlong_names_are_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_name("run", bad, field="name")  # type: ignore[arg-type]
    assert info.value.field == "name"


def test_a_name_of_exactly_the_maximum_length_is_accepted() -> None:
    assert validate_name("run", "x" * MAX_KEY_LENGTH) == "x" * MAX_KEY_LENGTH


@pytest.mark.parametrize("key", ["loss", "val/loss", "layer-1.weight", "a b", "ns:key", "x" * MAX_KEY_LENGTH])
def test_keys_with_letters_digits_and_separators_are_accepted(key: str) -> None:
    assert validate_key("metric", key, field="k") == key


@pytest.mark.parametrize("key", ["", "x" * (MAX_KEY_LENGTH + 1), "/abs", "a/../b", "semi;colon", "quote'", "nul\x00", 5])
def test_bad_keys_are_refused(key: object) -> None:
    with pytest.raises(InvalidInputError):
        validate_key("metric", key, field="k")  # type: ignore[arg-type]


def test_params_are_stringified_and_limited_to_6000_characters() -> None:
    assert validate_param("lr", 0.1) == "0.1"
    assert validate_param("n", 3) == "3"
    assert validate_param("v", "x" * MAX_PARAM_VALUE_LENGTH) == "x" * MAX_PARAM_VALUE_LENGTH
    with pytest.raises(InvalidInputError) as info:
        validate_param("v", "x" * (MAX_PARAM_VALUE_LENGTH + 1))
    assert info.value.field == "params.v"


def test_an_overlong_param_key_names_the_params_field() -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_param("k" * 251, "v")
    assert info.value.field is not None and info.value.field.startswith("params.")


def test_tags_are_limited_to_8000_characters() -> None:
    assert validate_tag("t", "x" * MAX_TAG_VALUE_LENGTH) == "x" * MAX_TAG_VALUE_LENGTH
    with pytest.raises(InvalidInputError) as info:
        validate_tag("t", "x" * (MAX_TAG_VALUE_LENGTH + 1))
    assert info.value.field == "tags.t"


@pytest.mark.parametrize("value", [1, 0.5, math.nan, math.inf, -math.inf, np.float32(0.25), np.int64(7), Decimal("1.5")])
def test_numbers_of_any_kind_including_nan_and_inf_are_accepted_as_floats(value: object) -> None:
    out = validate_metric("m", value, 0)
    assert isinstance(out, float)
    assert (math.isnan(out) and math.isnan(float(value))) or out == float(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["0.5", None, True, [1.0], object(), 10**400])
def test_non_numeric_metric_values_are_refused_naming_the_value_field(value: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_metric("m", value, 0, field="metrics[3]")
    assert info.value.field == "metrics[3].m.value"


@pytest.mark.parametrize("step", [1.5, "3", None, True, 2**63, -(2**63) - 1])
def test_non_integer_or_out_of_range_steps_are_refused(step: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_metric("m", 1.0, step)
    assert info.value.field == "metrics.m.step"


def test_numpy_integer_steps_and_64_bit_extremes_are_accepted() -> None:
    assert validate_metric("m", 1.0, np.int64(5)) == 1.0
    assert validate_metric("m", 1.0, 2**63 - 1) == 1.0
    assert validate_metric("m", 1.0, -(2**63)) == 1.0
