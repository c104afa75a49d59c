"""Authentication and authorisation against the real app with a real store (SQLite, PostgreSQL)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from steward.adapters.sql._tables import audit_log
from steward.adapters.sql._tables_governance import api_tokens, users
from steward.errors import AlreadyExistsError, ConflictError, PermissionDeniedError
from steward.governance import check_separation_of_duties, verify_password
from steward.settings import Settings
from steward.wiring import Services


def _basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def test_a_valid_token_works_and_wrong_expired_and_revoked_tokens_are_401(
    auth_api: httpx.Client, services: Services, admin_token: str
) -> None:
    assert auth_api.get("/api/v1/experiments", headers=bearer(admin_token)).status_code == 200
    gov = services.governance("root")
    gov.create_user("bob", "bob@example.com")
    gov.grant_role("bob", "*", "viewer")
    expired = gov.create_token("bob")
    revoked = gov.create_token("bob")
    with services.store.write() as conn:
        conn.execute(sa.update(api_tokens).where(api_tokens.c.token_id == expired.token.token_id).values(expires_at=1))
    gov.revoke_token(revoked.token.token_id)
    for token in (expired.secret, revoked.secret, admin_token[:-1] + "x", "stw_" + "A" * 43, "not-a-token", ""):
        resp = auth_api.get("/api/v1/experiments", headers=bearer(token))
        assert resp.status_code == 401, token
        assert resp.json()["error"]["code"] == "UNAUTHENTICATED"


def test_a_disabled_users_tokens_stop_working_at_once(auth_api: httpx.Client, services: Services, admin_token: str) -> None:
    gov = services.governance("root")
    gov.create_user("eve", "eve@example.com")
    gov.grant_role("eve", "*", "contributor")
    token = gov.create_token("eve").secret
    assert auth_api.get("/api/v1/runs", headers=bearer(token)).status_code == 200
    assert auth_api.post("/api/v1/users/eve/disable", headers=bearer(admin_token)).json()["disabled"] is True
    assert auth_api.get("/api/v1/runs", headers=bearer(token)).status_code == 401


def test_password_users_log_in_with_http_basic_and_passwords_are_stored_as_argon2(
    auth_api: httpx.Client, services: Services, admin_token: str
) -> None:
    resp = auth_api.post(
        "/api/v1/users", json={"name": "carol", "email": "carol@example.com", "password": "s3cret-pass"}, headers=bearer(admin_token)
    )
    assert resp.status_code == 201 and resp.json()["has_password"] is True
    assert "s3cret" not in resp.text and "argon2" not in resp.text
    with services.store.read() as conn:
        stored = conn.execute(sa.select(users.c.password_hash).where(users.c.name == "carol")).scalar_one()
    assert stored.startswith("$argon2id$") and "s3cret-pass" not in stored
    assert verify_password("s3cret-pass", stored) and not verify_password("s3cret-pasS", stored)
    me = auth_api.get("/api/v1/whoami", headers=_basic("carol", "s3cret-pass"))
    assert me.status_code == 200 and me.json()["name"] == "carol"
    assert auth_api.get("/api/v1/whoami", headers=_basic("carol", "wrong-pass")).status_code == 401
    assert auth_api.get("/api/v1/whoami", headers=_basic("nobody", "s3cret-pass")).status_code == 401


def test_token_secrets_appear_only_in_the_creation_response(auth_api: httpx.Client, services: Services, admin_token: str) -> None:
    created = auth_api.post("/api/v1/tokens", json={"label": "ci", "scopes": ["read"]}, headers=bearer(admin_token))
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("stw_") and len(secret) > 40
    listing = auth_api.get("/api/v1/tokens", headers=bearer(admin_token)).text
    audit = auth_api.get("/api/v1/audit", headers=bearer(admin_token)).text
    assert secret not in listing and admin_token not in listing
    assert secret not in audit and admin_token not in audit
    with services.store.read() as conn:
        rows = conn.execute(sa.select(audit_log)).all()
        hashes = conn.execute(sa.select(api_tokens.c.secret_hash)).scalars().all()
    dumped = json.dumps([list(map(str, r)) for r in rows])
    assert secret not in dumped and admin_token not in dumped
    assert not any(h in dumped for h in hashes)
    actions = [r.action for r in rows]
    assert actions[:2] == ["users.bootstrap", "tokens.create"] and actions.count("tokens.create") == 2


def test_a_read_token_cannot_write_nor_mint_a_wider_token(auth_api: httpx.Client, services: Services, admin_token: str) -> None:
    read_only = auth_api.post("/api/v1/tokens", json={"scopes": ["read"]}, headers=bearer(admin_token)).json()["secret"]
    assert auth_api.get("/api/v1/experiments", headers=bearer(read_only)).status_code == 200
    assert auth_api.post("/api/v1/experiments", json={"name": "x"}, headers=bearer(read_only)).status_code == 403
    assert auth_api.post("/api/v1/tokens", json={"scopes": ["write"]}, headers=bearer(read_only)).status_code == 403


def test_a_user_sees_and_revokes_only_their_own_tokens(auth_api: httpx.Client, services: Services, admin_token: str) -> None:
    gov = services.governance("root")
    gov.create_user("dan", "dan@example.com")
    dan = gov.create_token("dan").secret
    mine = auth_api.get("/api/v1/tokens", params={"user": "root"}, headers=bearer(dan)).json()["tokens"]
    assert {t["user"] for t in mine} == {"dan"}
    root_token_id = gov.list_tokens("root")[0].token_id
    assert auth_api.delete(f"/api/v1/tokens/{root_token_id}", headers=bearer(dan)).status_code == 403
    assert auth_api.post("/api/v1/tokens", json={"user": "root"}, headers=bearer(dan)).status_code == 403
    assert auth_api.post("/api/v1/users", json={"name": "x", "email": "x@example.com"}, headers=bearer(dan)).status_code == 403


def test_the_audit_actor_is_the_tokens_user_never_a_header(auth_api: httpx.Client, admin_token: str) -> None:
    headers = {**bearer(admin_token), "X-Steward-User": "mallory"}
    exp = auth_api.post("/api/v1/experiments", json={"name": "audited"}, headers=headers).json()
    run = auth_api.post("/api/v1/runs", json={"experiment_id": exp["experiment_id"]}, headers=headers).json()
    assert run["user"] == "root"
    entries = auth_api.get("/api/v1/audit", headers=bearer(admin_token)).json()["entries"]
    assert {e["actor"] for e in entries if e["action"].startswith(("experiments", "runs"))} == {"root"}


def test_a_binding_on_one_project_reaches_its_runs_and_models_only(auth_api: httpx.Client, services: Services, admin_token: str) -> None:
    admin = bearer(admin_token)
    runs = {}
    for name in ("fraud", "churn"):
        exp = auth_api.post("/api/v1/experiments", json={"name": name}, headers=admin).json()
        runs[name] = auth_api.post("/api/v1/runs", json={"experiment_id": exp["experiment_id"]}, headers=admin).json()["run_id"]
    gov = services.governance("root")
    gov.create_user("fay", "fay@example.com")
    gov.grant_role("fay", "fraud", "contributor")
    fay = bearer(gov.create_token("fay").secret)
    ok = auth_api.post(f"/api/v1/runs/{runs['fraud']}/batch", json={"params": {"a": 1}}, headers=fay)
    assert ok.status_code == 200, ok.text
    assert auth_api.post(f"/api/v1/runs/{runs['churn']}/batch", json={"params": {"a": 1}}, headers=fay).status_code == 403
    assert auth_api.get(f"/api/v1/runs/{runs['churn']}", headers=fay).status_code == 403
    assert auth_api.post("/api/v1/models", json={"name": "fraud"}, headers=fay).status_code == 201
    assert auth_api.patch("/api/v1/models/fraud", json={"description": "d"}, headers=fay).status_code == 200
    assert auth_api.patch("/api/v1/models/churn", json={"description": "d"}, headers=fay).status_code == 403
    # approving needs the reviewer role, whatever the project
    approve = auth_api.post("/api/v1/models/fraud/versions/1/approvals", json={"comment": "ok"}, headers=fay)
    assert approve.status_code == 403


def test_roles_are_granted_listed_and_revoked_over_the_api(auth_api: httpx.Client, services: Services, admin_token: str) -> None:
    admin = bearer(admin_token)
    auth_api.post("/api/v1/users", json={"name": "gil", "email": "gil@example.com"}, headers=admin)
    grant = {"user": "gil", "project": "fraud", "role": "reviewer"}
    assert auth_api.post("/api/v1/roles", json=grant, headers=admin).status_code == 201
    assert auth_api.post("/api/v1/roles", json=grant, headers=admin).status_code == 409
    bad = auth_api.post("/api/v1/roles", json={**grant, "role": "owner"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "role"
    listed = auth_api.get("/api/v1/roles", params={"user": "gil"}, headers=admin).json()["roles"]
    assert [(r["project"], r["role"], r["created_by"]) for r in listed] == [("fraud", "reviewer", "root")]
    assert auth_api.delete("/api/v1/roles", params=grant, headers=admin).status_code == 200
    assert auth_api.delete("/api/v1/roles", params=grant, headers=admin).status_code == 404


def test_separation_of_duties_stops_authors_approving_their_own_versions() -> None:
    check_separation_of_duties("ann", "bob")
    check_separation_of_duties("ann", "ann", enabled=False)
    with pytest.raises(PermissionDeniedError):
        check_separation_of_duties("ann", "ann")


def test_bootstrap_runs_once_and_names_are_unique(services: Services, admin_token: str) -> None:
    gov = services.governance("setup")
    with pytest.raises(ConflictError):
        gov.bootstrap_admin("root2", "r2@example.com")
    with pytest.raises(AlreadyExistsError):
        gov.create_user("root", "other@example.com")


@pytest.mark.parametrize(
    ("auth", "url", "required"),
    [
        ("off", "postgresql+psycopg://h/db", False),
        ("on", None, True),
        ("auto", None, False),
        ("auto", "postgresql+psycopg://h/db", True),
    ],
)
def test_authentication_is_on_when_asked_and_by_default_on_postgresql(
    auth: str, url: str | None, required: bool, tmp_path: Any
) -> None:
    assert Settings(home=tmp_path, auth=auth, database_url=url).auth_required() is required  # type: ignore[arg-type]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
