"""Translate the filter syntax tree into SQLAlchemy expressions (always parameterised)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, false, func, not_, or_, select, true
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


def apply_order(query: Select[Any], order_by: Sequence[OrderBy], *, first: int = 0) -> Select[Any]:  # Any: row shape
    """Add ORDER BY clauses (nulls last) plus a stable tie-break on start time and id.

    ``first`` numbers the join aliases when earlier terms were ordered by the caller."""
    for i, item in enumerate(order_by, start=first):
        if item.entity == "attribute":
            column: Any = _ATTRIBUTE_COLUMNS[item.key]
        else:
            alias = _order_alias(item.entity, i)
            query = query.outerjoin(alias, and_(alias.c.run_id == runs.c.run_id, alias.c.key == item.key))
            column = alias.c.value
        if item.entity != "attribute" or column.nullable:
            # an outer-joined value is NULL when the run has none; a NOT NULL attribute
            # (start_time, name, ...) is ordered by itself alone, so the runs page
            # (start_time DESC) reads ix_runs_experiment_id_start_time in order
            query = query.order_by(column.is_(None))
        query = query.order_by(column.desc() if item.descending else column.asc())
    return query.order_by(runs.c.start_time.desc(), runs.c.run_id)


@functools.cache
def _order_alias(entity: str, i: int) -> Any:  # Any: an Alias of metrics, params or tags
    """The table of ``entity`` aliased for the ``i``-th order term (built once: a search
    is a few milliseconds, and building an alias's columns was a tenth of it)."""
    return {"metric": latest_metrics, "param": params, "tag": tags}[entity].alias(f"order_{i}")


def page_rows(conn: Connection, query: Select[Any], order_by: Sequence[OrderBy], offset: int, limit: int) -> list[Any]:  # Any: rows of `query`
    """The rows ``offset`` to ``offset + limit`` of ``query`` (rows of ``runs``, filtered) in
    the order of ``order_by`` (see :func:`apply_order`).

    Ordered by a metric first, the result is the same as one ORDER BY, read in parts so the
    database does not sort every run of the experiment to return one page:

    * the runs with a value of that metric within a window of the best ``k`` values: the
      ``k``-th best value is read from ``ix_latest_metrics_key_value`` (index only), and
      only runs whose value is at least as good are looked at, so the page costs about
      ``k`` index steps. Every run outside the window sorts after every run inside it
      (ties with the bound are inside), so a window holding ``offset + limit`` matches is
      exact; otherwise the window grows once if its share of matches says a 16 times wider
      one fills the page, and past that the query runs over all values, planned by the
      database as before (so a very selective filter costs about what it did);
    * then, only when the runs with a value do not fill the page, the runs without one (no
      such metric, or NaN, stored as NULL), which sort last.
    """
    if not order_by or order_by[0].entity != "metric":
        return list(conn.execute(apply_order(query, order_by).limit(limit).offset(offset)).all())
    lead, rest = order_by[0], order_by[1:]
    value = _order_alias("metric", 0)
    valued = query.join(value, and_(value.c.run_id == runs.c.run_id, value.c.key == lead.key)).where(value.c.value.is_not(None))
    order = value.c.value.desc() if lead.descending else value.c.value.asc()
    k = (offset + limit) * _WINDOW
    for _ in range(2):
        bound = conn.execute(
            select(latest_metrics.c.value)
            .where(latest_metrics.c.key == lead.key, latest_metrics.c.value.is_not(None))
            .order_by(latest_metrics.c.value.desc() if lead.descending else latest_metrics.c.value.asc())
            .limit(1)
            .offset(k - 1)
        ).scalar()
        if bound is None:  # fewer than k values of the metric: no window to read
            break
        near = valued.where(value.c.value >= bound if lead.descending else value.c.value <= bound)
        rows = list(conn.execute(apply_order(near.order_by(order), rest, first=1).limit(limit).offset(offset)).all())
        if len(rows) >= limit:
            return rows
        # widen once, only when this window's matches say one 16 times wider fills the page
        # with room to spare: each step of a window costs a run lookup and the filter's probes
        if (offset + len(rows) if rows else 0) * 16 < (offset + limit) * 2:
            break
        k *= 16
    # every value (a small store, a very selective filter, a small experiment in a large
    # store): the database's own plan, as before the windows, at most two windows later
    rows = list(conn.execute(apply_order(valued.order_by(order), rest, first=1).limit(limit).offset(offset)).all())
    if len(rows) >= limit:
        return rows
    if rows or offset == 0:
        skip = 0  # every valued run from ``offset`` on is in ``rows``
    else:  # the page starts past the valued runs: how far past
        skip = offset - int(conn.execute(select(func.count()).select_from(valued.subquery())).scalar_one())
    has_value = select(1).where(latest_metrics.c.run_id == runs.c.run_id, latest_metrics.c.key == lead.key, latest_metrics.c.value.is_not(None))
    unvalued = apply_order(query.where(~exists(has_value)), rest, first=1)
    return rows + list(conn.execute(unvalued.limit(limit - len(rows)).offset(max(skip, 0))).all())


# The first window of a metric-ordered search, in values per row asked for: a filter that
# keeps one run in 20 still fills the first window (1,020 index steps for a 50-run page).
_WINDOW = 20
