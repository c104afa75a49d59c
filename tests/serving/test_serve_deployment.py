"""``steward serve --deployment``: a real server following its deployment's traffic plan."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from deployments_testing import register_versions
from serving_testing import ServeProcess, store_env, store_settings

from steward import Client, Settings
from steward.wiring import Services, build_services

pytestmark = pytest.mark.slow

ROW = {"amount": 0.3, "count": 2}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, Services, Settings]]:
    settings = store_settings(tmp_path_factory.mktemp("deploy"))
    services = build_services(settings)
    client = Client(settings)
    register_versions(client, services, count=2)
    client.close()
    services.deployments("deployer").create_deployment("fraud-api", "fraud@champion")
    env = {
        **store_env(settings), "STEWARD_SERVE_PLAN_INTERVAL": "0.3", "STEWARD_SERVE_STATS_INTERVAL": "1",
        "STEWARD_PREDICTION_SEGMENT_MAX_SECONDS": "1",
    }
    server = ServeProcess(["--deployment", "fraud-api"], env)
    try:
        yield server, services, settings
    finally:
        server.stop()
        services.close()


def _follow(http: httpx.Client, version: str, variant: str, within: float = 20.0) -> None:
    """Send requests until one is answered by ``version`` as ``variant`` (the plan was followed)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        answer = http.post("/predict", json=[ROW])
        if answer.headers.get("x-steward-model-version") == version and answer.headers.get("x-steward-variant") == variant:
            return
        time.sleep(0.05)
    raise AssertionError(f"the server did not follow the plan to {variant} {version} in {within} s")


def test_the_deployment_serves_its_primary_and_names_it(deployment: tuple[ServeProcess, Services, Settings]) -> None:
    server, _, _ = deployment
    answer = httpx.post(f"{server.url}/predict", json=[ROW])
    assert answer.status_code == 200
    assert answer.headers["x-steward-deployment"] == "fraud-api"
    assert (answer.headers["x-steward-model-version"], answer.headers["x-steward-variant"]) == ("1", "primary")
    assert httpx.get(f"{server.url}/v2/models/fraud-api").json()["versions"] == ["1"]


def test_a_canary_takes_its_share_of_2000_requests_within_tolerance(deployment: tuple[ServeProcess, Services, Settings]) -> None:
    server, services, _ = deployment
    services.deployments("deployer").canary("fraud-api", "fraud:2", percent=30)
    with httpx.Client(base_url=server.url) as http:
        _follow(http, "2", "candidate")
        seen = Counter(http.post("/predict", json=[ROW]).headers["x-steward-variant"] for _ in range(2_000))
    # binomial: sd of the share over 2,000 requests is about 1 point; 4 points is four sd
    assert abs(seen["candidate"] / 2_000 - 0.30) < 0.04, seen
    assert set(seen) == {"primary", "candidate"}
    # the server reports what it saw per variant for the rollout controller
    from steward.adapters.sql._deployment_store import SqlDeploymentStore

    revision = services.deployments("deployer").get_plan("fraud-api").revision
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stats = SqlDeploymentStore(services.store).stats_since("fraud-api", revision, 0)
        if sum(s.requests for s in stats) >= 2_000:
            break
        time.sleep(0.5)
    per_variant: Counter[str] = Counter()
    for s in stats:
        per_variant[s.variant] += s.requests
        assert sum(s.latency_counts) == s.requests and s.errors == 0
    assert per_variant["candidate"] >= seen["candidate"] and per_variant["primary"] >= seen["primary"]


def test_a_sticky_key_always_reaches_the_same_variant(deployment: tuple[ServeProcess, Services, Settings]) -> None:
    server, services, _ = deployment
    services.deployments("deployer").ab("fraud-api", "fraud:2", split=50, sticky_key="customer_id")
    with httpx.Client(base_url=server.url) as http:
        deadline = time.monotonic() + 20
        while http.get("/v2/models/fraud-api").status_code == 200 and time.monotonic() < deadline:
            # the a/b plan is followed once a request carrying the key field is accepted
            if http.post("/predict", json=[{**ROW, "customer_id": "c0"}]).status_code == 200:
                break
            time.sleep(0.1)
        variants: dict[str, set[str]] = {}
        for round_ in range(4):
            for key in range(40):
                body = [{**ROW, "customer_id": f"c{key}"}]
                answer = http.post("/predict", json=body) if round_ % 2 == 0 else http.post(
                    "/predict", json=[ROW], headers={"x-steward-key": f"c{key}"}
                )
                assert answer.status_code == 200, answer.text
                variants.setdefault(f"c{key}", set()).add(answer.headers["x-steward-variant"])
    assert all(len(v) == 1 for v in variants.values()), variants
    assert {next(iter(v)) for v in variants.values()} == {"primary", "candidate"}


def test_a_shadow_never_changes_the_answer_and_both_are_logged(deployment: tuple[ServeProcess, Services, Settings]) -> None:
    server, services, _ = deployment
    services.deployments("deployer").shadow("fraud-api", "fraud:2")
    with httpx.Client(base_url=server.url) as http:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            # the server follows the shadow plan once the shadow has answered (in its metrics)
            http.post("/predict", json=[ROW])
            if 'variant="shadow"' in http.get("/metrics").text:
                break
            time.sleep(0.1)
        answers = [http.post("/predict", json=[ROW], headers={"x-request-id": f"shadow-{i}"}) for i in range(50)]
        # the shadow plan has one live variant: the primary answers everything, the same way
        assert all(a.headers["x-steward-variant"] == "primary" for a in answers)
        assert {a.json()["predictions"][0] for a in answers} == {answers[0].json()["predictions"][0]}
        assert all(a.headers["x-steward-model-version"] == "1" for a in answers)
    server.stop()  # a graceful stop flushes the prediction log
    log = services.predictions("reader").read("fraud-api").to_pylist()
    shadowed = {r["request_id"] for r in log if r["shadow"] and r["request_id"].startswith("shadow-")}
    answered = {r["request_id"] for r in log if not r["shadow"] and r["request_id"].startswith("shadow-")}
    assert {f"shadow-{i}" for i in range(50)} <= answered
    assert shadowed and shadowed <= answered
    assert {r["model_version"] for r in log if r["shadow"]} == {2}
