"""REST /api/v1/features: apply, list, show, materialise, online lookup; attacks from another
project's contributor and from a viewer; bad input answered 4xx naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from steward.server import create_app
from steward.settings import Settings
from steward.wiring import Services, build_services

T0 = datetime.utcnow().replace(microsecond=0) - timedelta(days=2)  # noqa: DTZ003 - naive UTC, as the source


def view_body(name: str, source: Path, **extra: Any) -> dict[str, Any]:  # Any: JSON
    return {
        "name": name, "entities": [{"name": "customer", "join_keys": ["customer_id"]}],
        "features": [{"name": "txn_count", "dtype": "int64"}],
        "source": {"parquet": str(source), "event_time": "ts"}, "ttl": "30d", **extra,
    }


class World:
    def __init__(self, root: Path, transport: Any) -> None:  # Any: SyncASGITransport class
        self.settings = Settings(home=root, auth="on", user="server", capture_git=False)
        self.services: Services = build_services(self.settings)
        gov = self.services.governance("setup")
        gov.bootstrap_admin("root", "root@example.com")
        self.tokens: dict[str, str] = {}
        for name, project, role in (("alice", "alpha", "contributor"), ("mallory", "beta", "contributor"),
                                    ("vera", "alpha", "viewer"), ("scraper", "*", "viewer")):
            gov.create_user(name, f"{name}@example.com")
            gov.grant_role(name, project, role)
            self.tokens[name] = gov.create_token(name).secret
        self.source = root / "stats.parquet"
        pd.DataFrame({"customer_id": [1, 2], "ts": [T0, T0 + timedelta(days=1)], "txn_count": [3, 4]}).to_parquet(self.source, index=False)
        self._transport = transport(create_app(self.settings, self.services))
        self.http = httpx.Client(transport=self._transport, base_url="http://steward.test")

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:  # Any: httpx options
        return self.http.request(method, "/api/v1/features" + path, headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kwargs)

    def close(self) -> None:
        self.http.close()
        self._transport.close()
        self.services.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sync_asgi_transport: Any) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("features-api"), sync_asgi_transport)
    applied = w.call("alice", "POST", "/views", json={**view_body("alpha_stats", w.source), "project": "alpha"})
    assert applied.status_code == 200, applied.text
    done = w.call("alice", "POST", "/views/alpha_stats/materialize", json={"end_ms": 2_000_000_000_000})
    assert done.status_code == 200, done.text
    yield w
    w.close()


def _error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:  # Any: JSON
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()["error"]
    assert body["code"] == code
    return body


def test_a_contributor_applies_lists_shows_and_looks_up_in_their_project(world: World) -> None:
    listed = world.call("alice", "GET", "/views").json()["views"]
    assert [(v["name"], v["version"], v["project"]) for v in listed] == [("alpha_stats", 1, "alpha")]
    assert listed[0]["freshness_s"] is not None
    shown = world.call("alice", "GET", "/views/alpha_stats").json()
    assert shown["features"][0]["name"] == "txn_count" and shown["ttl"] == "30d"
    got = world.call("alice", "POST", "/online", json={
        "features": ["alpha_stats:txn_count"], "entities": [{"customer_id": 2}, {"customer_id": 9}]}).json()
    assert [(r["values"]["txn_count"], r["missing"]) for r in got["rows"]] == [(4, False), (None, True)]
    one = world.call("alice", "GET", "/online", params={"feature": "alpha_stats:txn_count", "customer_id": "1"}).json()
    assert one["rows"][0]["values"] == {"txn_count": 3}
    dry = world.call("alice", "POST", "/views", json={**view_body("alpha_stats", world.source, ttl="1d"), "dry_run": True}).json()
    assert dry["dry_run"] and [c["path"] for c in dry["changes"]] == ["ttl"]


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("GET", "/views/alpha_stats", {}),
    ("POST", "/views/alpha_stats/materialize", {"json": {}}),
    ("POST", "/online", {"json": {"features": ["alpha_stats:txn_count"], "entities": [{"customer_id": 1}]}}),
    ("GET", "/online", {"params": {"feature": "alpha_stats:txn_count", "customer_id": "1"}}),
    ("POST", "/views", {"json": "BODY"}),
])
def test_another_projects_contributor_is_refused(world: World, method: str, path: str, kwargs: dict[str, Any]) -> None:
    if kwargs.get("json") == "BODY":
        kwargs = {"json": view_body("alpha_stats", world.source, ttl="1d")}  # overwrite alpha's view
    _error(world.call("mallory", method, path, **kwargs), 403, "PERMISSION_DENIED")
    assert world.services.features("check").get_view("alpha_stats").version == 1


def test_another_projects_contributor_does_not_see_the_view_listed(world: World) -> None:
    assert world.call("mallory", "GET", "/views").json()["views"] == []
    # but may create views in their own project
    mine = world.call("mallory", "POST", "/views", json={**view_body("beta_stats", world.source), "project": "beta"})
    assert mine.status_code == 200, mine.text
    assert [v["name"] for v in world.call("mallory", "GET", "/views").json()["views"]] == ["beta_stats"]


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("POST", "/views/alpha_stats/materialize", {"json": {}}),
    ("POST", "/views", {"json": "BODY"}),
])
def test_a_viewer_reads_but_cannot_change(world: World, method: str, path: str, kwargs: dict[str, Any]) -> None:
    if kwargs.get("json") == "BODY":
        kwargs = {"json": view_body("alpha_stats", world.source, ttl="1d")}
    _error(world.call("vera", method, path, **kwargs), 403, "PERMISSION_DENIED")
    assert world.call("vera", "GET", "/views/alpha_stats").status_code == 200
    looked = world.call("vera", "POST", "/online", json={"features": ["alpha_stats:txn_count"], "entities": [{"customer_id": 1}]})
    assert looked.status_code == 200


def test_bad_input_is_a_4xx_naming_the_field(world: World) -> None:
    unknown = _error(world.call("alice", "POST", "/online", json={
        "features": ["alpha_stats:txn_count", "alpha_stats:nope"], "entities": [{"customer_id": 1}]}), 422, "INVALID_INPUT")
    assert "alpha_stats:nope" in unknown["message"] and unknown["field"] == "features"
    no_key = _error(world.call("alice", "POST", "/online", json={
        "features": ["alpha_stats:txn_count"], "entities": [{"cid": 1}]}), 422, "INVALID_INPUT")
    assert no_key["field"] == "customer_id"
    _error(world.call("alice", "POST", "/online", json={"features": ["ghost:x"], "entities": [{"a": 1}]}), 404, "NOT_FOUND")
    _error(world.call("alice", "GET", "/views/alpha_stats", params={"version": 7}), 404, "NOT_FOUND")
    bad_type = _error(world.call("alice", "POST", "/views", json={
        **view_body("alpha_stats", world.source), "features": [{"name": "txn_count", "dtype": "money"}]}), 422, "INVALID_INPUT")
    assert bad_type["field"] == "dtype"
    no_event = view_body("alpha_stats", world.source)
    no_event["source"] = {"parquet": str(world.source)}
    assert _error(world.call("alice", "POST", "/views", json=no_event), 422, "INVALID_INPUT")["field"] == "event_time"
    assert world.call("alice", "POST", "/online", json={"features": ["alpha_stats:txn_count"]}).status_code == 422


def test_metrics_report_each_materialised_views_freshness(world: World) -> None:
    resp = world.http.get("/metrics", headers={"Authorization": f"Bearer {world.tokens['scraper']}"})
    assert resp.status_code == 200, resp.text
    line = next(x for x in resp.text.splitlines() if x.startswith('steward_feature_freshness_seconds{view="alpha_stats"}'))
    # the newest value (T0 + 1 day) is a day old when the module was imported; the suite may
    # reach this test many minutes later, so measure against the source's own clock
    age = (datetime.utcnow() - (T0 + timedelta(days=1))).total_seconds()  # noqa: DTZ003 - naive UTC, as the source
    assert age - 120 < float(line.split()[-1]) <= age + 1
