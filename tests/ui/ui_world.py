"""The web UI tests' world: a seeded store, console capture and screenshots."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from steward.core import Metric
from steward.settings import Settings
from steward.wiring import build_services

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
RUNS = 120
PASSWORDS = {"root": "root-password-1", "vera": "viewer-password-1", "carl": "contributor-pw-1"}


class Seeded:
    """A store with one experiment of ``RUNS`` runs (params, metric histories, an artifact),
    a second experiment in another project, and users of each role (password logins)."""

    def __init__(self, home: Path, auth: str) -> None:
        self.home = home
        self.settings = Settings(home=home, auth=auth, user="seed", capture_git=False)  # type: ignore[arg-type]
        services = build_services(self.settings)
        try:
            tracking = services.tracking("seed")
            self.experiment_id = tracking.create_experiment("ui-exp").experiment_id
            self.other_experiment_id = tracking.create_experiment("secret-exp", project="other").experiment_id
            rng = random.Random(7)
            self.run_ids: list[str] = []
            for i in range(RUNS):
                run = tracking.create_run(
                    self.experiment_id, name=f"run-{i:03d}",
                    params={"lr": str([0.1, 0.01, 0.001][i % 3]), "model": ["gbm", "mlp"][i % 2], "seed": str(i)},
                    start_time=1_700_000_000_000 + i * 1000,
                )
                metrics = [Metric("acc", i / RUNS, 0, 1)]
                metrics += [Metric("loss", 1.0 / (s + 1) + rng.random() * 0.05, s, 1 + s) for s in range(5)]
                tracking.log_batch(run.run_id, metrics=metrics)
                self.run_ids.append(run.run_id)
            tracking.log_artifact_bytes(self.run_ids[0], b"hello\n", "notes/readme.txt")
            tracking.create_run(self.other_experiment_id, name="hidden-run")
            if auth == "on":
                gov = services.governance("setup")
                gov.create_user("root", "root@example.com", password=PASSWORDS["root"], is_admin=True)
                gov.create_user("vera", "vera@example.com", password=PASSWORDS["vera"])
                gov.grant_role("vera", "ui-exp", "viewer")
                gov.create_user("carl", "carl@example.com", password=PASSWORDS["carl"])
                gov.grant_role("carl", "ui-exp", "contributor")
        finally:
            services.close()

    def env(self) -> dict[str, str]:
        return {
            "STEWARD_HOME": str(self.home),
            "STEWARD_DATABASE_URL": self.settings.resolved_database_url(),
            "STEWARD_ARTIFACT_ROOT": self.settings.resolved_artifact_root(),
            "STEWARD_USER": "server",
            "STEWARD_AUTH": self.settings.auth,
        }


class Console:
    """Console errors and uncaught exceptions of a page."""

    def __init__(self, page: Any) -> None:  # Any: playwright's Page
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))


def shot(page: Any, name: str) -> None:  # Any: playwright's Page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"ui-{name}.png"), full_page=True)
