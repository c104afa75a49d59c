"""The attack: delete the newest audit entries straight in the database (SQLite and
PostgreSQL), and forge the checkpoints that vouch for the head. ``steward audit verify``
must notice without being told the head, naming the missing range; a checkpoint whose
signature does not hold is itself reported."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from typer.testing import CliRunner, Result

from steward.adapters.artifacts import ArtifactCheckpointStore
from steward.adapters.sql._audit import SqlAuditStore
from steward.cli import app as cli_app
from steward.errors import StorageError
from steward.governance import generate_master_key
from steward.governance._audit_checkpoints import KEEP_CHECKPOINTS, checkpoint_name
from steward.server import create_app
from steward.settings import Settings
from steward.tracking import AuditEvent, now_ms
from steward.wiring import Services


class Steward:
    """``steward ...`` in-process against one store; no other STEWARD_* leaks in."""

    def __init__(self, settings: Settings, **extra: str) -> None:
        self.url = settings.resolved_database_url()
        self.artifacts = Path(settings.resolved_artifact_root())
        self.env: dict[str, str | None] = {f"STEWARD_{n.upper()}": None for n in Settings.model_fields}
        self.env.update(
            STEWARD_HOME=str(settings.home), STEWARD_DATABASE_URL=self.url, STEWARD_ARTIFACT_ROOT=str(self.artifacts),
            STEWARD_USER="tester", STEWARD_CAPTURE_GIT="false", STEWARD_CAPTURE_PACKAGES="false", NO_COLOR="1", COLUMNS="250",
            **extra,
        )

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(cli_app, list(args), env=self.env)

    def sql(self, statement: str, **params: object) -> None:
        engine = sa.create_engine(self.url)
        with engine.begin() as conn:
            conn.execute(sa.text(statement), params)
        engine.dispose()

    def checkpoints(self) -> list[Path]:
        folder = self.artifacts / "_audit" / "checkpoints"
        return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def steward(settings: Settings, store_url: str) -> Steward:
    if store_url.startswith("postgresql"):
        # a team store is given its key; the embedded one creates its key file (0600)
        return Steward(settings, STEWARD_MASTER_KEY=generate_master_key())
    return Steward(settings)


def _seed(steward: Steward, n: int = 5) -> int:
    for i in range(n):
        result = steward("experiments", "create", f"exp-{i}")
        assert result.exit_code == 0, result.output
    head: int = json.loads(steward("audit", "verify", "--json").stdout)["head"]["entry_id"]
    return head


def _keyed(services: Services) -> Services:
    return Services(services.settings.model_copy(update={"master_key": SecretStr(generate_master_key())}), services.store, services.blobs)


def _append(services: Services, n: int) -> None:
    store = SqlAuditStore(services.store)
    for i in range(n):
        store.record(AuditEvent("tester", "tests.append", f"things:/{i}", now_ms(), {"i": i}))


def test_deleting_the_last_entries_makes_verify_exit_1_naming_the_gap_without_being_told_the_head(steward: Steward) -> None:
    head = _seed(steward)
    assert steward.checkpoints(), "every command signs the head it leaves on exit"
    steward.sql("DELETE FROM audit_log WHERE entry_id > :keep", keep=head - 2)

    result = steward("audit", "verify")
    assert result.exit_code == 1
    assert f"entries {head - 1}-{head} are missing" in result.stderr
    assert f"the table ends at entry {head - 2}" in result.stderr
    assert "Traceback" not in result.output
    doc = json.loads(steward("audit", "verify", "--json").stdout)
    assert doc["intact"] is False
    assert doc["missing"] == {"first": head - 1, "last": head}
    assert doc["head"]["entry_id"] == head - 2 and doc["checkpoint"]["entry_id"] == head


def test_deleting_only_the_newest_entry_is_caught(steward: Steward) -> None:
    head = _seed(steward, 2)
    steward.sql("DELETE FROM audit_log WHERE entry_id = :head", head=head)
    result = steward("audit", "verify")
    assert result.exit_code == 1 and f"entry {head} is missing" in result.stderr


def test_emptying_the_audit_table_is_caught(steward: Steward) -> None:
    head = _seed(steward, 2)
    steward.sql("DELETE FROM audit_log")
    result = steward("audit", "verify")
    assert result.exit_code == 1
    assert f"entries 1-{head} are missing: the table is empty" in result.stderr


def test_an_intact_trail_verifies_against_its_checkpoints(steward: Steward) -> None:
    head = _seed(steward)
    result = steward("audit", "verify")
    assert result.exit_code == 0, result.output
    assert f"the newest at entry {head}" in result.stdout


def test_a_checkpoint_forged_to_cover_the_cut_is_reported_as_tampering(steward: Steward) -> None:
    head = _seed(steward)
    steward.sql("DELETE FROM audit_log WHERE entry_id > :keep", keep=head - 2)
    # the attacker rewrites the newest checkpoint to the shortened head ...
    newest = steward.checkpoints()[-1]
    doc = json.loads(newest.read_text())
    entries = {e["entry_id"]: e for e in map(json.loads, steward("audit", "export").stdout.splitlines())}
    doc.update(entry_id=head - 2, hash=entries[head - 2]["hash"])
    newest.unlink()
    # ... under the name that matches, and removes the others that recorded the longer chain
    for older in steward.checkpoints():
        if int(older.stem) > head - 2:
            older.unlink()
    (newest.parent / checkpoint_name(head - 2)).write_text(json.dumps(doc))

    result = steward("audit", "verify")
    assert result.exit_code == 1
    assert f"audit checkpoint {checkpoint_name(head - 2)} has a bad signature: it was forged or altered" in result.output
    report = json.loads(steward("audit", "verify", "--json").stdout)
    assert report["intact"] is False
    assert report["checkpoint_problems"] == [f"audit checkpoint {checkpoint_name(head - 2)} has a bad signature: it was forged or altered"]


def test_a_checkpoint_added_under_a_higher_entry_is_reported(steward: Steward) -> None:
    head = _seed(steward, 2)
    newest = steward.checkpoints()[-1]
    doc = json.loads(newest.read_text())
    doc.update(entry_id=head + 50, hash="ab" * 32)
    (newest.parent / checkpoint_name(head + 50)).write_text(json.dumps(doc))
    result = steward("audit", "verify")
    assert result.exit_code == 1
    assert f"{checkpoint_name(head + 50)} has a bad signature" in result.output
    # a forged checkpoint proves nothing: it is not taken as a missing range
    assert json.loads(steward("audit", "verify", "--json").stdout)["missing"] is None


def test_a_renamed_checkpoint_is_reported(steward: Steward) -> None:
    head = _seed(steward, 2)
    newest = steward.checkpoints()[-1]
    newest.rename(newest.parent / checkpoint_name(head - 1 if head > 1 else head + 1))
    result = steward("audit", "verify")
    assert result.exit_code == 1 and "under another name: it was renamed" in result.output


def test_a_checkpoint_written_after_the_cut_does_not_hide_it(services: Services) -> None:
    keyed = _keyed(services)
    _append(keyed, 6)
    assert keyed.audit().checkpoint() is not None
    with keyed.store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE entry_id > 3"))
    # the server keeps signing whatever head it finds
    written = keyed.audit().checkpoint()
    assert written is not None and written.entry_id == 3
    report = keyed.audit().verify()
    assert not report.intact and report.missing == (4, 6)
    # and appends after the cut reuse the ids with other hashes: the old checkpoint says so
    _append(keyed, 4)
    report = keyed.audit().verify()
    assert report.first_break is not None and report.first_break.entry_id == 6
    assert "differs from the checkpoint of" in report.first_break.reason


def test_without_a_master_key_verify_says_checkpoints_are_unavailable(services: Services) -> None:
    _append(services, 3)
    with pytest.raises(StorageError, match="master key"):
        services.audit().checkpoint()
    report = services.audit().verify()
    assert report.intact and report.checkpoint is None
    assert report.checkpoints_note == "checkpoints unavailable: no master key configured"
    assert not (services.settings.home / "master.key").exists()  # verifying never creates a key


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_the_cli_without_a_master_key_on_postgresql_says_unavailable_and_exits_0(settings: Settings) -> None:
    steward = Steward(settings)
    assert steward("experiments", "create", "fraud").exit_code == 0  # no key: nothing signed, nothing failed
    assert steward.checkpoints() == []
    result = steward("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "checkpoints unavailable: no master key configured" in result.stdout
    result = steward("audit", "checkpoint")
    assert result.exit_code == 6 and "STEWARD_MASTER_KEY" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_removing_the_master_key_does_not_switch_the_check_off(steward: Steward, settings: Settings) -> None:
    head = _seed(steward)
    steward.sql("DELETE FROM audit_log WHERE entry_id = :head", head=head)
    (settings.home / "master.key").unlink()
    result = steward("audit", "verify")
    assert result.exit_code == 1
    assert "signed checkpoints exist but no master key is configured to check them" in result.stderr


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_checkpoint_command_signs_the_head_once_and_keeps_the_newest_hundred(services: Services) -> None:
    keyed = _keyed(services)
    audit = keyed.audit()
    for _ in range(KEEP_CHECKPOINTS + 3):
        _append(keyed, 1)
        assert audit.checkpoint() is not None
    assert audit.checkpoint() is None  # the head is signed already
    names = ArtifactCheckpointStore(keyed.blobs).list_checkpoints()
    assert len(names) == KEEP_CHECKPOINTS and names[-1] == checkpoint_name(KEEP_CHECKPOINTS + 3)
    assert audit.verify().intact


def test_the_server_signs_the_head_on_its_schedule_and_on_shutdown(services: Services) -> None:
    keyed = _keyed(services)
    app = create_app(keyed.settings.model_copy(update={"audit_checkpoint_interval": 0.05}), keyed)
    stored = ArtifactCheckpointStore(keyed.blobs)
    trail = SqlAuditStore(keyed.store)

    def head() -> int:
        current = trail.head()
        assert current is not None
        return current[0]

    async def serve() -> tuple[int, list[str], int]:
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://steward.test") as client:
            assert (await client.post("/api/v1/experiments", json={"name": "fraud"})).status_code == 201
            first = head()
            for _ in range(200):  # the schedule signs the new head within an interval or two
                if checkpoint_name(first) in await asyncio.to_thread(stored.list_checkpoints):
                    break
                await asyncio.sleep(0.05)
            scheduled = await asyncio.to_thread(stored.list_checkpoints)
            # a change just before shutdown is signed on the way out
            assert (await client.post("/api/v1/experiments", json={"name": "churn"})).status_code == 201
        return first, scheduled, head()

    first, scheduled, last = asyncio.run(serve())
    assert checkpoint_name(first) in scheduled and last > first
    assert checkpoint_name(last) in stored.list_checkpoints()
    with keyed.store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE entry_id > :first"), {"first": first})
    report = keyed.audit().verify()
    assert report.missing == (first + 1, last) and not report.intact
