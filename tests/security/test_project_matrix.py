"""Every route x every role x (own project, another project, no project), generated from
the one permission table against the real app with authentication on.

Each operation's references (``Operation.refs``) say which objects it touches; the test
fills them with real objects of project ``alpha`` and sends the request as users holding
each role on ``alpha`` (own project), on ``beta`` (another project) or nothing at all. A
route added without its project references cannot pass: its request would be decided
without ``alpha``'s bindings. Requests need not succeed functionally (bodies are minimal);
what is checked is that the answer is a 403 exactly when the table says so, never a 5xx,
and that listings never show another project's objects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import routing

from steward import Client
from steward.core.permissions import OPERATIONS, ObjectKind, Operation, Permission, Role, Source, is_allowed
from steward.features import Entity, Feature, FeatureSource, FeatureView
from steward.server import create_app
from steward.settings import Settings
from steward.wiring import build_services

ALL_SCOPES = ("read", "write", "admin")
PLACEHOLDERS = {
    "run_id": "0" * 32,
    "experiment_id": "1",
    "name": "m",
    "version": "1",
    "path": "file.txt",
    "key": "k",
    "alias": "champion",
    "service": "unknown/endpoint",
    "token_id": "nosuchtoken",
    "tag_key": "k",
    "upload_id": "0" * 32,
    "delivery_id": "0" * 32,
}
SUITE_YAML = "name: alpha-suite\ncolumns:\n  amount:\n    type: float\n"
# (role, project of the binding); None: no binding at all
SUBJECTS: list[tuple[Role, str] | None] = [*((r, "alpha") for r in Role), *((r, "beta") for r in Role), None]


def _subject_id(subject: tuple[Role, str] | None) -> str:
    return "nobody" if subject is None else f"{subject[0].value}-{subject[1]}"


class World:
    """A server with authentication on, objects in project ``alpha`` and a user per subject."""

    def __init__(self, root: Path) -> None:
        self.settings = Settings(home=root, auth="on", user="server", capture_git=False, auth_max_failures=1_000_000,
                                 allow_private_urls=True)  # its webhook points at loopback
        self.services = build_services(self.settings)
        self.app = create_app(self.settings, self.services)
        gov = self.services.governance("setup")
        gov.bootstrap_admin("root", "root@example.com")
        self.tokens: dict[str, str] = {}
        for subject in SUBJECTS:
            name = _subject_id(subject)
            gov.create_user(name, f"{name}@example.com")
            if subject is not None:
                gov.grant_role(name, subject[1], subject[0])
            self.tokens[name] = gov.create_token(name, scopes=ALL_SCOPES).secret
        self._build_alpha(root)

    def _build_alpha(self, root: Path) -> None:
        import pandas as pd
        from sklearn.linear_model import LogisticRegression

        frame = pd.DataFrame({"amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "count": [1, 0, 1, 0, 1, 0]})
        client = Client(self.settings.model_copy(update={"project": "alpha", "tracking_uri": None}))
        try:
            with client.start_run("alpha-exp") as run:
                run.log_text("alpha's file", "file.txt")
                model = LogisticRegression().fit(frame[["amount"]], frame["count"])
                run.log_model(model, "alpha-model", input_example=frame[["amount"]].head(2), registered_model_name="alpha-model")
            self.run_id = run.run_id
        finally:
            client.close()
        tracking = self.services.tracking("setup")
        self.experiment_id = tracking.get_run(self.run_id).experiment_id
        self.services.data("setup").register("alpha-data", frame, project="alpha")
        self.feature_source = root / "alpha-feats.parquet"
        pd.DataFrame({"customer_id": [1], "ts": [pd.Timestamp("2026-01-01")], "txn_count": [1]}).to_parquet(self.feature_source)
        # root approves (separation of duties: not the author)
        self.services.registry("root").approve("alpha-model", 1, comment="matrix fixture")
        self.ensure()

    def ensure(self) -> None:
        """Put back what an allowed request may have removed (a suite, an experiment's state)."""
        self.services.validation("setup").create_suite(SUITE_YAML, project="alpha")
        tracking = self.services.tracking("setup")
        if tracking.get_experiment(self.experiment_id).lifecycle_stage != "active":
            tracking.restore_experiment(self.experiment_id)
        models = self.services.logged_models("setup")
        if getattr(self, "logged_model_id", None) is None or not models.search([self.experiment_id], filter="name = 'alpha-logged'").models:
            self.logged_model_id = models.create(self.experiment_id, name="alpha-logged", source_run_id=self.run_id).model_id
        deployments = self.services.deployments("setup")
        if "alpha-api" not in [d.name for d in deployments.list_deployments()]:
            deployments.create_deployment("alpha-api", "alpha-model:1")
        monitors = self.services.monitors("setup")
        if "alpha-mon" not in [m.name for m in monitors.list_monitors()]:
            monitors.create_monitor("alpha-mon", "alpha-api", reference="alpha-data:1")
        if getattr(self, "upload_id", None) is None:
            # an upload for alpha's dataset (owned by setup: others see it as not found)
            self.upload_id = self.services.uploads("setup").open(
                "alpha-data", size=10, sha256="0" * 64, filename="alpha.parquet", format="parquet"
            ).upload_id
        triggers = self.services.triggers("setup")
        if "alpha-trig" not in [t.name for t in triggers.list_triggers()]:
            pipeline = self.feature_source.parent / "alpha_pipeline.py"
            pipeline.write_text("import steward\n\n@steward.pipeline\ndef alpha():\n    return 1\n", encoding="utf-8")
            triggers.create_trigger("alpha-trig", "cron", str(pipeline), schedule="0 3 * * *", project="alpha")
        webhooks = self.services.webhooks("setup")
        if "alpha-hook" not in [w.name for w in webhooks.list_webhooks()]:
            # a closed loopback port: a test ping fails at once, without the network
            webhooks.create_webhook("alpha-hook", "http://127.0.0.1:9/alpha", project="alpha", events=["*"], secret="alpha-hook-secret-0123456789")
        self.services.features("setup").apply([FeatureView(
            "alpha_feats", entities=(Entity("customer", ("customer_id",)),), features=(Feature("txn_count", "int64"),),
            source=FeatureSource("parquet", str(self.feature_source), event_time="ts"),
        )], project="alpha")

    def value(self, kind: ObjectKind) -> str:
        return {
            ObjectKind.EXPERIMENT: self.experiment_id,
            ObjectKind.EXPERIMENT_NAME: "alpha-exp",
            ObjectKind.RUN: self.run_id,
            ObjectKind.ARTIFACT: f"{self.experiment_id}/{self.run_id}/artifacts/file.txt",
            ObjectKind.LOGGED_MODEL: self.logged_model_id,
            ObjectKind.MODEL: "alpha-model",
            ObjectKind.MODEL_REF: "alpha-model:1",
            ObjectKind.MODEL_SOURCE: f"runs:/{self.run_id}/models/alpha-model",
            ObjectKind.DATASET: "alpha-data",
            ObjectKind.DATASET_REF: "alpha-data:1",
            ObjectKind.SUITE: "alpha-suite",
            ObjectKind.SUITE_DOCUMENT: SUITE_YAML,
            ObjectKind.DEPLOYMENT: "alpha-api",
            ObjectKind.MONITOR: "alpha-mon",
            ObjectKind.FEATURE_VIEW: "alpha_feats",
            ObjectKind.FEATURE_REF: "alpha_feats:txn_count",
            ObjectKind.UPLOAD: self.upload_id,
            ObjectKind.TRIGGER: "alpha-trig",
            ObjectKind.PROJECT: "alpha",
            ObjectKind.WEBHOOK: "alpha-hook",
        }[kind]

    def request(self, method: str, path: str, op: Operation) -> dict[str, Any]:  # Any: httpx request options
        params = dict(PLACEHOLDERS)
        query: dict[str, Any] = {}  # Any: str or list of str
        body: dict[str, Any] = {}  # Any: JSON
        for ref in op.refs:
            value = self.value(ref.kind)
            if ref.source is Source.PATH:
                params[ref.fields[0]] = value
            elif ref.source is Source.QUERY:
                query[ref.fields[0]] = [value] if ref.many else value
            else:
                body[ref.fields[0]] = [value] if ref.many else value
        options: dict[str, Any] = {"params": query}  # Any: httpx request options
        # MLflow's DELETE routes carry their JSON body as its POSTs do
        if method in ("POST", "PUT", "PATCH") or (method == "DELETE" and "/mlflow/" in path):
            uploads = "{path}" in path or path.endswith("/datasets/{name}/versions")
            options["content" if uploads else "json"] = b"x" if uploads else body
        return {"method": method, "url": path.format(**params), **options}

    def names(self) -> list[str]:
        """What must never appear in another project's listing."""
        return ["alpha-exp", self.run_id, "alpha-model", "alpha-data", "alpha-suite", "alpha-api", "alpha-mon", "alpha_feats", "alpha-trig"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("projects"))
    yield w
    w.services.close()


def app_operations(app: Any) -> list[tuple[str, str]]:  # Any: FastAPI
    found: set[tuple[str, str]] = set()
    for route in routing.iter_route_contexts(app.routes):
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, str(route.path_format)))
    return sorted(found, key=lambda k: (k[1], k[0]))


