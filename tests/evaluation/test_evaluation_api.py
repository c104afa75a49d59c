"""The evaluation REST routes: evaluate, list, gate, override refusal, card formats."""

from __future__ import annotations

import httpx
from evaluation_testing import World

POLICY = "min: {roc_auc: 0.7}\nbeat_champion: {metric: roc_auc, min_delta: 0.01}\n"


def test_evaluations_gates_and_cards_over_rest(api: httpx.Client, world: World) -> None:
    base = f"/api/v1/models/fraud/versions/{world.strong}"
    created = api.post(f"{base}/evaluations", json={"data": "holdout:1", "target": "label", "slices": ["sex"], "measure_latency": False})
    assert created.status_code == 201, created.text
    assert created.json()["metrics"]["roc_auc"] > 0.8 and created.json()["dataset_ref"] == world.holdout
    listed = api.get(f"{base}/evaluations").json()["evaluations"]
    assert [e["id"] for e in listed] == [created.json()["id"]]

    gate = api.post(f"{base}/gates", json={"policy": POLICY, "data": world.holdout, "target": "label"})
    assert gate.status_code == 201 and gate.json()["passed"] and gate.json()["champion_version"] == world.weak
    assert api.get(f"{base}/gates").json()["gates"][0]["id"] == gate.json()["id"]

    card = api.put(f"{base}/card", json={"fields": {"intended_use": "Payments triage"}})
    assert card.status_code == 200 and card.json()["fields"]["intended_use"] == "Payments triage"
    page = api.get(f"{base}/card", params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html") and "Payments triage" in page.text
    assert "## Gate: PASSED" in api.get(f"{base}/card", params={"format": "markdown"}).text


def test_bad_evaluation_requests_are_4xx_naming_the_field(api: httpx.Client, world: World) -> None:
    base = f"/api/v1/models/fraud/versions/{world.strong}"
    unknown_metric = api.post(f"{base}/gates", json={"policy": "min: {auc: 0.9}", "data": "holdout:1", "target": "label"})
    assert unknown_metric.status_code == 422 and unknown_metric.json()["error"]["field"] == "policy"
    missing = api.post(f"{base}/evaluations", json={"data": "holdout:1", "target": "nope"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "target"
    no_data = api.post(f"{base}/evaluations", json={"data": "nothere:1", "target": "label"})
    assert no_data.status_code == 404
    override = api.post(f"{base}/gates/override", json={"reason": "we really need this one out"})
    assert override.status_code == 403
    assert api.get("/api/v1/models/fraud/versions/99/card").status_code == 404
