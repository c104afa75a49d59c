"""Demo chapter, features: one definition of each feature for training and serving.

Customer statistics (transactions and mean amount over 7 days) are declared once as a feature
view; ``steward.features.historical`` builds the point-in-time training frame (each order sees
only what was known at its time), a model is trained and registered on it, the view is
materialised to the online store, and a deployment declares the features it needs. A real
``steward serve`` process then answers requests that carry only the customer id and the
order's amount, completing them from the online store; the prediction log shows the values
served. The data is synthetic and small, so the chapter takes seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

import steward.features
from steward import Client, Settings
from steward.core.lifecycle import ModelState
from steward.features import Entity, Feature, FeatureSource, FeatureView
from steward.wiring import build_services

from .serving import _free_port, _wait_ready

DEPLOYMENT = "risk-api"
MODEL = "customer-risk"
VIEW = "customer_stats"
FEATURES = [f"{VIEW}:txn_count_7d", f"{VIEW}:amount_mean_7d"]
CUSTOMERS = 300
REVIEWER = "demo-reviewer"


def _stats(now: datetime, rng: np.random.Generator) -> pd.DataFrame:
    """A statistics row per customer every two days for 30 days (customers 1..CUSTOMERS; the
    last 20 have no statistics at all)."""
    days = np.arange(0, 30, 2)
    ids = np.repeat(np.arange(1, CUSTOMERS - 19), len(days))
    ts = [now - timedelta(days=int(d), hours=1) for d in np.tile(days, CUSTOMERS - 20)]
    base = rng.gamma(2.0, 3.0, CUSTOMERS + 1)[ids]
    return pd.DataFrame({
        "customer_id": ids, "ts": ts,
        "txn_count_7d": rng.poisson(base).astype(float),
        "amount_mean_7d": np.round(rng.normal(60.0, 15.0, len(ids)) + base, 2),
    })


def _orders(now: datetime, rng: np.random.Generator, n: int = 3000) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": rng.integers(1, CUSTOMERS + 1, n),
        "event_timestamp": [now - timedelta(minutes=int(m)) for m in rng.integers(60, 28 * 24 * 60, n)],
        "amount": np.round(rng.gamma(2.0, 40.0, n), 2),
    })


def _label(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Risky: a large amount for the customer's usual spend, or many recent transactions."""
    usual = frame["amount_mean_7d"].fillna(60.0)
    score = (frame["amount"] / usual) + 0.15 * frame["txn_count_7d"].fillna(0.0) + rng.normal(0, 0.3, len(frame))
    return np.asarray((score > 2.2).astype(int))


