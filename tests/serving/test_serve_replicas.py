"""Several serving processes on one PostgreSQL store follow one traffic change; a version a
replica cannot load leaves it on the plan it serves, saying why."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from deployments_testing import register_versions
from serving_testing import Exploding, ServeProcess, register, store_env, training_frame

from steward import Client, Settings
from steward.wiring import build_services

pytestmark = pytest.mark.slow

ROW = {"amount": 0.3, "count": 2}


def _answered_by(url: str, version: str, within: float = 30.0, row: dict[str, object] = ROW) -> bool:
    deadline = time.monotonic() + within
    with httpx.Client(base_url=url) as http:
        while time.monotonic() < deadline:
            if http.post("/predict", json=[row]).headers.get("x-steward-model-version") == version:
                return True
            time.sleep(0.05)
    return False


def test_two_replicas_on_postgresql_follow_one_traffic_change(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home", database_url=pg_url, artifact_root=str(tmp_path / "artifacts"), user="tester",
        capture_git=False, capture_packages=False, auth="off",
    )
    services = build_services(settings)
    client = Client(settings)
    try:
        register_versions(client, services, count=2)
        deployments = services.deployments("deployer")
        deployments.create_deployment("fraud-api", "fraud@champion")
        env = {**store_env(settings), "STEWARD_SERVE_PLAN_INTERVAL": "0.3", "STEWARD_AUTH": "off"}
        replicas = [ServeProcess(["--deployment", "fraud-api"], env) for _ in range(2)]
        try:
            assert all(_answered_by(r.url, "1", within=5) for r in replicas)
            started = time.monotonic()
            deployments.switch("fraud-api", "fraud:2")
            assert all(_answered_by(r.url, "2") for r in replicas)
            followed = time.monotonic() - started
            # blue-green: once switched, every answer of both replicas comes from the new version
            with httpx.Client() as http:
                versions = {http.post(f"{r.url}/predict", json=[ROW]).headers["x-steward-model-version"] for r in replicas for _ in range(50)}
            assert versions == {"2"}
            assert followed < 10
        finally:
            for replica in replicas:
                replica.stop()
    finally:
        client.close()
        services.close()


def test_a_version_the_server_cannot_load_leaves_it_on_its_plan_and_says_why(tmp_path: Path) -> None:
    from serving_testing import store_settings
    from sklearn.linear_model import LogisticRegression

    settings = store_settings(tmp_path)
    frame, target = training_frame()
    register(settings, LogisticRegression(max_iter=500).fit(frame, target), frame)
    register(settings, Exploding(), frame)  # importable here, not in the server (no PYTHONPATH)
    services = build_services(settings)
    try:
        for version in (1, 2):
            services.registry("reviewer").approve("fraud", version, comment="reviewed")
        deployments = services.deployments("deployer")
        deployments.create_deployment("fraud-api", "fraud:1")
        server = ServeProcess(["--deployment", "fraud-api"], {**store_env(settings), "STEWARD_SERVE_PLAN_INTERVAL": "0.3"})
        try:
            deployments.canary("fraud-api", "fraud:2", percent=50)
            row = frame.head(1).to_dict("records")[0]
            deadline = time.monotonic() + 30
            while "not applied" not in server.output() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert "revision 2 not applied: fraud:2 cannot be loaded" in server.output()
            with httpx.Client(base_url=server.url) as http:
                answers = [http.post("/predict", json=[row]) for _ in range(100)]
            assert all(a.status_code == 200 and a.headers["x-steward-model-version"] == "1" for a in answers)
        finally:
            server.stop()
    finally:
        services.close()