def expected(subject: tuple[Role, str] | None, op: Operation) -> bool:
    """What the table allows: the permission of every reference on alpha's project."""
    bindings = [(subject[1], subject[0])] if subject is not None else []

    def allowed(permission: Permission, project: str | None) -> bool:
        return is_allowed(
            is_admin=False, scopes=ALL_SCOPES, bindings=bindings, permission=permission, project=project,
            global_only=op.global_only,
        )

    if not op.refs:
        return allowed(op.permission, None)
    return all(allowed(ref.permission or op.permission, "alpha") for ref in op.refs)


async def _send(world: World, method: str, path: str) -> list[tuple[str, bool, httpx.Response]]:
    op = OPERATIONS[(method, path)]
    transport = httpx.ASGITransport(app=world.app, raise_app_exceptions=False)
    out = []
    # refused subjects first: an allowed request may change alpha's objects
    ordered = sorted(SUBJECTS, key=lambda s: expected(s, op))
    async with httpx.AsyncClient(transport=transport, base_url="http://steward.test") as client:
        for subject in ordered:
            world.ensure()
            headers = {"Authorization": f"Bearer {world.tokens[_subject_id(subject)]}"}
            resp = await client.request(**world.request(method, path, op), headers=headers)
            out.append((_subject_id(subject), expected(subject, op), resp))
    return out


