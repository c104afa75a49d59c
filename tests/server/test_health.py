"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from openapi_spec_validator import validate

import steward
import steward.adapters.sql
from steward.adapters.sql import head_revision
from steward.wiring import Services


def _previous_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(steward.adapters.sql.__file__).parent / "migrations"))
    head = ScriptDirectory.from_config(cfg).get_revision(head_revision())
    assert head is not None and isinstance(head.down_revision, str)
    return head.down_revision


def test_healthz_says_the_process_is_alive_with_its_version(api: httpx.Client) -> None:
    resp = api.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "version": steward.__version__}


def test_readyz_is_200_when_the_store_is_at_the_newest_migration(api: httpx.Client) -> None:
    resp = api.get("/readyz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ready", "migration": head_revision()}


def test_readyz_is_503_when_the_database_is_at_an_older_migration(api: httpx.Client, services: Services) -> None:
    # another process (an older Steward, or `alembic downgrade`) stamped the store back
    older = _previous_revision()
    with services.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": older})

    resp = api.get("/readyz")

    assert resp.status_code == 503
    assert resp.json() == {"status": "unavailable", "migration": older, "expected": head_revision()}
    assert api.get("/healthz").status_code == 200  # alive, just not ready


def test_readyz_is_503_when_the_store_was_never_migrated(api: httpx.Client, services: Services) -> None:
    with services.store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alembic_version"))
    resp = api.get("/readyz")
    assert resp.status_code == 503 and resp.json()["migration"] is None


def test_the_openapi_document_is_valid_and_lists_every_route(api: httpx.Client, app: Any) -> None:  # Any: FastAPI
    resp = api.get("/openapi.json")
    assert resp.status_code == 200
    doc = resp.json()
    validate(doc)
    routes = {
        (route.path, method.lower())
        for route in app.routes
        if getattr(route, "include_in_schema", False)
        for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert routes <= documented
    for path, method in [
        ("/api/v1/experiments", "post"),
        ("/api/v1/experiments", "get"),
        ("/api/v1/experiments/{experiment_id}", "get"),
        ("/api/v1/experiments/{experiment_id}", "delete"),
        ("/api/v1/runs", "post"),
        ("/api/v1/runs", "get"),
        ("/api/v1/runs/search", "post"),
        ("/api/v1/runs/{run_id}", "get"),
        ("/api/v1/runs/{run_id}", "patch"),
        ("/api/v1/runs/{run_id}", "delete"),
        ("/api/v1/runs/{run_id}/batch", "post"),
        ("/api/v1/runs/{run_id}/inputs", "post"),
        ("/api/v1/runs/{run_id}/metric-history", "get"),
        ("/api/v1/runs/{run_id}/artifacts", "get"),
        ("/api/v1/runs/{run_id}/artifacts/{path}", "put"),
        ("/api/v1/runs/{run_id}/artifacts/{path}", "get"),
        ("/api/v1/audit", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    ]:
        assert method in doc["paths"].get(path, {}), (method, path)
    batch = doc["components"]["schemas"]["LogBatch"]["properties"]["metrics"]
    assert len(batch["anyOf"]) == 2  # both shapes of metrics are documented


def test_responses_carry_security_headers(api: httpx.Client) -> None:
    for resp in (api.get("/healthz"), api.get("/api/v1/runs/" + "0" * 32)):
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "DENY"
