"""Demo chapter, tracking: two scikit-learn models trained on the breast-cancer data set
that scikit-learn ships, as tracked runs, then compared."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

import steward
from steward import Client
from steward.core import Run

from ._progress import bars

EXPERIMENT = "demo-breast-cancer"


def load_data() -> dict[str, Any]:  # Any: pandas frames and series
    """The breast-cancer data, split 75/25 (stratified, seeded): ``x_train``, ``x_test``, ``y_train``, ``y_test``."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=42, stratify=y)
    return {"x_train": x_train, "x_test": x_test, "y_train": y_train, "y_test": y_test}


def _train(
    client: Client, name: str, estimator: Any, params: dict[str, object], data: dict[str, Any], train_ref: str,  # Any: sklearn objects
    advance: Callable[[], None],
) -> Run:
    """Fit ``estimator`` as a tracked run; ``advance`` is told of each epoch (``partial_fit``) or boosting stage done."""
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
                advance()
        else:
            def stage_done(*_: object) -> bool:  # gradient boosting calls its monitor after each stage
                advance()
                return False  # never stop early

            estimator.fit(x_train, y_train, monitor=stage_done)
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


def track(console: Console, client: Client, data: dict[str, Any], train_ref: str) -> None:  # Any: frames
    """Train two models as tracked runs of ``EXPERIMENT`` and compare them."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import SGDClassifier
    from sklearn.preprocessing import StandardScaler

    x_train, x_test, y_train, y_test = data["x_train"], data["x_test"], data["y_train"], data["y_test"]
    console.rule("[bold]Training[/bold]: two tracked runs")
    steward.seed_everything(42)
    # SGD is trained epoch by epoch (partial_fit) on standardised features, to log a curve
    scaler = StandardScaler().fit(x_train)
    scaled = {"x_train": scaler.transform(x_train), "x_test": scaler.transform(x_test), "y_train": y_train, "y_test": y_test}
    sgd = SGDClassifier(loss="log_loss", alpha=1e-3, random_state=42)
    gbm = GradientBoostingClassifier(n_estimators=150, max_depth=3, learning_rate=0.1, random_state=42)
    # left on screen when done: the record of what was trained, the way a training log reads
    with bars(console, transient=False) as progress:
        sgd_task = progress.add_task("Training logistic-sgd", total=30, unit="epochs")
        gbm_task = progress.add_task("Training gradient-boosting", total=gbm.n_estimators, unit="trees", start=False)
        runs = [
            _train(client, "logistic-sgd", sgd, {"model": "sgd", "alpha": 1e-3, "epochs": 30}, scaled, train_ref,
                   lambda: progress.advance(sgd_task)),
        ]
        progress.start_task(gbm_task)
        runs.append(
            _train(client, "gradient-boosting", gbm, {"model": "gbm", "n_estimators": 150, "max_depth": 3, "learning_rate": 0.1},
                   data, train_ref, lambda: progress.advance(gbm_task))
        )

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
