"""Request rows checked against a signature: numbers straight to numpy, every fault named."""

from __future__ import annotations

import numpy as np
import pytest

from steward.errors import InvalidInputError
from steward.registry import ColumnSpec, Signature
from steward.serving._payloads import Schema, concat_rows

MIXED = Signature(
    (
        ColumnSpec("amount", "float64", True),
        ColumnSpec("count", "int64", False),
        ColumnSpec("city", "string", False),
        ColumnSpec("member", "bool", False),
    ),
    {"kind": "ndarray", "dtype": "int64", "shape": [-1]},
)
NUMERIC = Signature((ColumnSpec("a", "float64", False), ColumnSpec("b", "int64", False)), {"kind": "ndarray", "dtype": "float64", "shape": [-1]})


def test_numeric_records_become_one_float_matrix_in_signature_order() -> None:
    rows = Schema(NUMERIC).from_records([{"b": 2, "a": 1.5}, {"a": 3, "b": 4}])
    assert rows.matrix is not None and rows.matrix.dtype == np.float64
    assert rows.matrix.tolist() == [[1.5, 2.0], [3.0, 4.0]]


def test_mixed_records_keep_typed_columns_and_nulls_of_nullable_floats_become_nan() -> None:
    schema = Schema(MIXED)
    rows = schema.from_records([
        {"amount": None, "count": 1, "city": "Oslo", "member": True},
        {"amount": 2.5, "count": 2, "city": "Lima", "member": False},
    ])
    assert rows.columns is not None
    assert np.isnan(rows.columns["amount"][0]) and rows.columns["amount"][1] == 2.5
    assert rows.columns["city"].tolist() == ["Oslo", "Lima"] and rows.columns["member"].tolist() == [True, False]
    frame = schema.model_input(concat_rows([rows, rows]))
    assert list(frame.columns) == ["amount", "count", "city", "member"] and len(frame) == 4
    assert str(frame["count"].dtype) == "int64" and str(frame["member"].dtype) == "bool"


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        ({"amount": 1.0, "count": 1.5, "city": "x", "member": True}, "count", "expects int64"),
        ({"amount": "1", "count": 1, "city": "x", "member": True}, "amount", "expects float64"),
        ({"amount": 1.0, "count": None, "city": "x", "member": True}, "count", "not nullable"),
        ({"amount": 1.0, "count": 1, "city": 3, "member": True}, "city", "expects string"),
        ({"amount": 1.0, "count": 1, "city": "x", "member": 1}, "member", "expects bool"),
        ({"amount": 1.0, "count": 1, "city": "x"}, "member", "missing column"),
        ({"amount": 1.0, "count": 1, "city": "x", "member": True, "zip": 1}, "zip", "unexpected column"),
        ({"amount": [1.0], "count": 1, "city": "x", "member": True}, "amount", "one float64 value per row"),
    ],
)
def test_each_fault_names_its_column(record: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Schema(MIXED).from_records([record])
    assert caught.value.field == field and words in caught.value.message


def test_split_columns_in_any_order_and_the_sticky_key_field_is_not_an_input() -> None:
    schema = Schema(NUMERIC)
    rows = schema.from_split(["customer", "b", "a"], [["c1", 2, 1.0]], frozenset({"customer"}))
    assert rows.matrix is not None and rows.matrix.tolist() == [[1.0, 2.0]]
    with pytest.raises(InvalidInputError) as caught:
        schema.from_split(["customer", "b", "a"], [["c1", 2, 1.0]])
    assert caught.value.field == "customer"


def test_instances_as_lists_must_hold_one_value_per_column() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Schema(NUMERIC).from_instances([[1.0, 2, 3]])
    assert caught.value.field == "instances[0]"
