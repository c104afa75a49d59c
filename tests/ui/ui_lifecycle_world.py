"""The lifecycle pages' world: a dataset with two versions and a validation, a model with
four versions (evaluated, gated, approved; versions 3 and 4 candidates), a deployment canarying
version 2 with serving stats, a monitor with two windows, and users of each role."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from steward import Client
from steward.core.predictions import PredictionBatch
from steward.core.traffic import LATENCY_BUCKETS_MS, VariantStats
from steward.settings import Settings
from steward.wiring import Services, build_services

HOUR_MS = 3_600_000
LC_PASSWORDS = {
    "root": "root-password-1", "vera": "viewer-password-1", "rita": "reviewer-pw-1", "dan": "deployer-pw-1", "carl": "contributor-pw-1",
}
GATE_POLICY = "min: {accuracy: 0.5}\nmax: {log_loss: 5}\n"


def _frame(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.normal(100.0 + shift, 10.0, rows)
    return pd.DataFrame({"amount": amount, "country": rng.choice(["fr", "de", "es"], rows), "label": (amount > 100).astype(int)})


def _traffic(services: Services, rows: int, start_ms: int, seed: int, shift: float = 0.0) -> None:
    frame = _frame(rows, seed, shift)
    log = services.prediction_log()
    step = HOUR_MS // (rows // 10 + 1)
    ids: list[str] = []
    positions: list[int] = []
    for n, lo in enumerate(range(0, rows, 10)):
        part = frame.iloc[lo:lo + 10]
        request = f"req-{seed}-{n}"
        log.append(PredictionBatch(
            request_id=request, deployment="fraud-api", model_name="fraud", model_version=1, variant="primary",
            inputs={"amount": part["amount"].tolist(), "country": part["country"].tolist()},
            outputs=part["label"].tolist(), latency_ms=4.0, timestamp_ms=start_ms + n * step,
        ))
        ids += [request] * len(part)
        positions += list(range(len(part)))
    assert log.flush()
    table = pa.table({"request_id": ids, "row": positions, "label": frame["label"].tolist()})
    services.predictions("dana").ingest_labels("fraud-api", table, source="test")


class LifecycleSeeded:
    def __init__(self, home: Path, auth: str) -> None:
        self.home = home
        self.settings = Settings(home=home, auth=auth, user="seed", capture_git=False, capture_packages=False, tracking_uri=None)  # type: ignore[arg-type]
        services = build_services(self.settings)
        try:
            self._seed(services)
            if auth == "on":
                gov = services.governance("setup")
                gov.create_user("root", "root@example.com", password=LC_PASSWORDS["root"], is_admin=True)
                roles = {"vera": "viewer", "rita": "reviewer", "dan": "deployer", "carl": "contributor"}
                for user, role in roles.items():
                    gov.create_user(user, f"{user}@example.com", password=LC_PASSWORDS[user])
                    for project in sorted(self.projects):
                        gov.grant_role(user, project, role)
        finally:
            services.alert_runtime().close()
            services.close()

    def _seed(self, services: Services) -> None:
        data = services.data("dana")
        data.register("transactions", _frame(600, 0))
        data.register("transactions", _frame(600, 5, shift=4.0))
        validation = services.validation("dana")
        suite = validation.infer("transactions:1", "transactions-suite")
        assert suite.ref is not None
        validation.validate_version("transactions:2", suite.ref)
        client = Client(self.settings.model_copy(update={"user": "dana"}))
        frame = _frame(600, 0)
        from sklearn.linear_model import LogisticRegression

        try:
            for c in (1.0, 0.5, 0.1, 0.05):
                with client.start_run("fraud-training") as run:
                    run.log_input("transactions:1")
                    run.log_params({"C": c})
                    model = LogisticRegression(C=c).fit(frame[["amount"]], frame["label"])
                    run.log_metrics({"train_accuracy": float(model.score(frame[["amount"]], frame["label"]))})
                    run.log_model(model, "fraud", input_example=frame[["amount"]].head(3), registered_model_name="fraud")
        finally:
            client.close()
        from steward.evaluation import EvaluationOptions

        evaluation = services.evaluation("dana")
        evaluation.gate("fraud:1", "transactions:1", GATE_POLICY, target="label", allow_files=False)
        evaluation.evaluate("fraud:1", "transactions:1", EvaluationOptions(target="label", slices=("country",), measure_latency=False), allow_files=False)
        registry = services.registry("reviewer")
        registry.approve("fraud", 1, comment="holdout looks fine")
        registry.approve("fraud", 2, comment="ok")
        registry.set_alias("fraud", "champion", 1)
        deployments = services.deployments("dana")
        deployments.create_deployment("fraud-api", "fraud:1")
        deployments.canary("fraud-api", "fraud:2", percent=20)
        revision = deployments.get_deployment("fraud-api").plan.revision
        now = int(time.time() * 1000)
        stats = []
        for i in range(6):
            start = now - (6 - i) * 300_000
            for variant, model, requests in (("primary", "fraud:1", 400), ("candidate", "fraud:2", 100)):
                counts = [0] * len(LATENCY_BUCKETS_MS)
                counts[2], counts[3], counts[5] = requests // 2, requests // 2 - 2, 2
                stats.append(VariantStats("fraud-api", revision, variant, model, start, start + 300_000, requests, i % 3, tuple(counts)))
        deployments.record_stats(stats)
        monitors = services.monitors("dana")
        monitors.create_monitor("fraud-drift", "fraud-api", reference="transactions:1")
        _traffic(services, 400, now - 2 * HOUR_MS, seed=1)
        monitors.run_monitor("fraud-drift", now=now - HOUR_MS)
        _traffic(services, 400, now - HOUR_MS, seed=2, shift=8.0)
        monitors.run_monitor("fraud-drift", now=now)
        self.projects = {
            services.registry("x").get_model("fraud").project,
            deployments.get_deployment("fraud-api").project,
            *(d.project for d in data.list_datasets(None)),
        }

    def env(self) -> dict[str, str]:
        return {
            "STEWARD_HOME": str(self.home),
            "STEWARD_DATABASE_URL": self.settings.resolved_database_url(),
            "STEWARD_ARTIFACT_ROOT": self.settings.resolved_artifact_root(),
            "STEWARD_USER": "server",
            "STEWARD_AUTH": self.settings.auth,
            "STEWARD_CAPTURE_PACKAGES": "false",
        }
