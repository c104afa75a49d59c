"""Hot-path statements: compiled once per dialect, run on the connection's DB-API cursor.

``Connection.execute`` spends about 20 µs of Python per statement (execution context,
events, result metadata) and a few µs more building a statement's parameters; SQLite
itself needs 2–3 µs for an indexed read or a small insert. A tracked run is some twenty
statements, so on the paths every run takes (its creation, an artifact, its end, the
audit entry of each, the secret guard's look at the store) that overhead was most of the
run's cost. :class:`Prepared` keeps the Core statement as the single definition of the
SQL (same tables, same dialects), compiles it once per dialect and set of value keys,
and executes the string on the DB-API cursor of the SQLAlchemy connection, inside the
transaction that connection holds.

What it does not do (so statements that need it stay on ``Connection.execute``):
expanding ``IN`` parameters, Python-side column defaults, result type processing (the
rows are plain DB-API tuples: use it for columns of plain types: strings, integers,
floats, booleans read with ``bool()``).

Driver errors are raised as SQLAlchemy's wrappers (``sqlalchemy.exc.IntegrityError``,
``OperationalError``...), as ``Connection.execute`` raises them, and a connection the
driver reports as lost is invalidated, so the stores' error handling is the same on both
paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

__all__ = ["Prepared"]

_Processor = Callable[[Any], Any] | None  # Any: a bound value of any column type


@dataclass(frozen=True, slots=True)
class _Form:
    """One statement as one dialect runs it."""

    sql: str
    # positional styles (SQLite's qmark): the bound names in order; None for named styles
    order: tuple[str, ...] | None
    # bound name -> (name in the SQL text, value when the caller gives none, processor)
    binds: tuple[tuple[str, str, Any, _Processor], ...]  # Any: a literal's value
    # (bound name, value when the caller gives none) when no value needs processing
    plain: tuple[tuple[str, Any], ...] | None  # Any: a literal's value

    def values(self, params: Mapping[str, Any]) -> Any:  # Any: a DB-API parameter tuple or dict
        get = params.get
        if self.order is not None and self.plain is not None:
            return tuple([get(name, default) for name, default in self.plain])
        out = [
            (rendered, value if proc is None else proc(value))
            for name, rendered, default, proc in self.binds
            for value in (get(name, default),)
        ]
        return tuple(v for _, v in out) if self.order is not None else dict(out)


class Prepared:
    """A Core statement run on the DB-API cursor (see the module's docstring).

    Args:
        statement: a ``select``, ``insert``, ``update`` or ``delete`` with named
            ``bindparam``\\ s (an ``insert``/``update`` without ``.values()`` takes its
            column keys from the first call's parameters, as ``Connection.execute`` does).
    """

    __slots__ = ("_forms", "_takes_keys", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._forms: dict[tuple[str, tuple[str, ...]], _Form] = {}
        # an INSERT or UPDATE without .values() compiles the columns it is given
        self._takes_keys = bool(statement.is_dml) and not getattr(statement, "_values", None) and not getattr(
            statement, "_multi_values", None
        )

    def _keys(self, params: Mapping[str, Any]) -> tuple[str, ...]:  # Any: bound values
        return tuple(sorted(params)) if self._takes_keys else ()

    def _form(self, dialect: Dialect, keys: tuple[str, ...]) -> _Form:
        found = self._forms.get((dialect.name, keys))
        if found is not None:
            return found
        compiled: Any = self.statement.compile(dialect=dialect, column_keys=list(keys) or None)  # Any: SQLCompiler
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            raise TypeError("Prepared statements cannot compute Python-side column defaults")
        defaults = compiled.construct_params(escape_names=False, _check=False)
        escaped: Mapping[str, str] = getattr(compiled, "escaped_bind_names", None) or {}
        binds = []
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        names = list(compiled.positiontup) if dialect.positional else list(by_name)
        for name in names:
            bind = by_name[name]
            if bind.expanding or bind.literal_execute:
                raise TypeError("Prepared statements take no expanding or literal parameters")
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            binds.append((name, escaped.get(name, name), defaults.get(name), proc))
        plain = None if any(proc is not None for *_, proc in binds) else tuple((name, default) for name, _, default, _ in binds)
        form = _Form(compiled.string, tuple(names) if dialect.positional else None, tuple(binds), plain)
        self._forms[(dialect.name, keys)] = form
        return form

    def _cursor(self, conn: Connection) -> Any:  # Any: a DB-API cursor
        if not conn.in_transaction():
            conn.begin()  # as Connection.execute would (the begin event issues SQLite's BEGIN)
        return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    @staticmethod
    def _call(dispatch: Any, conn: Connection | None, cursor: Any, form: _Form, values: Any, many: bool) -> None:  # Any: event dispatcher, DB-API cursor and values
        # cursor-execute listeners (statement counts in tests, SQL timing) see these
        # statements too; with none registered this is two attribute looks
        before, after = dispatch.before_cursor_execute, dispatch.after_cursor_execute
        if before:
            before(conn, cursor, form.sql, values, None, many)
        if many:
            cursor.executemany(form.sql, values)
        else:
            cursor.execute(form.sql, values)
        if after:
            after(conn, cursor, form.sql, values, None, many)

    @staticmethod
    def _wrap(dialect: Dialect, dbapi_conn: Any, invalidate: Callable[[BaseException], None], cursor: Any, form: _Form, values: Any, exc: Any) -> BaseException:  # Any: DB-API connection, cursor and values
        """The SQLAlchemy error for a driver error; a connection reported lost is invalidated."""
        lost = bool(dialect.is_disconnect(exc, dbapi_conn, cursor))
        if lost:
            invalidate(exc)
        wrapped: BaseException = sa_exc.DBAPIError.instance(
            form.sql, values, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
        )
        return wrapped

    def _on(self, conn: Connection, params: Any, many: bool) -> Any:  # Any: bound values; the DB-API cursor
        form = self._form(conn.dialect, self._keys(params[0] if many else params))
        values = [form.values(row) for row in params] if many else form.values(params)
        cursor = self._cursor(conn)
        try:
            self._call(conn.dispatch, conn, cursor, form, values, many)
        except conn.dialect.loaded_dbapi.Error as exc:
            cursor.close()
            raise self._wrap(conn.dialect, conn.connection.dbapi_connection, conn.invalidate, cursor, form, values, exc) from exc
        return cursor

    def execute(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:  # Any: bound values; the DB-API cursor
        """Run the statement once; returns the DB-API cursor (``fetchone``, ``fetchall``, ``rowcount``)."""
        return self._on(conn, params or {}, False)

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:  # Any: bound values
        """Run the statement for each of ``rows`` (all with the keys of the first)."""
        if rows:
            self._on(conn, rows, True).close()

    def first_alone(self, engine: Engine, params: Mapping[str, Any] | None = None) -> Any:  # Any: bound values; a DB-API row
        """The first row of this one statement, on a pooled DB-API connection of its own.

        For a single indexed read outside any transaction (a statement is atomic on its
        own): no SQLAlchemy connection, no BEGIN, no ROLLBACK; the pool resets the
        connection when it is returned, as it does for every connection.
        """
        params = params or {}
        dialect = engine.dialect
        form = self._form(dialect, self._keys(params))
        values = form.values(params)
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                self._call(engine.dispatch, None, cursor, form, values, False)
                return cursor.fetchone()
            except dialect.loaded_dbapi.Error as exc:
                raise self._wrap(dialect, raw.dbapi_connection, raw.invalidate, cursor, form, values, exc) from exc
            finally:
                cursor.close()
        finally:
            raw.close()

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:  # Any: bound values
        """Run a statement that returns no rows; returns the number of rows it changed."""
        cursor = self.execute(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:  # Any: bound values; a DB-API row
        """The first row (a plain tuple) or None."""
        cursor = self.execute(conn, params)
        try:
            return cursor.fetchone()
        finally:
            cursor.close()

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:  # Any: bound values; DB-API rows
        """Every row (plain tuples)."""
        cursor = self.execute(conn, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()
