"""Translate the filter syntax tree into SQLAlchemy expressions (always parameterised)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, true
from sqlalchemy.sql import Select

from steward.core import Comparison, FilterExpr, OrderBy
from steward.errors import FilterSyntaxError

from ._tables import latest_metrics, params, runs, tags

_ATTRIBUTE_COLUMNS = {
    "run_id": runs.c.run_id,
    "name": runs.c.name,
    "status": runs.c.status,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
    "user": runs.c.user,
    "experiment_id": runs.c.experiment_id,
    "note": runs.c.note,
}
_NUMERIC_ATTRIBUTES = {"start_time", "end_time", "experiment_id"}


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:  # Any: SQL column of any type
    if op == "=":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op == "like":
        return column.like(value)  # type: ignore[no-any-return]
    if op == "ilike":
        return column.ilike(value)  # type: ignore[no-any-return]
    if op == "in":
        return column.in_(value)  # type: ignore[no-any-return]
    if op == "not_in":
        return column.not_in(value)  # type: ignore[no-any-return]
    raise FilterSyntaxError(f"operator {op!r} is not supported here", position=0)


def _comparison(node: Comparison) -> ColumnElement[bool]:
    if node.entity == "attribute":
        column = _ATTRIBUTE_COLUMNS[node.key]
        value: Any = node.value
        if node.key in _NUMERIC_ATTRIBUTES:
            value = _coerce_numeric(node)
        elif node.key == "status" and isinstance(value, str):
            value = value.lower()
        elif isinstance(value, float):
            value = _format_number(value)
        elif isinstance(value, tuple):
            value = tuple(_format_number(v) if isinstance(v, float) else v for v in value)
        if node.op == "is_null":
            return column.is_(None)
        if node.op == "is_not_null":
            return column.is_not(None)
        return _compare(column, node.op, value)
    table = {"metric": latest_metrics, "param": params, "tag": tags}[node.entity]
    keyed = and_(table.c.run_id == runs.c.run_id, table.c.key == node.key)
    if node.op == "is_null":
        return not_(exists(select(1).where(keyed)))
    if node.op == "is_not_null":
        return exists(select(1).where(keyed))
    value = node.value
    if node.entity != "metric":
        if isinstance(value, float):
            value = _format_number(value)
        elif isinstance(value, tuple):
            value = tuple(_format_number(v) if isinstance(v, float) else v for v in value)
    if node.op == "not_in":
        return not_(exists(select(1).where(keyed, table.c.value.in_(value))))
    if node.op == "!=" and node.entity != "metric":
        return exists(select(1).where(keyed, table.c.value != value))
    return exists(select(1).where(keyed, _compare(table.c.value, node.op, value)))


def _format_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _coerce_numeric(node: Comparison) -> Any:  # Any: a number or a tuple of numbers
    def one(v: Any) -> float:
        if isinstance(v, float):
            return v
        try:
            return float(v)
        except (TypeError, ValueError):
            raise FilterSyntaxError(f"attributes.{node.key} compares with a number", position=0) from None

    if isinstance(node.value, tuple):
        return tuple(one(v) for v in node.value)
    return None if node.value is None else one(node.value)


def to_sql(expr: FilterExpr | None) -> ColumnElement[bool]:
    """The WHERE clause for a parsed filter (``true()`` when there is none)."""
    if expr is None:
        return true()
    if isinstance(expr, Comparison):
        return _comparison(expr)
    parts = [to_sql(e) for e in expr.operands]
    if expr.op == "and":
        return and_(*parts) if parts else true()
    if expr.op == "or":
        return or_(*parts) if parts else false()
    return not_(parts[0])


def apply_order(query: Select[Any], order_by: Sequence[OrderBy]) -> Select[Any]:  # Any: row shape
    """Add ORDER BY clauses (nulls last) plus a stable tie-break on start time and id."""
    for i, item in enumerate(order_by):
        if item.entity == "attribute":
            column: Any = _ATTRIBUTE_COLUMNS[item.key]
        else:
            table = {"metric": latest_metrics, "param": params, "tag": tags}[item.entity]
            alias = table.alias(f"order_{i}")
            query = query.outerjoin(alias, and_(alias.c.run_id == runs.c.run_id, alias.c.key == item.key))
            column = alias.c.value
        query = query.order_by(column.is_(None), column.desc() if item.descending else column.asc())
    return query.order_by(runs.c.start_time.desc(), runs.c.run_id)
