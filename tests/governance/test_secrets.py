"""Secrets: encrypted at rest, resolved by name, never shown, audited by name only."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from typer.testing import CliRunner

from steward.adapters.sql._tables_secrets import secrets as secrets_table
from steward.cli import app as cli_app
from steward.errors import IntegrityError, InvalidInputError, NotFoundError, StorageError
from steward.governance import check_secret_name, generate_master_key, load_master_key
from steward.settings import Settings
from steward.wiring import Services

VALUE = "pa55-w0rd-that-must-never-leak"


@pytest.fixture
def keyed(services: Services) -> Services:
    """Services with a master key given in settings (works on PostgreSQL too)."""
    return Services(services.settings.model_copy(update={"master_key": SecretStr(generate_master_key())}), services.store, services.blobs)


def _dump(services: Services) -> str:
    """Every byte of the secrets and audit tables, as text."""
    with services.store.read() as conn:
        rows = [*conn.execute(sa.text("SELECT * FROM secrets")), *conn.execute(sa.text("SELECT * FROM audit_log"))]
    return repr([tuple(r) for r in rows])


def test_a_secret_round_trips_and_is_stored_only_encrypted(keyed: Services) -> None:
    svc = keyed.secrets("alice")
    info = svc.set_secret("DB_PASSWORD", VALUE)
    assert (info.name, info.version, info.created_by) == ("DB_PASSWORD", 1, "alice")
    assert svc.resolve("DB_PASSWORD") == VALUE
    dumped = _dump(keyed)
    assert VALUE not in dumped and VALUE.encode().hex() not in dumped
    with keyed.store.read() as conn:
        first = conn.execute(sa.select(secrets_table.c.ciphertext)).scalar_one()
    svc.set_secret("DB_PASSWORD", VALUE)
    with keyed.store.read() as conn:
        second, version = conn.execute(sa.select(secrets_table.c.ciphertext, secrets_table.c.version)).one()
    assert bytes(first) != bytes(second) and version == 2  # a fresh nonce every time


def test_the_audit_trail_records_names_and_never_values(keyed: Services) -> None:
    svc = keyed.secrets("alice")
    svc.set_secret("TOKEN", VALUE)
    svc.resolve("TOKEN")
    svc.delete_secret("TOKEN")
    entries = keyed.store.list_audit(target="secrets:/")
    assert [(e.action, e.target) for e in entries] == [
        ("secrets.set", "secrets:/TOKEN"), ("secrets.resolve", "secrets:/TOKEN"), ("secrets.delete", "secrets:/TOKEN"),
    ]
    assert VALUE not in repr(entries)
    assert keyed.audit().verify().intact


def test_listing_shows_names_and_history_only(keyed: Services) -> None:
    svc = keyed.secrets("alice")
    svc.set_secret("B_KEY", VALUE)
    svc.set_secret("A_KEY", VALUE + "2")
    listed = svc.list_secrets()
    assert [s.name for s in listed] == ["A_KEY", "B_KEY"]
    assert VALUE not in repr(listed)
    assert svc.resolve_env(["A_KEY", "B_KEY"]) == {"A_KEY": VALUE + "2", "B_KEY": VALUE}


def test_a_different_master_key_cannot_read_and_says_which_key_is_needed(keyed: Services) -> None:
    keyed.secrets("alice").set_secret("DB_PASSWORD", VALUE)
    other = Services(keyed.settings.model_copy(update={"master_key": SecretStr(generate_master_key())}), keyed.store, keyed.blobs)
    with pytest.raises(IntegrityError, match="encrypted with master key") as caught:
        other.secrets("bob").resolve("DB_PASSWORD")
    assert VALUE not in str(caught.value)


def test_a_ciphertext_moved_to_another_name_does_not_decrypt(keyed: Services) -> None:
    svc = keyed.secrets("alice")
    svc.set_secret("REAL", VALUE)
    svc.set_secret("DECOY", "something-else")
    with keyed.store.engine.begin() as conn:
        real = conn.execute(sa.select(secrets_table.c.ciphertext).where(secrets_table.c.name == "REAL")).scalar_one()
        conn.execute(sa.update(secrets_table).where(secrets_table.c.name == "DECOY").values(ciphertext=real))
    with pytest.raises(IntegrityError, match="altered"):
        svc.resolve("DECOY")


@pytest.mark.parametrize("name", ["", "1ABC", "has-dash", "spa ce", "x" * 129, "../etc", "A;DROP TABLE secrets"])
def test_bad_names_are_refused_without_echoing_them(name: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_secret_name(name)
    assert caught.value.field == "name" and (not name or name not in caught.value.message)


def test_empty_and_oversized_values_are_refused(keyed: Services) -> None:
    with pytest.raises(InvalidInputError, match="non-empty"):
        keyed.secrets().set_secret("X_KEY", "")
    with pytest.raises(InvalidInputError, match="at most"):
        keyed.secrets().set_secret("X_KEY", "a" * (64 * 1024 + 1))


def test_unknown_secrets_are_not_found(keyed: Services) -> None:
    with pytest.raises(NotFoundError):
        keyed.secrets().resolve("NOPE")
    with pytest.raises(NotFoundError):
        keyed.secrets().delete_secret("NOPE")


def test_the_embedded_store_creates_a_0600_key_file_once(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h")
    first = load_master_key(settings)
    path = tmp_path / "h" / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_master_key(settings) == first
    assert "key=" not in repr(first)  # the key bytes never show in a repr


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h")
    load_master_key(settings)
    os.chmod(tmp_path / "h" / "master.key", 0o644)
    with pytest.raises(InvalidInputError, match="chmod 600"):
        load_master_key(settings)


def test_a_malformed_master_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="32 bytes") as caught:
        load_master_key(Settings(home=tmp_path, master_key="not-a-real-key-but-secret"))
    assert "not-a-real-key" not in caught.value.message


def test_a_postgresql_store_never_invents_a_key(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url="postgresql+psycopg://u@h/db")
    with pytest.raises(StorageError, match="STEWARD_MASTER_KEY"):
        load_master_key(settings)
    assert not (tmp_path / "master.key").exists()


# -- REST ------------------------------------------------------------------------------


@pytest.fixture
def keyed_api(keyed: Services, asgi_client: Any) -> httpx.Client:
    from steward.server import create_app

    client: httpx.Client = asgi_client(create_app(keyed.settings, keyed))
    return client


def test_the_api_sets_lists_and_deletes_and_never_returns_a_value(keyed_api: httpx.Client, keyed: Services) -> None:
    put = keyed_api.put("/api/v1/secrets/DB_PASSWORD", json={"value": VALUE})
    assert put.status_code == 200 and put.json()["name"] == "DB_PASSWORD" and put.json()["version"] == 1
    listed = keyed_api.get("/api/v1/secrets")
    one = keyed_api.get("/api/v1/secrets/DB_PASSWORD")
    audit = keyed_api.get("/api/v1/audit")
    for response in (put, listed, one, audit):
        assert VALUE not in response.text
    assert [s["name"] for s in listed.json()["secrets"]] == ["DB_PASSWORD"]
    assert keyed.secrets().resolve("DB_PASSWORD") == VALUE
    assert keyed_api.delete("/api/v1/secrets/DB_PASSWORD").status_code == 204
    assert keyed_api.get("/api/v1/secrets/DB_PASSWORD").status_code == 404


def test_bad_bodies_are_422_naming_the_field_without_echoing_the_value(keyed_api: httpx.Client) -> None:
    bodies: list[dict[str, Any]] = [
        {"value": 12345678}, {"value": ""}, {"value": VALUE, "extra": VALUE}, {"valu": VALUE}, {"value": ["x", VALUE]},
    ]
    for body in bodies:
        response = keyed_api.put("/api/v1/secrets/DB_PASSWORD", json=body)
        assert response.status_code == 422, body
        assert set(response.json()["error"]) >= {"code", "message", "field"}
        assert VALUE not in response.text and "12345678" not in response.text


def test_a_bad_name_in_the_path_is_422(keyed_api: httpx.Client) -> None:
    response = keyed_api.put("/api/v1/secrets/1-bad", json={"value": VALUE})
    assert response.status_code == 422 and response.json()["error"]["field"] == "name"


def test_with_auth_on_only_administrators_manage_secrets(keyed: Services, asgi_client: Any) -> None:
    from steward.server import create_app

    settings = keyed.settings.model_copy(update={"auth": "on"})
    admin = keyed.governance("setup").bootstrap_admin("root", "root@example.com").secret
    keyed.governance("root").create_user("vic", "vic@example.com")
    keyed.governance("root").grant_role("vic", "*", "contributor")
    vic = keyed.governance("root").create_token("vic").secret
    api = asgi_client(create_app(settings, Services(settings, keyed.store, keyed.blobs, keyed.redactor)))
    assert api.get("/api/v1/secrets").status_code == 401
    assert api.put("/api/v1/secrets/K_1", json={"value": VALUE}, headers={"Authorization": f"Bearer {vic}"}).status_code == 403
    ok = api.put("/api/v1/secrets/K_1", json={"value": VALUE}, headers={"Authorization": f"Bearer {admin}"})
    assert ok.status_code == 200 and VALUE not in ok.text
    denied = keyed.store.list_audit(target="/api/v1/secrets")
    assert [(e.actor, e.action) for e in denied] == [("vic", "auth.denied")]


# -- CLI -------------------------------------------------------------------------------


def _cli_env(home: Path) -> dict[str, str | None]:
    env: dict[str, str | None] = {f"STEWARD_{n.upper()}": None for n in Settings.model_fields}
    env.update(STEWARD_HOME=str(home), STEWARD_USER="tester", NO_COLOR="1", COLUMNS="200")
    return env


def test_the_cli_reads_values_from_stdin_and_never_prints_them(tmp_path: Path) -> None:
    runner, env = CliRunner(), _cli_env(tmp_path / "home")
    result = runner.invoke(cli_app, ["secrets", "set", "API_KEY"], input=VALUE + "\n", env=env)
    assert result.exit_code == 0, result.output
    assert VALUE not in result.output
    listed = runner.invoke(cli_app, ["secrets", "list", "--json"], env=env)
    assert '"API_KEY"' in listed.stdout and VALUE not in listed.stdout
    services_settings = Settings(home=tmp_path / "home")
    from steward.wiring import build_services

    built = build_services(services_settings)
    try:
        assert built.secrets().resolve("API_KEY") == VALUE  # the trailing newline was not stored
    finally:
        built.close()
    assert runner.invoke(cli_app, ["secrets", "delete", "API_KEY"], env=env).exit_code == 0
    assert runner.invoke(cli_app, ["secrets", "delete", "API_KEY"], env=env).exit_code == 3


def test_the_cli_takes_no_value_argument(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["secrets", "set", "API_KEY", VALUE], env=_cli_env(tmp_path / "home"))
    assert result.exit_code == 2


def test_the_cli_refuses_an_empty_value(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["secrets", "set", "API_KEY"], input="", env=_cli_env(tmp_path / "home"))
    assert result.exit_code == 2 and "empty" in result.stderr


def test_keygen_prints_a_usable_key(tmp_path: Path) -> None:
    key = CliRunner().invoke(cli_app, ["secrets", "keygen"], env=_cli_env(tmp_path)).stdout.strip()
    assert load_master_key(Settings(home=tmp_path, master_key=key)).key_id
