"""A real serving process measures the CPU time of its model calls and records it twice: per row
in the prediction log and per variant in the stats it reports (deployment_stats.cpu_ms, rows)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from deployments_testing import register_versions
from serving_testing import ServeProcess, store_env, store_settings
from sqlalchemy import select

from steward import Client
from steward.wiring import build_services

ROW = {"amount": 0.3, "count": 2}


def test_the_serving_process_logs_and_reports_measured_cpu_time(tmp_path: Path) -> None:
    settings = store_settings(tmp_path)
    services = build_services(settings)
    client = Client(settings)
    register_versions(client, services, count=2)
    client.close()
    services.deployments("deployer").create_deployment("fraud-api", "fraud@champion")
    env = {**store_env(settings), "STEWARD_SERVE_STATS_INTERVAL": "1", "STEWARD_PREDICTION_SEGMENT_MAX_SECONDS": "1"}
    server = ServeProcess(["--deployment", "fraud-api"], env)
    try:
        with httpx.Client(base_url=server.url) as http:
            for i in range(30):
                assert http.post("/predict", json=[ROW] * 4, headers={"x-request-id": f"cpu-{i}"}).status_code == 200
        time.sleep(2.5)  # one stats report
    finally:
        server.stop()  # a graceful stop flushes the prediction log
    try:
        log = services.predictions("reader").read("fraud-api").to_pylist()
        rows = [r for r in log if r["request_id"].startswith("cpu-")]
        assert len(rows) == 120 and all(r["cpu_ms"] is not None and r["cpu_ms"] > 0 for r in rows)
        # CPU time of the model call alone: below the request's wall time
        assert sum(r["cpu_ms"] for r in rows) < sum(r["latency_ms"] for r in rows)
        from steward.adapters.sql._tables_deployments import deployment_stats

        with services.store.read() as conn:
            reported = conn.execute(select(deployment_stats.c.cpu_ms, deployment_stats.c.rows)).all()
        assert sum(int(r.rows or 0) for r in reported) >= 120
        assert sum(float(r.cpu_ms or 0.0) for r in reported) > 0
    finally:
        services.close()
