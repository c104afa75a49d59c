"""The fast server path: a short run is one ``POST /runs/batch``.

A run started through a server is created with its first request that needs it; a short
run with params, tags, a metric, a small artifact and its end takes one request, and leaves
the same rows (run, params, tags, metrics, artifacts) and the same audit trail as the same
run tracked embedded.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from steward import errors
from steward.core import RunStatus
from steward.sdk import Client, HttpBackend
from steward.server import create_app
from steward.settings import Settings
from steward.wiring import Services, build_services


def _short_run(client: Client, artifact: Path) -> str:
    with client.start_run("churn", name="short", params={"C": 1.0, "model": "gbm"}, tags={"team": "growth"}, capture=False) as run:
        run.log_artifact(artifact)
        run.log_metric("auc", 0.91, step=0)
        return run.run_id


def _counting(backend: HttpBackend) -> list[str]:
    sent: list[str] = []
    backend._http.event_hooks["request"].append(lambda request: sent.append(f"{request.method} {request.url.path}"))
    return sent


def _trail(services: Services, run_id: str) -> list[tuple[str, str, dict[str, object]]]:
    entries = services.store.list_audit(target=f"runs:/{run_id}", limit=1000)
    return [(e.action, e.target.replace(run_id, "<run>"), e.details) for e in entries]


@pytest.fixture
def remote(settings: Settings, asgi_transport: Any) -> Iterator[tuple[Client, HttpBackend]]:
    backend = HttpBackend("http://steward.test", user="alice", transport=asgi_transport)
    # the longest flush interval: a tick of the background flush within the short run would
    # store its metric apart from its end (one more audit row, embedded as through the server)
    client = Client(settings.model_copy(update={"user": "alice", "flush_interval": 1.0}), backend=backend)
    yield client, backend
    client.close()


def test_a_short_run_through_the_server_is_one_request_and_stored_as_embedded(
    remote: tuple[Client, HttpBackend], services: Services, tmp_path: Path
) -> None:
    client, backend = remote
    artifact = tmp_path / "report.txt"
    artifact.write_text("auc 0.91\n")
    client.create_experiment("churn")
    sent = _counting(backend)
    client.start_run("churn", capture=False).end()  # the experiment's id is cached from here on
    sent.clear()

    run_id = _short_run(client, artifact)
    assert sent == ["POST /api/v1/runs/batch"]

    embedded_home = tmp_path / "embedded"
    embedded = Client(Settings(home=embedded_home, user="alice", capture_git=False, flush_interval=1.0))
    try:
        local_id = _short_run(embedded, artifact)
        local_services = embedded.services
        stored, local = services.tracking("check").get_run(run_id), embedded.get_run(local_id)
        assert (stored.status, stored.name, stored.user, stored.params, stored.tags) == (
            local.status, local.name, local.user, local.params, local.tags,
        )
        assert stored.status is RunStatus.FINISHED and stored.end_time is not None
        assert {k: (m.value, m.step) for k, m in stored.metrics.items()} == {"auc": (0.91, 0)}
        assert [(a.path, a.digest, a.size) for a in client.list_artifacts(run_id)] == [
            (a.path, a.digest, a.size) for a in embedded.list_artifacts(local_id)
        ]
        assert client.read_artifact(run_id, "report.txt") == b"auc 0.91\n"
        assert _trail(services, run_id) == _trail(local_services, local_id)
        assert [action for action, _t, _d in _trail(services, run_id)] == ["runs.create", "runs.log_artifact", "runs.end"]
    finally:
        embedded.close()


def test_a_run_without_an_artifact_is_one_request_and_a_long_one_appears_within_two_flush_intervals(
    settings: Settings, asgi_transport: Any, services: Services
) -> None:
    backend = HttpBackend("http://steward.test", user="alice", transport=asgi_transport)
    client = Client(settings.model_copy(update={"user": "alice", "flush_interval": 0.1}), backend=backend)
    try:
        client.create_experiment("quick")
        client.start_run("quick", capture=False).end()
        sent = _counting(backend)
        with client.start_run("quick", params={"a": 1}, capture=False) as run:
            run.log_metrics({"loss": 0.5, "acc": 0.7})
        assert sent == ["POST /api/v1/runs/batch"]
        stored = services.tracking("check").get_run(run.run_id)
        assert stored.params == {"a": "1"} and set(stored.metrics) == {"loss", "acc"}

        long_run = client.start_run("quick", capture=False)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                assert services.tracking("check").get_run(long_run.run_id).status is RunStatus.RUNNING
                break
            except errors.NotFoundError:
                time.sleep(0.05)
        else:
            pytest.fail("the deferred run never reached the server")
        long_run.end()
    finally:
        client.close()


def test_held_artifacts_are_checked_at_once_answer_as_stored_and_a_path_logged_again_is_an_audited_overwrite(
    remote: tuple[Client, HttpBackend], services: Services
) -> None:
    client, backend = remote
    client.create_experiment("churn")
    client.start_run("churn", capture=False).end()
    sent = _counting(backend)
    with client.start_run("churn", capture=False) as run:
        with pytest.raises(errors.InvalidInputError) as refused:
            run.log_text("x", "../outside.txt")  # refused now, by the server's rule, not at the end
        assert refused.value.field == "path"
        first = backend.log_artifact_bytes(run.run_id, b"first", "notes/a.txt")
        other = backend.log_artifact_bytes(run.run_id, b"other", "b.txt")
        assert sent == []  # both held for the run's creation
        # the same path again: the held files go with the creation first, then this one
        # replaces its file as on any run, so that the overwrite is audited with both digests
        last = backend.log_artifact_bytes(run.run_id, b"second", "notes/./a.txt")
        assert len(sent) == 2 and sent[0] == "POST /api/v1/runs/batch" and sent[1].startswith(f"PUT /api/v1/runs/{run.run_id}/artifacts/")
        listed = {a.path: (a.digest, a.size) for a in client.list_artifacts(run.run_id)}
    assert first.path == last.path == "notes/a.txt"
    assert listed == {"notes/a.txt": (last.digest, last.size), "b.txt": (other.digest, other.size)}
    assert client.read_artifact(run.run_id, "notes/a.txt") == b"second"
    trail = services.store.list_audit(target=f"runs:/{run.run_id}", limit=100)
    assert [e.action for e in trail if e.action != "runs.end"][:3] == ["runs.create", "runs.log_artifact", "runs.log_artifact"]
    overwrites = [e.details for e in trail if e.action == "artifacts.overwrite"]
    assert [(d["old_digest"], d["new_digest"]) for d in overwrites] == [(first.digest, last.digest)]


def test_a_file_that_does_not_fit_beside_the_held_ones_goes_at_once_with_them(
    remote: tuple[Client, HttpBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    import steward.sdk._http as http_module

    client, backend = remote
    monkeypatch.setattr(http_module, "INLINE_ARTIFACT_BYTES", 10)
    client.create_experiment("churn")
    client.start_run("churn", capture=False).end()
    sent = _counting(backend)
    with client.start_run("churn", capture=False) as run:
        backend.log_artifact_bytes(run.run_id, b"123456", "a.bin")
        assert sent == []
        info = backend.log_artifact_bytes(run.run_id, b"abcdef", "b.bin")  # 12 bytes together: over the budget
        assert sent == ["POST /api/v1/runs/batch"] and info.path == "b.bin" and info.size == 6
    stored = {a.path: a.size for a in client.list_artifacts(run.run_id)}
    assert stored == {"a.bin": 6, "b.bin": 6}


def test_a_pending_run_is_created_before_any_other_request_names_it(remote: tuple[Client, HttpBackend]) -> None:
    client, _backend = remote
    with client.start_run("churn", capture=False) as run:
        assert client.get_run(run.run_id).status is RunStatus.RUNNING
        run.log_params({"late": "yes"})
    assert client.get_run(run.run_id).params == {"late": "yes"}


def test_a_refused_creation_raises_at_the_end_and_leaves_no_run(remote: tuple[Client, HttpBackend], services: Services) -> None:
    client, _backend = remote
    client.create_experiment("churn")
    run = client.start_run("churn", params={"x": "y" * 10_000}, capture=False)
    with pytest.raises(errors.InvalidInputError):
        run.end()
    with pytest.raises(errors.NotFoundError):
        services.tracking("check").get_run(run.run_id)


def test_the_batch_route_refuses_bad_input_with_a_named_field(api: httpx.Client, services: Services) -> None:
    experiment = services.tracking("setup").create_experiment("bad-input").experiment_id
    rid = uuid.uuid4().hex
    cases: list[tuple[dict[str, Any], str]] = [
        ({"run_id": rid, "experiment_id": experiment}, "experiment_id"),
        ({"run_id": rid, "create": {}}, "experiment_id"),
        ({"run_id": rid, "experiment_id": experiment, "create": {}, "artifacts": [{"path": "../x", "data": ""}]}, "path"),
        ({"run_id": rid, "experiment_id": experiment, "create": {}, "artifacts": [{"path": "x", "data": "%%%"}]}, "artifacts[0].data"),
        ({"run_id": "nope"}, "run_id"),
    ]
    for body, field in cases:
        resp = api.post("/api/v1/runs/batch", json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert field in resp.text
    assert api.post("/api/v1/runs/batch", json={"run_id": rid, "end": {"status": "finished"}}).status_code == 404
    with pytest.raises(errors.NotFoundError):
        services.tracking("check").get_run(rid)


# -- permissions: the route is in the one table, and its references are checked --------------


class _Team:
    def __init__(self, root: Path, transport: Any) -> None:  # Any: the SyncASGITransport class
        self.settings = Settings(home=root, auth="on", user="server", capture_git=False, capture_packages=False)
        self.services = build_services(self.settings)
        self.app = create_app(self.settings, self.services)
        gov = self.services.governance("setup")
        gov.bootstrap_admin("root", "root@example.com")
        self.tokens: dict[str, str] = {}
        for name, project, role in (("mallory", "beta", "contributor"), ("vera", "alpha", "viewer"), ("carol", "alpha", "contributor")):
            gov.create_user(name, f"{name}@example.com")
            gov.grant_role(name, project, role)
            self.tokens[name] = gov.create_token(name).secret
        tracking = self.services.tracking("setup")
        self.alpha_experiment = tracking.create_experiment("alpha-exp", project="alpha").experiment_id
        self.beta_experiment = tracking.create_experiment("beta-exp", project="beta").experiment_id
        self.alpha_run = tracking.create_run(self.alpha_experiment).run_id
        self._transport = transport(self.app)
        self.http = httpx.Client(transport=self._transport, base_url="http://steward.test")

    def post(self, who: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post("/api/v1/runs/batch", json=body, headers={"Authorization": f"Bearer {self.tokens[who]}"})

    def close(self) -> None:
        self.http.close()
        self._transport.close()
        self.services.close()


@pytest.fixture
def team(tmp_path: Path, sync_asgi_transport: Any) -> Iterator[_Team]:
    t = _Team(tmp_path / "team", sync_asgi_transport)
    yield t
    t.close()


def _denied(resp: httpx.Response) -> None:
    assert resp.status_code == 403, resp.text
    assert resp.json()["error"]["code"] == "PERMISSION_DENIED"


def test_a_contributor_of_another_project_cannot_batch_write_into_a_foreign_run(team: _Team) -> None:
    evil = base64.b64encode(b"attacker's bytes").decode()
    _denied(team.post("mallory", {"run_id": team.alpha_run, "params": {"x": "1"}, "artifacts": [{"path": "a.txt", "data": evil}]}))
    _denied(team.post("mallory", {"run_id": team.alpha_run, "end": {"status": "failed"}}))
    # nor "create" a run that exists in the other project, through an experiment of their own
    _denied(team.post("mallory", {"run_id": team.alpha_run, "experiment_id": team.beta_experiment, "create": {}}))
    # nor create a run in the other project's experiment
    _denied(team.post("mallory", {"run_id": uuid.uuid4().hex, "experiment_id": team.alpha_experiment, "create": {}}))
    run = team.services.tracking("check").get_run(team.alpha_run)
    assert run.status is RunStatus.RUNNING and run.params == {}
    assert team.services.tracking("check").list_artifacts(team.alpha_run) == []
    denials = [e for e in team.services.store.list_audit(limit=10_000) if e.actor == "mallory" and "denied" in e.action]
    assert len(denials) >= 4


def test_a_viewer_cannot_batch_write_and_a_contributor_can(team: _Team) -> None:
    _denied(team.post("vera", {"run_id": team.alpha_run, "params": {"x": "1"}}))
    _denied(team.post("vera", {"run_id": uuid.uuid4().hex, "experiment_id": team.alpha_experiment, "create": {}}))
    rid = uuid.uuid4().hex
    resp = team.post("carol", {"run_id": rid, "experiment_id": team.alpha_experiment, "create": {"params": {"C": 1}}, "end": {"status": "finished"}})
    assert resp.status_code == 200, resp.text
    stored = team.services.tracking("check").get_run(rid)
    assert stored.user == "carol" and stored.params == {"C": "1"} and stored.status is RunStatus.FINISHED
