"""SQL implementation of the tracking store (SQLite and PostgreSQL)."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, String, bindparam, delete, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.sql.elements import BindParameter

from steward.core import (
    AuditEntry,
    Experiment,
    FilterExpr,
    Metric,
    OrderBy,
    Run,
    RunInput,
    RunStatus,
)
from steward.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)
from steward.tracking._ports import ArtifactInfo, AuditEvent, RunPage

from . import _migrate
from ._audit import append_audit
from ._chunks import decode_history, encode_chunk
from ._engine import WRITE, create_store_engine
from ._fast import Prepared
from ._paging import decode_token, encode_token
from ._search import page_rows, to_sql
from ._tables import (
    audit_log,
    experiment_tags,
    experiments,
    latest_metrics,
    metric_chunks,
    params,
    run_artifacts,
    run_inputs,
    runs,
    tags,
)

__all__ = ["SqlStore"]

# Statements of the hot paths (every run's creation, artifacts and end), built once and
# run on the DB-API cursor (_fast.py): building a statement per call and executing it
# through SQLAlchemy's execution context cost several times SQLite's own work.
_RUN_INSERT = Prepared(insert(runs))
_PARAMS_INSERT = Prepared(insert(params))
_TAGS_INSERT = Prepared(insert(tags))
# FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers): a run's
# state check and the write that depends on it happen under the row lock, so an end_run
# committing meanwhile cannot let data slip into a finished run.
_RUN_STATE_QUERY = select(runs.c.status, runs.c.lifecycle_stage).where(runs.c.run_id == bindparam("run_id"))
_RUN_STATE_READ = Prepared(_RUN_STATE_QUERY)
_RUN_STATE = Prepared(_RUN_STATE_QUERY.with_for_update())
# the columns of `runs` in table order: rows of _RUN_ROW and of search are read by position
_RUN_ROW = Prepared(select(runs).where(runs.c.run_id == bindparam("run_id")))
# a run's creation checks its experiment and that its id is free in one statement
_CREATE_CHECK = Prepared(
    select(
        experiments.c.lifecycle_stage,
        select(runs.c.run_id).where(runs.c.run_id == bindparam("run_id")).scalar_subquery(),
    ).where(experiments.c.experiment_id == bindparam("eid"))
)
_CHUNK_INSERT = Prepared(insert(metric_chunks))
_RUN_UPDATE = Prepared(update(runs).where(runs.c.run_id == bindparam("b_run_id")))
_ARTIFACTS_INSERT = Prepared(insert(run_artifacts))
_ARTIFACT_DIGEST = Prepared(
    select(run_artifacts.c.digest).where(run_artifacts.c.run_id == bindparam("run_id"), run_artifacts.c.path == bindparam("path"))
)
# one run's details (a run's end returns the run as stored; get_run)
_RUN_ID: BindParameter[str] = bindparam("run_id")
_PARAMS_OF_RUN = Prepared(select(params.c.key, params.c.value).where(params.c.run_id == _RUN_ID))
_TAGS_OF_RUN = Prepared(select(tags.c.key, tags.c.value).where(tags.c.run_id == _RUN_ID))
_LATEST_OF_RUN = Prepared(
    select(
        latest_metrics.c.key, latest_metrics.c.value, latest_metrics.c.is_nan, latest_metrics.c.step, latest_metrics.c.timestamp
    ).where(latest_metrics.c.run_id == _RUN_ID)
)
_INPUTS_OF_RUN = Prepared(select(run_inputs.c.dataset, run_inputs.c.role).where(run_inputs.c.run_id == _RUN_ID))
_EXPERIMENT_ID_OF = Prepared(select(experiments.c.experiment_id).where(experiments.c.name == bindparam("name")))
_EXPERIMENT_IDS = select(experiments.c.name, experiments.c.experiment_id).where(
    experiments.c.name.in_(bindparam("names", expanding=True))
)


@dataclass(frozen=True, slots=True)
class _Details:
    """The details of a page of runs (search), in three statements bound to one list of ids.

    Params and tags come as one JSON object per run (strings, so exact): one row per run
    instead of one per param, which halves the cost of reading a page of runs with twenty
    params each. The ids are one bound value (a JSON array on SQLite, an array on
    PostgreSQL), so the statements are compiled once rather than per page size.
    """

    params_tags: Prepared  # run_id, params as a JSON object, tags as a JSON object
    latest: Prepared  # run_id, key, value, is_nan, step, timestamp
    inputs: Prepared  # run_id, dataset, role
    postgresql: bool

    def bound(self, ids: Sequence[str]) -> dict[str, object]:
        return {"ids": list(ids) if self.postgresql else json.dumps(list(ids))}


@functools.cache
def _details(dialect: str) -> _Details:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        ids: Any = func.unnest(bindparam("ids", type_=ARRAY(String))).table_valued("value").render_derived(name="ids")  # Any: table-valued function
        aggregate: Any = func.json_object_agg  # Any: a SQL function generator
    else:
        ids = func.json_each(bindparam("ids")).table_valued("value").alias("ids")
        aggregate = func.json_group_object
    rid = ids.c.value
    return _Details(
        Prepared(
            select(
                rid,
                select(aggregate(params.c.key, params.c.value)).where(params.c.run_id == rid).scalar_subquery(),
                select(aggregate(tags.c.key, tags.c.value)).where(tags.c.run_id == rid).scalar_subquery(),
            )
        ),
        Prepared(select(latest_metrics).where(latest_metrics.c.run_id.in_(select(rid)))),
        Prepared(select(run_inputs).where(run_inputs.c.run_id.in_(select(rid)))),
        dialect == "postgresql",
    )


def _json_object(value: Any) -> dict[str, str]:  # Any: JSON text (SQLite), already decoded (PostgreSQL), or NULL
    if value is None:
        return {}
    # orjson: a page of 100 runs is 200 objects to decode, and json.loads was an eighth of a search
    found: dict[str, str] = value if isinstance(value, dict) else orjson.loads(value)
    return found


class SqlStore:
    """Metadata store on SQLAlchemy; migrates the database on first use.

    Args:
        url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``).
        busy_timeout_ms: SQLite lock wait.
        migrate: apply pending migrations now (the default).
    """

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000, migrate: bool = True) -> None:
        self.url = url
        self.engine: Engine = create_store_engine(url, busy_timeout_ms=busy_timeout_ms)
        # whether this process has opened a write transaction here (every audit entry is
        # appended in one): a process that only read has no audit head of its own to sign
        self.wrote = False
        if migrate:
            with self._translate():
                _migrate.ensure_current(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @functools.cached_property
    def _latest_upsert(self) -> Prepared:
        stmt = self._upsert(latest_metrics)
        newer = (stmt.excluded.step > latest_metrics.c.step) | (
            (stmt.excluded.step == latest_metrics.c.step) & (stmt.excluded.timestamp >= latest_metrics.c.timestamp)
        )
        return Prepared(
            stmt.on_conflict_do_update(
                index_elements=["run_id", "key"],
                set_={c: stmt.excluded[c] for c in ("value", "is_nan", "step", "timestamp")},
                where=newer,
            )
        )

    @functools.cached_property
    def _artifact_upsert(self) -> Prepared:
        stmt = self._upsert(run_artifacts)
        return Prepared(
            stmt.on_conflict_do_update(
                index_elements=["run_id", "path"],
                set_={c: stmt.excluded[c] for c in ("digest", "size", "created_at")},
            )
        )

    def close(self) -> None:
        self.engine.dispose()

    # -- transactions ------------------------------------------------------------------

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except sa_exc.OperationalError as exc:
            raise StorageError("the metadata store is unreachable or locked") from exc
        except sa_exc.InterfaceError as exc:
            raise StorageError("the metadata store connection failed") from exc
        except (OverflowError, sa_exc.DataError) as exc:
            # a number beyond the column's range: SQLite's driver raises OverflowError,
            # PostgreSQL a DataError; either way the request was bad, not the store
            raise InvalidInputError("a number or value in the request is out of range for the store") from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite); commits on success."""
        self.wrote = True
        with self._translate(), self.engine.connect().execution_options(**WRITE) as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._translate(), self.engine.connect() as conn:
            yield conn

    def read_first(self, statement: Prepared, params: dict[str, Any] | None = None) -> Any:  # Any: bound values; a DB-API row
        """The first row of one statement read on its own (no transaction: see Prepared.first_alone)."""
        with self._translate():
            return statement.first_alone(self.engine, params)

    def _upsert(self, table: Any) -> Any:  # Any: dialect-specific Insert
        # each dialect's module when it is used: importing sqlalchemy.dialects.postgresql
        # loads all its drivers' modules (asyncio with asyncpg's), a tenth of a second that
        # every SQLite process (`steward runs list`) paid at start
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    def _audit(self, conn: Connection, event: AuditEvent) -> None:
        append_audit(conn, event)

    # -- experiments -------------------------------------------------------------------

    def create_experiment(
        self, name: str, tags_: dict[str, str], now: int, audit: AuditEvent, project: str | None = None
    ) -> Experiment:
        project = project or name
        try:
            with self.write() as conn:
                if conn.execute(select(experiments.c.experiment_id).where(experiments.c.name == name)).first():
                    raise AlreadyExistsError(f"experiment {name!r} already exists", field="name")
                result = conn.execute(insert(experiments).values(name=name, created_at=now, project=project))
                experiment_id = result.inserted_primary_key[0]  # type: ignore[index]
                if tags_:
                    conn.execute(
                        insert(experiment_tags),
                        [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in tags_.items()],
                    )
                self._audit(conn, AuditEvent(audit.actor, audit.action, f"experiments:/{experiment_id}", audit.timestamp, audit.details))
        except sa_exc.IntegrityError as exc:
            # lost a race with another process creating the same name
            raise AlreadyExistsError(f"experiment {name!r} already exists", field="name") from exc
        return Experiment(str(experiment_id), name, now, "active", dict(tags_), project)

    def _experiment_from_row(self, conn: Connection, row: Any) -> Experiment:  # Any: Row
        tag_rows = conn.execute(
            select(experiment_tags.c.key, experiment_tags.c.value).where(
                experiment_tags.c.experiment_id == row.experiment_id
            )
        )
        return Experiment(
            str(row.experiment_id), row.name, row.created_at, row.lifecycle_stage, {k: v for k, v in tag_rows}, row.project
        )

    @staticmethod
    def _experiment_key(experiment_id: str) -> int:
        try:
            return int(experiment_id)
        except (TypeError, ValueError):
            raise NotFoundError(f"experiment {str(experiment_id)[:40]!r} not found", field="experiment_id") from None

    def get_experiment(self, experiment_id: str) -> Experiment:
        key = self._experiment_key(experiment_id)
        with self.read() as conn:
            row = conn.execute(select(experiments).where(experiments.c.experiment_id == key)).first()
            if row is None:
                raise NotFoundError(f"experiment {experiment_id!r} not found", field="experiment_id")
            return self._experiment_from_row(conn, row)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self.read() as conn:
            row = conn.execute(select(experiments).where(experiments.c.name == name)).first()
            return None if row is None else self._experiment_from_row(conn, row)

    def experiment_ids_by_name(self, names: Sequence[str]) -> dict[str, str]:
        """Ids of the named experiments that exist (one query; search resolves names with it)."""
        if len(names) == 1:  # the usual search: one indexed read, no transaction
            found = self.read_first(_EXPERIMENT_ID_OF, {"name": names[0]})
            return {} if found is None else {names[0]: str(found[0])}
        with self.read() as conn:
            rows = _raw_rows(conn, _EXPERIMENT_IDS, {"names": list(names)})
        return {name: str(eid) for name, eid in rows}

    def list_experiments(
        self, *, include_deleted: bool = False, projects: Collection[str] | None = None
    ) -> list[Experiment]:
        with self.read() as conn:
            query = select(experiments).order_by(experiments.c.experiment_id)
            if projects is not None:
                query = query.where(experiments.c.project.in_(sorted(projects)))
            if not include_deleted:
                query = query.where(experiments.c.lifecycle_stage == "active")
            rows = conn.execute(query).all()
            all_tags: dict[int, dict[str, str]] = {}
            for eid, k, v in conn.execute(select(experiment_tags)):
                all_tags.setdefault(eid, {})[k] = v
            return [
                Experiment(
                    str(r.experiment_id), r.name, r.created_at, r.lifecycle_stage, all_tags.get(r.experiment_id, {}), r.project
                )
                for r in rows
            ]

    def set_experiment_lifecycle(self, experiment_id: str, stage: str, audit: AuditEvent) -> Experiment:
        key = self._experiment_key(experiment_id)
        with self.write() as conn:
            result = conn.execute(
                update(experiments).where(experiments.c.experiment_id == key).values(lifecycle_stage=stage)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"experiment {experiment_id!r} not found", field="experiment_id")
            conn.execute(update(runs).where(runs.c.experiment_id == key).values(lifecycle_stage=stage))
            self._audit(conn, audit)
        return self.get_experiment(experiment_id)

    def rename_experiment(self, experiment_id: str, name: str, audit: AuditEvent) -> Experiment:
        key = self._experiment_key(experiment_id)
        try:
            with self.write() as conn:
                result = conn.execute(update(experiments).where(experiments.c.experiment_id == key).values(name=name))
                if result.rowcount == 0:
                    raise NotFoundError(f"experiment {experiment_id!r} not found", field="experiment_id")
                self._audit(conn, audit)
        except sa_exc.IntegrityError as exc:
            raise AlreadyExistsError(f"experiment {name!r} already exists", field="name") from exc
        return self.get_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str, audit: AuditEvent) -> None:
        eid = self._experiment_key(experiment_id)
        with self.write() as conn:
            if conn.execute(select(experiments.c.experiment_id).where(experiments.c.experiment_id == eid)).first() is None:
                raise NotFoundError(f"experiment {experiment_id!r} not found", field="experiment_id")
            stmt = self._upsert(experiment_tags).values(experiment_id=eid, key=key, value=value)
            conn.execute(stmt.on_conflict_do_update(index_elements=["experiment_id", "key"], set_={"value": value}))
            self._audit(conn, audit)

    # -- runs --------------------------------------------------------------------------

    def create_run(
        self,
        run_id: str,
        experiment_id: str,
        name: str,
        user: str,
        start_time: int,
        params_: dict[str, str],
        tags_: dict[str, str],
        audit: AuditEvent,
        artifacts: Sequence[ArtifactInfo] = (),
    ) -> Run:
        eid = self._experiment_key(experiment_id)
        with self.write() as conn:
            row = _CREATE_CHECK.first(conn, {"eid": eid, "run_id": run_id})
            if row is None:
                raise NotFoundError(f"experiment {experiment_id!r} not found", field="experiment_id")
            stage, taken = row
            if stage != "active":
                raise ConflictError(f"experiment {experiment_id!r} is deleted", field="experiment_id")
            if taken is not None:
                # a client-chosen run_id may repeat; that is a 409, not a driver error
                raise AlreadyExistsError(f"run {run_id} already exists", field="run_id")
            _RUN_INSERT.run(
                conn,
                {
                    "run_id": run_id,
                    "experiment_id": eid,
                    "name": name,
                    "status": RunStatus.RUNNING.value,
                    "start_time": start_time,
                    "user": user,
                },
            )
            if params_:
                _PARAMS_INSERT.executemany(conn, [{"run_id": run_id, "key": k, "value": v} for k, v in params_.items()])
            if tags_:
                _TAGS_INSERT.executemany(conn, [{"run_id": run_id, "key": k, "value": v} for k, v in tags_.items()])
            if artifacts:
                # blobs the run starts with (captured packages, git diff): same transaction
                _ARTIFACTS_INSERT.executemany(
                    conn,
                    [{"run_id": run_id, "path": a.path, "digest": a.digest, "size": a.size, "created_at": a.created_at} for a in artifacts],
                )
            self._audit(conn, audit)
        return Run(run_id, str(eid), name, RunStatus.RUNNING, start_time, None, user, "", "active", dict(params_), {}, dict(tags_))

    def _runs_by_ids(self, conn: Connection, rows: Sequence[Any]) -> list[Run]:  # Any: rows of `runs`' columns in order
        ids = [r[0] for r in rows]
        if not ids:
            return []
        p: dict[str, dict[str, str]] = {i: {} for i in ids}
        t: dict[str, dict[str, str]] = {i: {} for i in ids}
        m: dict[str, dict[str, Metric]] = {i: {} for i in ids}
        inp: dict[str, list[RunInput]] = {i: [] for i in ids}
        if len(ids) == 1:
            # one run (its end, get_run): four indexed reads on the DB-API cursor
            rid = ids[0]
            bound = {"run_id": rid}
            p[rid] = dict(_PARAMS_OF_RUN.all(conn, bound))
            t[rid] = dict(_TAGS_OF_RUN.all(conn, bound))
            m[rid] = {
                key: Metric(key, _value_out(value, bool(is_nan)), step, ts)
                for key, value, is_nan, step, ts in _LATEST_OF_RUN.all(conn, bound)
            }
            inp[rid] = [RunInput(ds, role) for ds, role in _INPUTS_OF_RUN.all(conn, bound)]
            ids = []
        details = _details(self.dialect) if ids else None
        for chunk in _chunks(ids, 500):
            assert details is not None
            bound = details.bound(chunk)
            for rid, run_params, run_tags in details.params_tags.all(conn, bound):
                p[rid] = _json_object(run_params)
                t[rid] = _json_object(run_tags)
            for rid, key, value, is_nan, step, ts in details.latest.all(conn, bound):
                m[rid][key] = Metric(key, _value_out(value, bool(is_nan)), step, ts)
            for rid, ds, role in details.inputs.all(conn, bound):
                inp[rid].append(RunInput(ds, role))
        # run_id, experiment_id, name, status, start_time, end_time, user, note, failure, lifecycle_stage
        return [
            Run(
                r[0], str(r[1]), r[2], RunStatus(r[3]), r[4], r[5], r[6], r[7], r[9],
                p[r[0]], m[r[0]], t[r[0]], tuple(inp[r[0]]),
            )
            for r in rows
        ]

    def get_run(self, run_id: str) -> Run:
        with self.read() as conn:
            row = _RUN_ROW.first(conn, {"run_id": run_id})
            if row is None:
                raise NotFoundError(f"run {str(run_id)[:40]!r} not found", field="run_id")
            return self._runs_by_ids(conn, [row])[0]

    def get_run_failure(self, run_id: str) -> str | None:
        with self.read() as conn:
            row = conn.execute(select(runs.c.failure).where(runs.c.run_id == run_id)).first()
            if row is None:
                raise NotFoundError(f"run {str(run_id)[:40]!r} not found", field="run_id")
            return row.failure  # type: ignore[no-any-return]

    def _require_running(self, conn: Connection, run_id: str, *, allow_ended: bool = False) -> str:
        """The run's status; refuse a deleted run, and an ended one unless ``allow_ended``."""
        row = _RUN_STATE.first(conn, {"run_id": run_id})
        if row is None:
            raise NotFoundError(f"run {str(run_id)[:40]!r} not found", field="run_id")
        status, stage = row
        if status != RunStatus.RUNNING.value and not allow_ended:
            raise ConflictError(f"run {run_id} is {status}; only running runs accept data", field="run_id")
        if stage != "active":
            raise ConflictError(f"run {run_id} is deleted", field="run_id")
        return str(status)

    def update_run(
        self,
        run_id: str,
        audit: AuditEvent,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
        note: str | None = None,
        failure: str | None = None,
        metrics: Sequence[Metric] = (),
        reopen: bool = False,
    ) -> Run:
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status.value
            if status.is_terminal:
                values["end_time"] = end_time if end_time is not None else audit.timestamp
            elif reopen:
                values["end_time"] = None
        if name is not None:
            values["name"] = name
        if note is not None:
            values["note"] = note
        if failure is not None:
            values["failure"] = failure
        with self.write() as conn:
            row = _RUN_STATE.first(conn, {"run_id": run_id})
            if row is None:
                raise NotFoundError(f"run {str(run_id)[:40]!r} not found", field="run_id")
            current, stage = row
            reopening = reopen and status is RunStatus.RUNNING
            if status is not None and RunStatus(current).is_terminal and status != RunStatus(current) and not reopening:
                raise ConflictError(f"run {run_id} is already {current}", field="status")
            if reopening and stage != "active":
                raise ConflictError(f"run {run_id} is deleted", field="run_id")
            if metrics:
                # the last buffered points of a run that is ending: stored with the status change
                if current != RunStatus.RUNNING.value:
                    raise ConflictError(f"run {run_id} is {current}; only running runs accept data", field="run_id")
                self._insert_metrics(conn, run_id, metrics)
            if values:
                _RUN_UPDATE.run(conn, {**values, "b_run_id": run_id})
            self._audit(conn, audit)
            # read back inside the transaction: the run as stored, without a second connection
            return self._runs_by_ids(conn, [_RUN_ROW.first(conn, {"run_id": run_id})])[0]

    def set_run_lifecycle(self, run_id: str, stage: str, audit: AuditEvent) -> Run:
        with self.write() as conn:
            result = conn.execute(update(runs).where(runs.c.run_id == run_id).values(lifecycle_stage=stage))
            if result.rowcount == 0:
                raise NotFoundError(f"run {str(run_id)[:40]!r} not found", field="run_id")
            self._audit(conn, audit)
        return self.get_run(run_id)

    def log_batch(
        self,
        run_id: str,
        metrics_: Sequence[Metric],
        params_: dict[str, str],
        tags_: dict[str, str],
        audit: AuditEvent,
        *,
        allow_ended: bool = False,
    ) -> None:
        with self.write() as conn:
            status = self._require_running(conn, run_id, allow_ended=allow_ended)
            if status != RunStatus.RUNNING.value:
                # data logged to an ended run (MLflow allows it): its own action in the trail
                audit = AuditEvent(audit.actor, "runs.log_after_end", audit.target, audit.timestamp, {**audit.details, "status": status})
            if params_:
                existing = dict(
                    conn.execute(
                        select(params.c.key, params.c.value).where(
                            params.c.run_id == run_id, params.c.key.in_(list(params_))
                        )
                    ).all()
                )
                for key, value in params_.items():
                    if key in existing and existing[key] != value:
                        raise ConflictError(
                            f"param {key!r} is already logged with a different value; params are immutable",
                            field=f"params.{key}",
                        )
                new = [{"run_id": run_id, "key": k, "value": v} for k, v in params_.items() if k not in existing]
                if new:
                    # On PostgreSQL another writer may add the same key between our read and
                    # this insert: skip the duplicate instead of failing with a driver error,
                    # then check that what is stored now is what we meant to store.
                    conn.execute(self._upsert(params).on_conflict_do_nothing(), new)
                    stored = dict(
                        conn.execute(
                            select(params.c.key, params.c.value).where(
                                params.c.run_id == run_id, params.c.key.in_([r["key"] for r in new])
                            )
                        ).all()
                    )
                    for row in new:
                        if stored.get(row["key"]) != row["value"]:
                            raise ConflictError(
                                f"param {row['key']!r} is already logged with a different value; params are immutable",
                                field=f"params.{row['key']}",
                            )
            if tags_:
                stmt = self._upsert(tags)
                stmt = stmt.on_conflict_do_update(index_elements=["run_id", "key"], set_={"value": stmt.excluded.value})
                conn.execute(stmt, [{"run_id": run_id, "key": k, "value": v} for k, v in tags_.items()])
            if metrics_:
                self._insert_metrics(conn, run_id, metrics_)
            self._audit(conn, audit)

    def _insert_metrics(self, conn: Connection, run_id: str, points: Sequence[Metric]) -> None:
        by_key: dict[str, tuple[list[int], list[float], list[int]]] = {}
        for p in points:
            cols = by_key.get(p.key)
            if cols is None:
                cols = by_key[p.key] = ([], [], [])
            cols[0].append(p.step)
            cols[1].append(p.value)
            cols[2].append(p.timestamp)
        chunks = []
        latest: dict[str, Metric] = {}
        for key, (steps, values, stamps) in by_key.items():
            chunk = encode_chunk(steps, values, stamps)
            chunks.append({"run_id": run_id, "key": key, **chunk.as_row()})
            latest[key] = chunk.latest(key)
        _CHUNK_INSERT.executemany(conn, chunks)
        self._latest_upsert.executemany(
            conn,
            [
                {
                    "run_id": run_id,
                    "key": m.key,
                    "value": None if math.isnan(m.value) else m.value,
                    "is_nan": math.isnan(m.value),
                    "step": m.step,
                    "timestamp": m.timestamp,
                }
                for m in latest.values()
            ],
        )

    def delete_tag(self, run_id: str, key: str, audit: AuditEvent) -> None:
        with self.write() as conn:
            self._require_running_or_any(conn, run_id)
            result = conn.execute(delete(tags).where(tags.c.run_id == run_id, tags.c.key == key))
            if result.rowcount == 0:
                raise NotFoundError(f"tag {key!r} not found on run {run_id}", field="key")
            self._audit(conn, audit)

    def require_run(self, run_id: str) -> None:
        """Raise :class:`NotFoundError` unless the run exists (one indexed read)."""
        if self.read_first(_RUN_STATE_READ, {"run_id": run_id}) is None:
            raise NotFoundError(f"run {str(run_id)[:40]!r} not found", field="run_id")

    def _require_running_or_any(self, conn: Connection, run_id: str) -> None:
        if _RUN_STATE_READ.first(conn, {"run_id": run_id}) is None:
            raise NotFoundError(f"run {str(run_id)[:40]!r} not found", field="run_id")

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput], audit: AuditEvent, *, allow_ended: bool = False) -> None:
        with self.write() as conn:
            status = self._require_running(conn, run_id, allow_ended=allow_ended)
            if status != RunStatus.RUNNING.value:
                audit = AuditEvent(audit.actor, "runs.log_after_end", audit.target, audit.timestamp, {**audit.details, "status": status})
            stmt = self._upsert(run_inputs).on_conflict_do_nothing()
            conn.execute(stmt, [{"run_id": run_id, "dataset": i.dataset, "role": i.role} for i in inputs])
            self._audit(conn, audit)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        with self.read() as conn:
            self._require_running_or_any(conn, run_id)
            rows = conn.execute(
                select(metric_chunks.c.steps, metric_chunks.c["values"], metric_chunks.c.timestamps)
                .where(metric_chunks.c.run_id == run_id, metric_chunks.c.key == key)
                .order_by(metric_chunks.c.id)
            ).all()
        return decode_history(key, rows)

    def count_metrics(self, run_id: str | None = None) -> int:
        """Number of stored metric points (all runs, or one run)."""
        with self.read() as conn:
            query = select(func.coalesce(func.sum(metric_chunks.c.count), 0))
            if run_id is not None:
                query = query.where(metric_chunks.c.run_id == run_id)
            return int(conn.execute(query).scalar_one())

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_expr: FilterExpr | None,
        order_by: Sequence[OrderBy],
        max_results: int,
        page_token: str | None,
        *,
        include_deleted: bool = False,
        projects: Collection[str] | None = None,
    ) -> RunPage:
        offset = decode_token(page_token)
        eids = [self._experiment_key(e) for e in experiment_ids]
        query = select(runs).where(to_sql(filter_expr))
        if eids:
            query = query.where(runs.c.experiment_id.in_(eids))
        if projects is not None:
            # only runs the caller may read, filtered before paging
            readable = select(experiments.c.experiment_id).where(experiments.c.project.in_(sorted(projects)))
            query = query.where(runs.c.experiment_id.in_(readable))
        if not include_deleted:
            query = query.where(runs.c.lifecycle_stage == "active")
        with self.read() as conn:
            rows = page_rows(conn, query, order_by, offset, max_results + 1)
            more = len(rows) > max_results
            found = self._runs_by_ids(conn, rows[:max_results])
        return RunPage(found, encode_token(offset + max_results) if more else None)

    # -- artifacts ---------------------------------------------------------------------

    def record_artifact(self, run_id: str, info: ArtifactInfo, audit: AuditEvent) -> None:
        with self.write() as conn:
            # the run's row lock (PostgreSQL) orders concurrent uploads of one run, so the
            # digest read here is the one this upsert replaces
            if _RUN_STATE.first(conn, {"run_id": run_id}) is None:
                raise NotFoundError(f"run {str(run_id)[:40]!r} not found", field="run_id")
            found = _ARTIFACT_DIGEST.first(conn, {"run_id": run_id, "path": info.path})
            previous = None if found is None else found[0]
            self._artifact_upsert.run(
                conn,
                {"run_id": run_id, "path": info.path, "digest": info.digest, "size": info.size, "created_at": info.created_at},
            )
            if previous is not None and previous != info.digest:
                details = {**audit.details, "path": info.path, "old_digest": previous, "new_digest": info.digest}
                audit = AuditEvent(audit.actor, "artifacts.overwrite", audit.target, audit.timestamp, details)
            self._audit(conn, audit)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        with self.read() as conn:
            self._require_running_or_any(conn, run_id)
            query = select(run_artifacts).where(run_artifacts.c.run_id == run_id)
            if prefix:
                query = query.where(run_artifacts.c.path.startswith(prefix.rstrip("/") + "/", autoescape=True))
            rows = conn.execute(query.order_by(run_artifacts.c.path))
            return [ArtifactInfo(r.path, r.digest, r.size, r.created_at) for r in rows]

    def get_artifact(self, run_id: str, path: str) -> ArtifactInfo:
        with self.read() as conn:
            row = conn.execute(
                select(run_artifacts).where(run_artifacts.c.run_id == run_id, run_artifacts.c.path == path)
            ).first()
            if row is None:
                self._require_running_or_any(conn, run_id)
                raise NotFoundError(f"artifact {path[:200]!r} not found in run {run_id}", field="path")
            return ArtifactInfo(row.path, row.digest, row.size, row.created_at)

    # -- audit -------------------------------------------------------------------------

    def list_audit(self, *, target: str | None = None, since: int | None = None, limit: int = 1000) -> list[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.entry_id)
        if target is not None:
            query = query.where(audit_log.c.target.startswith(target, autoescape=True))
        if since is not None:
            query = query.where(audit_log.c.timestamp >= since)
        with self.read() as conn:
            rows = conn.execute(query.limit(limit))
            return [AuditEntry(r.entry_id, r.timestamp, r.actor, r.action, r.target, dict(r.details)) for r in rows]


def _raw_rows(conn: Connection, stmt: Any, params: dict[str, Any]) -> list[Any]:  # Any: statement, bound values, rows
    """Plain DB-API tuples of a query whose columns are all plain types.

    A search returns thousands of param and tag rows; building SQLAlchemy Row objects for
    them cost more than the query itself. Only for columns whose types need no result
    processing (strings, integers, floats, booleans stored as integers).
    """
    result = conn.execute(stmt, params)
    rows: list[Any] = list(result.cursor.fetchall()) if result.cursor is not None else []
    result.close()
    return rows


def _value_out(value: float | None, is_nan: bool) -> float:
    return math.nan if is_nan or value is None else float(value)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