PROJECT_OPERATIONS = sorted(k for k, op in OPERATIONS.items() if op.permission is not Permission.PUBLIC)


def test_the_matrix_covers_every_route_the_app_serves(world: World) -> None:
    assert sorted(set(app_operations(world.app)) - {k for k in OPERATIONS if OPERATIONS[k].permission is Permission.PUBLIC}) == PROJECT_OPERATIONS


@pytest.mark.parametrize(("method", "path"), PROJECT_OPERATIONS, ids=[f"{m} {p}" for m, p in PROJECT_OPERATIONS])
def test_each_route_is_refused_exactly_outside_the_project_of_what_it_touches(world: World, method: str, path: str) -> None:
    op = OPERATIONS[(method, path)]
    wrong = []
    for who, allowed, resp in asyncio.run(_send(world, method, path)):
        if resp.status_code >= 500 or (resp.status_code == 403) == allowed or resp.status_code == 401:
            wrong.append((who, allowed, resp.status_code, resp.text[:160]))
        elif not allowed and "PERMISSION_DENIED" not in resp.text:
            wrong.append((who, "no PERMISSION_DENIED error", resp.text[:160]))
        elif allowed and op.listing and who.endswith("-beta") and resp.status_code == 200:
            leaked = [n for n in world.names() if n in resp.text]
            if leaked:
                wrong.append((who, "listing leaks", leaked))
    assert wrong == []


def test_refusals_are_audited_with_the_caller_and_the_route(world: World) -> None:
    asyncio.run(_send(world, "GET", "/api/v1/runs/{run_id}"))
    denials = [e for e in world.services.store.list_audit(limit=10_000) if e.action.endswith("denied") and e.actor == "viewer-beta"]
    assert any(world.run_id in e.target or world.run_id in str(e.details) for e in denials), denials[-3:]


def test_a_reader_of_alpha_lists_alpha_and_a_reader_of_beta_lists_none_of_it(world: World) -> None:
    async def lists(token: str) -> str:
        transport = httpx.ASGITransport(app=world.app, raise_app_exceptions=False)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://steward.test", headers=headers) as c:
            parts = [
                (await c.get("/api/v1/experiments")).text,
                (await c.get("/api/v1/runs")).text,
                (await c.post("/api/v1/runs/search", json={})).text,
                (await c.get("/api/v1/models")).text,
                (await c.get("/api/v1/model-versions")).text,
                (await c.get("/api/v1/datasets")).text,
                (await c.get("/api/v1/suites")).text,
                (await c.get("/api/v1/deployments")).text,
                (await c.get("/api/v1/monitors")).text,
                (await c.get("/api/v1/features/views")).text,
                (await c.get("/api/v1/triggers")).text,
                (await c.post("/api/2.0/mlflow/experiments/search", json={})).text,
            ]
        return "\n".join(parts)

    own = asyncio.run(lists(world.tokens["viewer-alpha"]))
    other = asyncio.run(lists(world.tokens["viewer-beta"]))
    assert all(n in own for n in world.names()), own[:500]
    assert not [n for n in world.names() if n in other], other[:500]
