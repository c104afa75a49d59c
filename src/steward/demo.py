"""``make demo``: the model lifecycle on the embedded store, end to end.

Stage 1 (tracking): two scikit-learn models trained on the breast-cancer data set that
scikit-learn ships, as tracked runs, then compared. Later stages extend this script.
Run with ``python -m steward.demo``; it uses ``STEWARD_HOME`` (default ``./.steward``).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.table import Table

import steward
from steward import Client, Settings
from steward._demo_data import stage_data
from steward.core import Run

EXPERIMENT = "demo-breast-cancer"


def _train(
    client: Client, name: str, estimator: Any, params: dict[str, object], data: dict[str, Any], train_ref: str  # Any: sklearn objects
) -> Run:
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

    x_train, x_test, y_train, y_test = data["x_train"], data["x_test"], data["y_train"], data["y_test"]
    with client.start_run(EXPERIMENT, name=name, params=params, seed=42) as run:
        run.log_input(train_ref, role="train")
        start = time.perf_counter()
        if hasattr(estimator, "partial_fit"):
            import numpy as np

            classes = np.unique(y_train)
            for epoch in range(30):
                estimator.partial_fit(x_train, y_train, classes=classes)
                proba = estimator.predict_proba(x_test)[:, 1]
                run.log_metric("val_log_loss", log_loss(y_test, proba), step=epoch)
        else:
            estimator.fit(x_train, y_train)
        proba = estimator.predict_proba(x_test)[:, 1]
        pred = (proba >= 0.5).astype(int)
        run.log_metrics(
            {
                "accuracy": accuracy_score(y_test, pred),
                "f1": f1_score(y_test, pred),
                "roc_auc": roc_auc_score(y_test, proba),
                "fit_seconds": time.perf_counter() - start,
            }
        )
        run.set_tag("model_family", type(estimator).__name__)
    return client.get_run(run.run_id)


def main() -> int:
    console = Console()
    settings = Settings()
    client = Client(settings)
    console.rule("[bold]Steward demo[/bold] — a model's life on the embedded store")
    console.print(f"Store: {settings.resolved_database_url()}")

    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=42, stratify=y)
    data: dict[str, object] = {"x_train": x_train, "x_test": x_test, "y_train": y_train, "y_test": y_test}

    train_version = stage_data(console, client.services, x_train.assign(target=y_train.to_numpy()), str(settings.resolved_home()))
    console.rule("[bold]Training[/bold]: two tracked runs")
    steward.seed_everything(42)
    # SGD is trained epoch by epoch (partial_fit) on standardised features, to log a curve
    scaler = StandardScaler().fit(x_train)
    scaled = {"x_train": scaler.transform(x_train), "x_test": scaler.transform(x_test), "y_train": y_train, "y_test": y_test}
    runs = [
        _train(client, "logistic-sgd", SGDClassifier(loss="log_loss", alpha=1e-3, random_state=42), {"model": "sgd", "alpha": 1e-3, "epochs": 30}, scaled, train_version.ref),
        _train(
            client,
            "gradient-boosting",
            GradientBoostingClassifier(n_estimators=150, max_depth=3, learning_rate=0.1, random_state=42),
            {"model": "gbm", "n_estimators": 150, "max_depth": 3, "learning_rate": 0.1},
            data,
            train_version.ref,
        ),
    ]

    table = Table(title=f"Runs of experiment {EXPERIMENT!r}")
    table.add_column("run")
    table.add_column("id")
    for key in ("accuracy", "f1", "roc_auc", "fit_seconds"):
        table.add_column(key, justify="right")
    for run in runs:
        table.add_row(run.name, run.run_id[:12], *(f"{run.metrics[k].value:.4f}" for k in ("accuracy", "f1", "roc_auc", "fit_seconds")))
    console.print(table)

    best = steward.search_runs(EXPERIMENT, filter="metrics.roc_auc > 0.9", order_by=["metrics.roc_auc DESC"], max_results=1)
    if best:
        console.print(f"Best by ROC-AUC: [bold]{best[0].name}[/bold] ({best[0].metrics['roc_auc'].value:.4f})")
    console.print()
    console.print("Next: [bold]steward runs list --experiment demo-breast-cancer[/bold], "
                  "[bold]steward runs compare <id> <id>[/bold], or start the server with "
                  "[bold]steward server --port 5000[/bold] and point STEWARD_TRACKING_URI (or an mlflow client's "
                  "MLFLOW_TRACKING_URI) at http://127.0.0.1:5000.")
    from steward._demo_stage2 import stage_two  # stage 2: evaluation, gates, promotion, model card

    stage_two(console, settings, client, data)
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