def serve_with_features(console: Console, settings: Settings, client: Client) -> None:
    """Run the chapter: define, retrieve point in time, train, materialise, deploy, serve."""
    console.rule("[bold]Features[/bold] — one definition for training and serving")
    rng = np.random.default_rng(12)
    now = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - naive UTC, as the sources
    folder = Path(settings.resolved_home()) / "demo-features"
    folder.mkdir(parents=True, exist_ok=True)
    _stats(now, rng).to_parquet(folder / "customer_stats.parquet", index=False)
    view = FeatureView(
        VIEW, entities=(Entity("customer", join_keys=("customer_id",)),), ttl="7d", owner="risk-team",
        features=(Feature("txn_count_7d", "float64"), Feature("amount_mean_7d", "float64")),
        source=FeatureSource("parquet", str(folder / "customer_stats.parquet"), event_time="ts"),
    )
    applied = steward.features.apply([view])
    shown = f"version {applied.applied[0].version}" if applied.applied else "unchanged"
    console.print(f"$ steward features apply  ->  {VIEW} {shown}")

    orders = _orders(now, rng)
    frame = steward.features.historical(orders, FEATURES).to_pandas()
    nulls = int(frame["txn_count_7d"].isna().sum())
    console.print(
        f"Point-in-time training frame: {len(frame):,} orders, every one kept, each with the statistics known at its time; "
        f"{nulls} have none within the 7-day TTL (nulls, not dropped)."
    )
    inputs = frame[["amount", "txn_count_7d", "amount_mean_7d"]]
    label = _label(frame, rng)
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=60).fit(inputs, label)
    example = pd.concat([inputs[inputs["txn_count_7d"].isna()].head(3), inputs.dropna().head(5)])  # nulls allowed: NaN
    with client.start_run("demo-features") as run:
        run.log_params({"features": ",".join(FEATURES), "rows": len(frame)})
        logged = run.log_model(model, MODEL, input_example=example, registered_model_name=MODEL)
    assert logged.registered is not None  # registered_model_name was given
    version = int(logged.registered.version)
    console.print(f"Trained and registered {MODEL}:{version} on those features.")

    done = steward.features.materialize([VIEW])
    console.print(f"$ steward features materialize {VIEW}  ->  {done[0].entities} customers in the online store")

    services = build_services(settings)
    try:
        registry = services.registry(REVIEWER)
        if settings.require_approval and registry.get_version(MODEL, version).state is ModelState.CANDIDATE:
            registry.approve(MODEL, version, comment="demo: reviewed")
        deployments = services.deployments()
        try:
            deployments.delete_deployment(DEPLOYMENT, reason="demo: start over")
        except Exception:  # noqa: BLE001 - a fresh store has none
            pass
        deployments.create_deployment(DEPLOYMENT, f"{MODEL}:{version}", features=FEATURES, reason="demo: online lookup")
        console.print(f"$ steward deploy create {DEPLOYMENT} --model {MODEL}:{version} --features {','.join(FEATURES)}")
        _serve_requests(console, settings)
        logged_rows = services.predictions().read(DEPLOYMENT).to_pandas()
        freshness = {f["view"]: f["age_s"] for f in services.features("demo").freshness()}
    finally:
        services.close()
    served = logged_rows[["input.amount", "input.txn_count_7d", "input.amount_mean_7d"]].head(3)
    console.print(f"Prediction log: {len(logged_rows)} rows for {DEPLOYMENT}, with the feature values served, e.g.:")
    console.print(served.to_string(index=False))
    age = freshness.get(VIEW)
    console.print(f"Freshness of {VIEW}: newest value {age:,.0f} s old (alert rule metric feature.staleness_seconds.{VIEW}).")


def _serve_requests(console: Console, settings: Settings) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(settings.resolved_home()) / "demo-serve-features.log"
    env = {
        **os.environ, "STEWARD_HOME": str(settings.resolved_home()), "STEWARD_DATABASE_URL": settings.resolved_database_url(),
        "STEWARD_ARTIFACT_ROOT": settings.resolved_artifact_root(), "STEWARD_ONLINE_STORE": settings.resolved_online_store(),
    }
    command = [sys.executable, "-m", "steward", "serve", "--deployment", DEPLOYMENT, "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_ready(process, url, log)
            console.print(f"$ steward serve --deployment {DEPLOYMENT} --port {port}")
            rows = [{"customer_id": 7, "amount": 35.0}, {"customer_id": 7, "amount": 900.0},
                    {"customer_id": 42, "amount": 80.0}, {"customer_id": CUSTOMERS, "amount": 80.0}]
            answer = httpx.post(f"{url}/predict", json=rows, timeout=30)
            answer.raise_for_status()
            body = answer.json()
            table = Table(title="Requests carry only the customer id and the amount")
            for column in ("customer_id", "amount", "risk", "features missing"):
                table.add_column(column)
            for row, prediction, missing in zip(rows, body["predictions"], body["features_missing"], strict=True):
                table.add_row(str(row["customer_id"]), f"{row['amount']:g}", str(prediction), "yes" if missing else "")
            console.print(table)
            bad = httpx.post(f"{url}/predict", json=[{"amount": 10.0}], timeout=30)
            console.print(f"A request without the join key: {bad.status_code} {bad.json()['error']['message']}")
        finally:
            if process.poll() is None:
                process.terminate()  # graceful: the prediction log is flushed
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
