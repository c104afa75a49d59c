"""Hot-path statements on the DB-API cursor (adapters/sql/_fast.py) behave as Connection.execute:
same rows, same SQLAlchemy errors, visible to cursor-execute listeners; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from steward.adapters.sql import SqlStore
from steward.adapters.sql._fast import Prepared
from steward.adapters.sql._tables import audit_log, experiments, runs
from steward.core import Metric, RunStatus
from steward.tracking import AuditEvent, TrackingService

_STATE = Prepared(sa.select(runs.c.status, runs.c.lifecycle_stage).where(runs.c.run_id == sa.bindparam("run_id")))
_INSERT = Prepared(sa.insert(runs))


def _new_run(conn: sa.Connection, run_id: str, experiment_id: int) -> None:
    _INSERT.run(conn, {"run_id": run_id, "experiment_id": experiment_id, "name": "r", "status": "RUNNING", "start_time": 1, "user": "u"})


def test_prepared_statements_read_write_and_raise_as_sqlalchemy_does(store: SqlStore) -> None:
    with store.write() as conn:
        eid = conn.execute(sa.insert(experiments).values(name="e", created_at=0, project="p")).inserted_primary_key[0]  # type: ignore[index]
        _new_run(conn, "a" * 32, int(eid))
        assert _STATE.first(conn, {"run_id": "a" * 32}) == ("RUNNING", "active")  # server default filled in
    assert store.read_first(_STATE, {"run_id": "a" * 32}) == ("RUNNING", "active")
    assert store.read_first(_STATE, {"run_id": "b" * 32}) is None
    with pytest.raises(sa_exc.IntegrityError), store.write() as conn:
        _new_run(conn, "a" * 32, int(eid))  # the same key again: the driver's error, wrapped
    with store.write() as conn:  # the store is usable after the failed transaction
        _new_run(conn, "c" * 32, int(eid))


def test_cursor_execute_listeners_see_prepared_statements(store: SqlStore) -> None:
    seen: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", listen)
    try:
        store.read_first(_STATE, {"run_id": "x" * 32})
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", listen)
    assert any("FROM runs" in s for s in seen)


def test_a_run_tracked_on_the_fast_path_reads_back_whole_and_audited(tracking: TrackingService) -> None:
    exp = tracking.create_experiment("fast")
    run = tracking.create_run(exp.experiment_id, params={"p": "1", "q": "two"}, tags={"t": "x"}, artifacts={"a.txt": b"a"})
    tracking.log_artifact_bytes(run.run_id, b"b", "b.txt")
    ended = tracking.end_run(run.run_id, metrics=[Metric("m", 0.25, 3, 7), Metric("m", float("nan"), 4, 8)])
    assert ended.status is RunStatus.FINISHED and ended.params == {"p": "1", "q": "two"} and ended.tags == {"t": "x"}
    assert ended.metrics["m"].step == 4 and ended.metrics["m"].value != ended.metrics["m"].value  # NaN kept
    page = tracking.search_runs("fast", filter="params.q = 'two'")
    assert [r.run_id for r in page.runs] == [run.run_id] and page.runs[0].params == ended.params
    assert page.runs[0].tags == {"t": "x"} and page.runs[0].metrics["m"].step == 4
    assert tracking.get_run(run.run_id) == ended
    actions = [e.action for e in tracking.store.list_audit(target=f"runs:/{run.run_id}")]  # type: ignore[attr-defined]
    assert actions == ["runs.create", "runs.log_artifact", "runs.end"]


def test_a_read_only_command_neither_signs_the_audit_head_nor_loads_what_it_does_not_use(tmp_path: Path) -> None:
    env = {"STEWARD_HOME": str(tmp_path / "home"), "STEWARD_USER": "t", "PATH": "/usr/bin:/bin"}
    script = (
        "import json, sys\n"
        "from steward.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    subprocess.run([sys.executable, "-c", script, "experiments", "create", "e"], env=env, check=True, capture_output=True)
    checkpoints = tmp_path / "home" / "artifacts" / "_audit" / "checkpoints"
    before = sorted(p.name for p in checkpoints.iterdir())
    done = subprocess.run([sys.executable, "-c", script, "runs", "list"], env=env, check=True, capture_output=True, text=True)
    modules = set(json.loads(done.stderr.splitlines()[-1]))
    heavy = ("fsspec", "botocore", "rich", "cryptography", "sqlalchemy.dialects.postgresql", "steward.governance._secrets")
    assert sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in heavy)) == []
    assert sorted(p.name for p in checkpoints.iterdir()) == before


def test_audit_entries_of_the_fast_path_chain_as_before(store: SqlStore) -> None:
    from steward.adapters.sql._audit import SqlAuditStore

    audit = SqlAuditStore(store)
    first = audit.record(AuditEvent("t", "x.one", "things:/1", 1, {"k": [1, "2"]}))
    second = audit.record(AuditEvent("t", "x.two", "things:/2", 2, {}))
    assert second == first + 1
    with store.read() as conn:
        rows = conn.execute(sa.select(audit_log.c.details, audit_log.c.prev_hash, audit_log.c.hash).order_by(audit_log.c.entry_id)).all()
    assert rows[-2].details == {"k": [1, "2"]} and rows[-1].prev_hash == rows[-2].hash
