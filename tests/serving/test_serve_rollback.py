"""A progressive rollout whose candidate fails or is slow on every request rolls back by itself while a
real ``steward serve --deployment`` answers (the client-visible errors are counted); a slow shadow
never slows the primary."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from serving_testing import (
    Exploding,
    ServeProcess,
    Sluggish,
    register,
    store_env,
    store_settings,
    training_frame,
)

from steward.wiring import build_services

pytestmark = pytest.mark.slow

POLICY = """
steps: [50, 100]
min_requests: 1000
min_duration: 1m
interval: 1s
bounds:
  max_error_rate_ratio: 2.0
  max_error_rate_delta: 0.01
  max_p99_ms: 100
rollback_min_requests: 10
"""


@pytest.mark.parametrize("candidate", [Exploding, Sluggish], ids=["failing", "slow"])
def test_a_failing_or_slow_candidate_is_rolled_back_and_traffic_returns_to_the_primary(tmp_path: Path, candidate: type) -> None:
    from sklearn.linear_model import LogisticRegression

    settings = store_settings(tmp_path)
    frame, target = training_frame()
    register(settings, LogisticRegression(max_iter=500).fit(frame, target), frame)
    register(settings, candidate(), frame)
    services = build_services(settings)
    try:
        registry = services.registry("reviewer")
        for version in (1, 2):
            registry.approve("fraud", version, comment="reviewed")
        deployments = services.deployments("deployer")
        deployments.create_deployment("fraud-api", "fraud:1")
        env = {
            **store_env(settings), "STEWARD_SERVE_PLAN_INTERVAL": "0.3", "STEWARD_SERVE_STATS_INTERVAL": "0.5",
            "STEWARD_ROLLOUT_INTERVAL": "1", "PYTHONPATH": str(Path(__file__).parent),
        }
        server = ServeProcess(["--deployment", "fraud-api"], env)
        try:
            row = frame.head(1).to_dict("records")
            deployments.start_rollout("fraud-api", "fraud:2", POLICY)
            errors = answered = 0
            first_error = rolled_back = None
            with httpx.Client(base_url=server.url, timeout=10) as http:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    answer = http.post("/predict", json=row)
                    answered += 1
                    if answer.status_code != 200:
                        assert answer.status_code == 500 and answer.json()["error"]["code"] == "MODEL_ERROR"
                        errors += 1
                    if answer.headers.get("x-steward-variant") == "candidate" or answer.status_code != 200:
                        first_error = first_error or time.monotonic()  # the first request the candidate spoiled
                    if rolled_back is None and answered % 20 == 0 and deployments.get_deployment("fraud-api").status == "rolled_back":
                        rolled_back = time.monotonic()
                    if rolled_back is not None and time.monotonic() - rolled_back > 2:
                        break  # the server has followed the rollback (plan read every 0.3 s)
                after = [http.post("/predict", json=row) for _ in range(200)]
            deployment = deployments.get_deployment("fraud-api")
            assert deployment.status == "rolled_back", deployment.reason
            assert first_error is not None and rolled_back is not None
            print(f"{candidate.__name__}: client-visible errors {errors} of {answered} requests; "
                  f"rolled back {rolled_back - first_error:.1f} s after the candidate's first answer")
            if candidate is Exploding:
                assert 0 < errors < answered / 2
            else:
                assert errors == 0
            assert all(a.status_code == 200 and a.headers["x-steward-model-version"] == "1" for a in after)
        finally:
            server.stop()
    finally:
        services.close()


def test_a_slow_shadow_never_slows_the_primary(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    settings = store_settings(tmp_path)
    frame, target = training_frame()
    register(settings, LogisticRegression(max_iter=500).fit(frame, target), frame)
    register(settings, Sluggish(), frame)  # 200 ms per request
    services = build_services(settings)
    try:
        services.registry("reviewer").approve("fraud", 1, comment="reviewed")
        deployments = services.deployments("deployer")
        deployments.create_deployment("fraud-api", "fraud:1")
        env = {**store_env(settings), "STEWARD_SERVE_PLAN_INTERVAL": "0.3", "PYTHONPATH": str(Path(__file__).parent)}
        server = ServeProcess(["--deployment", "fraud-api"], env)
        try:
            deployments.shadow("fraud-api", "fraud:2")
            row = frame.head(1).to_dict("records")
            with httpx.Client(base_url=server.url, timeout=10) as http:
                deadline = time.monotonic() + 30
                while 'variant="shadow"' not in http.get("/metrics").text and time.monotonic() < deadline:
                    http.post("/predict", json=row)
                    time.sleep(0.1)
                assert 'variant="shadow"' in http.get("/metrics").text  # the shadow answers (in the background)
                took = []
                for _ in range(40):
                    started = time.perf_counter()
                    assert http.post("/predict", json=row).headers["x-steward-variant"] == "primary"
                    took.append(time.perf_counter() - started)
            took.sort()
            # every request is mirrored to a 200 ms shadow; the primary's answers do not wait for it
            assert took[len(took) // 2] < 0.1, took
        finally:
            server.stop()
    finally:
        services.close()
