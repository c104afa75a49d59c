"""MLflow half of ``bench/ui.py``: the same runs in MLflow's SQLite store, then
``MlflowClient.search_runs`` timed (the call behind MLflow's runs table).

Run inside bench/.venv-mlflow (``bench/mlflow_env.sh``)::

    bench/.venv-mlflow/bin/python bench/_ui_mlflow.py --workdir DIR --runs N --metrics M \
        --params P --repeat R --json-out FILE

Loading: one run is logged through MLflow's API (so the schema and the row shapes are
MLflow's own); the others are copies of its rows inserted with sqlite3 (logging 100,000
runs through the API takes hours and is not what is measured). Each query: one warm-up,
then the median of ``--repeat`` calls.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import time
import uuid
import warnings
from pathlib import Path

os.environ.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
warnings.filterwarnings("ignore")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--metrics", type=int, default=50)
    ap.add_argument("--params", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--json-out", required=True)
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "mlflow.db"
    uri = f"sqlite:///{db_path}"
    import mlflow
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp_id = client.create_experiment("ui-bench", artifact_location=str(work / "artifacts"))
    template = client.create_run(exp_id, run_name="template")
    tid = template.info.run_id
    now = int(time.time() * 1000)
    client.log_batch(
        tid,
        metrics=[Metric(f"m{k}", 0.5, now, 0) for k in range(args.metrics)],
        params=[Param(f"p{k}", "v0") for k in range(args.params)],
    )
    client.set_terminated(tid)

    t0 = time.perf_counter()
    rng = random.Random(0)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous = OFF")  # loading only: the timed reads come after
    run_row = db.execute("SELECT * FROM runs WHERE run_uuid = ?", (tid,)).fetchone()
    run_cols = [d[0] for d in db.execute("SELECT * FROM runs LIMIT 0").description]
    tag_rows = db.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (tid,)).fetchall()
    batch = 5000
    for start in range(1, args.runs, batch):
        runs, metrics, latest, params, tags = [], [], [], [], []
        for i in range(start, min(start + batch, args.runs)):
            rid = uuid.uuid4().hex
            row = dict(zip(run_cols, run_row, strict=True))
            row.update(run_uuid=rid, name=f"run-{i}", start_time=now + i, end_time=now + i + 1)
            if row.get("artifact_uri"):
                row["artifact_uri"] = str(row["artifact_uri"]).replace(tid, rid)
            runs.append(tuple(row[c] for c in run_cols))
            for k in range(args.metrics):
                v = rng.random()
                metrics.append((f"m{k}", v, now, rid, 0, 0))
                latest.append((f"m{k}", v, now, 0, 0, rid))
            for k in range(args.params):
                params.append((f"p{k}", f"v{rng.randrange(4)}", rid))
            for key, value in tag_rows:
                tags.append((key, value.replace("template", f"run-{i}") if key == "mlflow.runName" else value, rid))
        db.executemany(f"INSERT INTO runs ({', '.join(run_cols)}) VALUES ({', '.join('?' * len(run_cols))})", runs)
        db.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)", metrics)
        db.executemany("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)", latest)
        db.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params)
        db.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
        db.commit()
    db.execute("ANALYZE")
    db.commit()
    db.close()
    load_s = time.perf_counter() - t0

    client = MlflowClient(tracking_uri=uri)
    queries = {
        "runs_page": {"filter_string": "", "order_by": None},
        "filtered_sorted": {"filter_string": "metrics.m0 > 0.5 and params.p0 = 'v1'", "order_by": ["metrics.m1 DESC"]},
    }
    out: dict[str, object] = {"mlflow_version": mlflow.__version__, "load_s": load_s, "runs": args.runs}
    for name, q in queries.items():
        times, cpus = [], []
        count = 0
        for i in range(args.repeat + 1):
            t, c = time.perf_counter(), time.process_time()
            page = client.search_runs([exp_id], filter_string=q["filter_string"], order_by=q["order_by"], max_results=50)
            elapsed, cpu = time.perf_counter() - t, time.process_time() - c
            count = len(page)
            if i:
                times.append(elapsed)
                cpus.append(cpu)
        out[f"{name}_s"] = statistics.median(times)
        out[f"{name}_cpu_s"] = statistics.median(cpus)  # user+sys of this process (SQLite runs in it)
        out[f"{name}_rows"] = count
    Path(args.json_out).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
