"""Registry benchmark: list, search, get and load over many model versions, Steward vs MLflow.

Usage::

    .venv/bin/python bench/registry.py [--scale 1.0] [--calls 200] [--json-out FILE]

Both stores get the same shape on SQLite: ``100,000 x scale`` runs and ``10,000 x scale``
model versions (10 versions for each of ``1,000 x scale`` models), each version linked to a
run, plus one alias per model. Seeding writes rows in bulk through each tool's own table
definitions (the API would take hours for 100,000 runs and is not what is measured); one
real scikit-learn model is logged and registered through each tool's API so that ``load``
reads real files.

Timed, ``--calls`` times each with random targets, p50 and p99 in milliseconds:

* ``list``: first page of 100 registered models;
* ``search``: versions of one model by name, and versions by run id (100 per page);
* ``get``: one version by number, and one by alias;
* ``load``: load the real model and predict on one row (``calls // 10`` times: it reads files).

MLflow runs in its own venv (``bench/.venv-mlflow``, made by ``bash bench/mlflow_env.sh``)
by re-running this file there with ``--mlflow-worker``, so it never pins our dependencies.
Each tool's imports therefore live in its own function below.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_PY = ROOT / "bench" / ".venv-mlflow" / "bin" / "python"
VERSIONS_PER_MODEL = 10
BASE_TS = 1_700_000_000_000


def _shape(scale: float) -> tuple[int, int]:
    """(runs, models) for ``scale``."""
    return max(100, round(100_000 * scale)), max(10, round(1_000 * scale))


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3), "p99_ms": round(p99 * 1000, 3), "calls": len(ordered)}


def _time(calls: int, fn: Callable[[random.Random], object]) -> dict[str, float]:
    rng = random.Random(1)
    fn(rng)  # warm caches and lazy imports once, untimed
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        fn(rng)
        samples.append(time.perf_counter() - start)
    return _percentiles(samples)


def _training_data() -> tuple[Any, Any]:  # Any: pandas frame and series
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.random(200), "b": rng.random(200)})
    return frame, (frame["a"] > frame["b"]).astype(int)


# -- Steward ------------------------------------------------------------------------------


def run_steward(workdir: Path, scale: float, calls: int) -> dict[str, Any]:  # Any: JSON
    from sklearn.linear_model import LogisticRegression
    from sqlalchemy import insert

    from steward import Client, Settings
    from steward.adapters.sql._tables import experiments, runs
    from steward.adapters.sql._tables_registry import model_aliases, model_versions, registered_models
    from steward.wiring import build_services

    n_runs, n_models = _shape(scale)
    settings = Settings(home=workdir / "steward", capture_git=False, capture_packages=False, user="bench")
    client = Client(settings)
    frame, target = _training_data()
    with client.start_run("real") as run:
        run.log_model(LogisticRegression().fit(frame, target), "real", input_example=frame.head(5), registered_model_name="real")
    client.close()
    services = build_services(settings)
    store = services.store
    t0 = time.perf_counter()
    run_ids = [uuid.uuid4().hex for _ in range(n_runs)]
    with store.write() as conn:
        exp_id = conn.execute(insert(experiments).values(name="bulk", created_at=BASE_TS)).inserted_primary_key[0]  # type: ignore[index]
        for i in range(0, n_runs, 10_000):
            conn.execute(
                insert(runs),
                [
                    {"run_id": rid, "experiment_id": exp_id, "name": f"r{j}", "status": "finished", "start_time": BASE_TS + j, "user": "bench"}
                    for j, rid in enumerate(run_ids[i : i + 10_000], start=i)
                ],
            )
        conn.execute(
            insert(registered_models),
            [{"name": f"model-{m:05d}", "description": "", "owner": "bench", "created_at": BASE_TS, "updated_at": BASE_TS, "latest_version": VERSIONS_PER_MODEL} for m in range(n_models)],
        )
        rows = [
            {
                "name": f"model-{m:05d}", "version": v, "run_id": run_ids[(m * VERSIONS_PER_MODEL + v) % n_runs],
                "artifact_path": "models/real", "state": "candidate", "flavor": "sklearn", "description": "",
                "signature": {}, "requirements": [], "datasets": [], "metrics": {"auc": 0.5},
                "created_by": "bench", "created_at": BASE_TS, "updated_at": BASE_TS,
            }
            for m in range(n_models)
            for v in range(1, VERSIONS_PER_MODEL + 1)
        ]
        for i in range(0, len(rows), 5_000):
            conn.execute(insert(model_versions), rows[i : i + 5_000])
        conn.execute(
            insert(model_aliases),
            [{"name": f"model-{m:05d}", "alias": "champion", "version": VERSIONS_PER_MODEL, "updated_by": "bench", "updated_at": BASE_TS} for m in range(n_models)],
        )
    seed_s = time.perf_counter() - t0
    reg = services.registry("bench")
    pick = lambda rng: f"model-{rng.randrange(n_models):05d}"  # noqa: E731 - a one-line chooser
    results = {
        "list": _time(calls, lambda rng: reg.list_models(max_results=100)),
        "search_by_name": _time(calls, lambda rng: reg.search_versions(name=pick(rng), max_results=100)),
        "search_by_run": _time(calls, lambda rng: reg.search_versions(run_id=rng.choice(run_ids), max_results=100)),
        "get": _time(calls, lambda rng: reg.get_version(pick(rng), rng.randrange(1, VERSIONS_PER_MODEL + 1))),
        "get_by_alias": _time(calls, lambda rng: reg.resolve(f"{pick(rng)}@champion")),
        "load": _time(max(5, calls // 10), lambda rng: reg.load("real:1").predict(frame.head(1))),
    }
    services.close()
    return {"tool": "steward", "runs": n_runs, "versions": n_models * VERSIONS_PER_MODEL, "seed_s": round(seed_s, 2), "results": results}


# -- MLflow (runs inside bench/.venv-mlflow) ----------------------------------------------


def run_mlflow(workdir: Path, scale: float, calls: int) -> dict[str, Any]:  # Any: JSON
    for key, value in {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "MLFLOW_LOGGING_LEVEL": "ERROR", "GIT_PYTHON_REFRESH": "quiet"}.items():
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore")
    import logging

    import mlflow
    import mlflow.sklearn
    from mlflow.store.model_registry.dbmodels.models import SqlModelVersion, SqlRegisteredModel, SqlRegisteredModelAlias
    from mlflow.store.tracking.dbmodels.models import SqlExperiment, SqlRun
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    n_runs, n_models = _shape(scale)
    db = workdir / "mlflow" / "mlflow.db"
    db.parent.mkdir(parents=True)
    uri = f"sqlite:///{db}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    exp = mlflow.create_experiment("real", artifact_location=(workdir / "mlflow" / "artifacts").as_uri())
    frame, target = _training_data()
    with mlflow.start_run(experiment_id=exp):
        mlflow.sklearn.log_model(LogisticRegression().fit(frame, target), name="real", input_example=frame.head(5), registered_model_name="real")
    client = MlflowClient(uri, uri)
    store = client._tracking_client.store  # the SqlAlchemyStore: its session maker seeds in bulk
    t0 = time.perf_counter()
    run_ids = [uuid.uuid4().hex for _ in range(n_runs)]
    with store.ManagedSessionMaker() as session:
        bulk_exp = SqlExperiment(name="bulk", artifact_location=(workdir / "mlflow" / "bulk").as_uri(), lifecycle_stage="active")
        session.add(bulk_exp)
        session.flush()
        session.bulk_save_objects(
            [SqlRun(run_uuid=rid, name=f"r{j}", experiment_id=bulk_exp.experiment_id, user_id="bench", status="FINISHED",
                    start_time=BASE_TS + j, lifecycle_stage="active", artifact_uri="") for j, rid in enumerate(run_ids)]
        )
        session.bulk_save_objects([SqlRegisteredModel(name=f"model-{m:05d}", creation_time=BASE_TS, last_updated_time=BASE_TS) for m in range(n_models)])
        session.bulk_save_objects(
            [
                SqlModelVersion(name=f"model-{m:05d}", version=v, creation_time=BASE_TS, last_updated_time=BASE_TS, user_id="bench",
                                current_stage="None", source="models:/real/1", run_id=run_ids[(m * VERSIONS_PER_MODEL + v) % n_runs], status="READY")
                for m in range(n_models)
                for v in range(1, VERSIONS_PER_MODEL + 1)
            ]
        )
        session.bulk_save_objects([SqlRegisteredModelAlias(name=f"model-{m:05d}", alias="champion", version=VERSIONS_PER_MODEL) for m in range(n_models)])
    seed_s = time.perf_counter() - t0
    pick = lambda rng: f"model-{rng.randrange(n_models):05d}"  # noqa: E731 - a one-line chooser
    results = {
        "list": _time(calls, lambda rng: client.search_registered_models(max_results=100)),
        "search_by_name": _time(calls, lambda rng: client.search_model_versions(f"name='{pick(rng)}'", max_results=100)),
        "search_by_run": _time(calls, lambda rng: client.search_model_versions(f"run_id='{rng.choice(run_ids)}'", max_results=100)),
        "get": _time(calls, lambda rng: client.get_model_version(pick(rng), str(rng.randrange(1, VERSIONS_PER_MODEL + 1)))),
        "get_by_alias": _time(calls, lambda rng: client.get_model_version_by_alias(pick(rng), "champion")),
        "load": _time(max(5, calls // 10), lambda rng: mlflow.pyfunc.load_model("models:/real/1").predict(frame.head(1))),
    }
    return {"tool": "mlflow", "version": mlflow.__version__, "runs": n_runs, "versions": n_models * VERSIONS_PER_MODEL, "seed_s": round(seed_s, 2), "results": results}


# -- driver -------------------------------------------------------------------------------


def _table(steward: dict[str, Any], mlflow: dict[str, Any] | None) -> str:  # Any: JSON
    lines = [f"{steward['versions']:,} versions, {steward['runs']:,} runs (SQLite)", f"{'operation':<16}{'steward p50/p99 ms':>22}{'mlflow p50/p99 ms':>22}{'p50 speed-up':>14}"]
    for op, s in steward["results"].items():
        m = mlflow["results"].get(op) if mlflow else None
        theirs = f"{m['p50_ms']:.2f} / {m['p99_ms']:.2f}" if m else "-"
        ratio = f"{m['p50_ms'] / s['p50_ms']:.1f}x" if m and s["p50_ms"] else "-"
        lines.append(f"{op:<16}{s['p50_ms']:>10.2f} / {s['p99_ms']:<9.2f}{theirs:>22}{ratio:>14}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 10,000 versions and 100,000 runs; 0.05 for a quick run.")
    parser.add_argument("--calls", type=int, default=200, help="Timed calls per operation.")
    parser.add_argument("--json-out", type=Path, help="Write the results as JSON here.")
    parser.add_argument("--skip-mlflow", action="store_true", help="Only Steward.")
    parser.add_argument("--mlflow-worker", type=Path, help=argparse.SUPPRESS)  # internal: run MLflow's half in its venv
    args = parser.parse_args()
    if args.mlflow_worker:
        print(json.dumps(run_mlflow(args.mlflow_worker, args.scale, args.calls)))
        return
    with tempfile.TemporaryDirectory(prefix="steward-bench-registry-") as tmp:
        steward = run_steward(Path(tmp), args.scale, args.calls)
        mlflow = None
        if not args.skip_mlflow:
            if not MLFLOW_PY.exists():
                sys.exit("bench/.venv-mlflow missing: run `bash bench/mlflow_env.sh`")
            out = subprocess.run(
                [str(MLFLOW_PY), __file__, "--mlflow-worker", str(Path(tmp)), "--scale", str(args.scale), "--calls", str(args.calls)],
                capture_output=True, text=True, check=False, cwd=tmp,
            )
            if out.returncode != 0:
                sys.exit(f"MLflow half failed:\n{out.stderr[-3000:]}")
            mlflow = json.loads(out.stdout.strip().splitlines()[-1])
    print(_table(steward, mlflow))
    if args.json_out:
        args.json_out.write_text(json.dumps({"steward": steward, "mlflow": mlflow}, indent=2))


if __name__ == "__main__":
    main()
