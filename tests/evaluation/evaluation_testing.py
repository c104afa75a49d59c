"""Helpers for the evaluation tests (a module of its own: test files import it by name): a
holdout dataset version and two registered versions of ``fraud`` (the weak one is the
champion; the other is the stronger challenger)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from steward import Client
from steward.wiring import Services


def fraud_frame(rows: int = 500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"amount": rng.normal(size=rows), "count": rng.integers(0, 5, rows), "sex": rng.choice(["f", "m"], rows)})
    df["label"] = (df["amount"] + 0.3 * df["count"] + rng.normal(scale=0.4, size=rows) > 1.5).astype(int)
    return df


@dataclass(frozen=True, slots=True)
class World:
    holdout: str  # datasets:/holdout/1
    weak: int
    strong: int


def register_models(client: Client, services: Services) -> World:
    from sklearn.linear_model import LogisticRegression

    train = fraud_frame(seed=1)
    holdout = services.data("tester").register("holdout", fraud_frame(seed=2))
    versions = []
    for features in (["count"], ["amount", "count"]):
        model = LogisticRegression().fit(train[features], train["label"])
        with client.start_run("fraud-training", params={"features": ",".join(features)}) as run:
            run.log_metric("train_accuracy", float(model.score(train[features], train["label"])))
            logged = run.log_model(model, "fraud", input_example=train[features].head(5), registered_model_name="fraud")
        versions.append(logged.registered.version)
    services.registry("tester").set_alias("fraud", "champion", versions[0])
    return World(holdout.ref, versions[0], versions[1])
