"""Web UI benchmark (issue 14): the runs page of an experiment with 100,000 runs x 50
metrics, server-side, beside MLflow's ``search_runs`` on the same data, in one run.

Steward: the store is filled (one run through the tracking service, the others as copies
of its rows, inserted in bulk) on SQLite and on PostgreSQL; then the UI's runs page is
requested in this process through the ASGI app (the server's time: routing, the caller,
the query of the visible page and columns, rendering), median of ``--repeat`` after a
warm-up, for:

  * runs_page:        /experiments/<id> (newest first, 50 rows, 6 metric + 4 param columns)
  * filtered_sorted:  filter ``metrics.m0 > 0.5 and params.p0 = 'v1'``, order ``metrics.m1 DESC``

and the same two queries through ``TrackingService.search_runs`` alone (the query without
the page). MLflow (bench/.venv-mlflow, bench/mlflow_env.sh) gets the same runs in its
SQLite store and ``MlflowClient.search_runs`` is timed for the same two queries
(bench/_ui_mlflow.py). The target: under 300 ms per page.

Usage: python bench/ui.py [--runs 100000] [--metrics 50] [--repeat 7] [--skip-mlflow]
       [--skip-postgres] [--skip-sqlite] [--json-out FILE]
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
import urllib.parse
import uuid
import warnings
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
PG_BASE = os.environ.get("STEWARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET_S = 0.300
FILTER = "metrics.m0 > 0.5 and params.p0 = 'v1'"
ORDER = "metrics.m1 DESC"


def _load_steward(settings: Any, runs: int, n_metrics: int, n_params: int) -> tuple[Any, str, float]:  # Any: Settings, Services
    from steward.core import Metric
    from steward.wiring import build_services

    services = build_services(settings)
    tracking = services.tracking("bench")
    exp_id = tracking.create_experiment("ui-bench").experiment_id
    now = int(time.time() * 1000)
    template = tracking.create_run(exp_id, name="template", params={f"p{k}": "v0" for k in range(n_params)})
    tracking.log_batch(template.run_id, metrics=[Metric(f"m{k}", 0.5, 0, now) for k in range(n_metrics)])
    rng = random.Random(0)
    t0 = time.perf_counter()
    engine = services.store.engine
    batch = 5000
    cols = {
        "runs": ("run_id", "experiment_id", "name", "status", "start_time", "end_time", "user", "note", "lifecycle_stage"),
        "latest_metrics": ("run_id", "key", "value", "is_nan", "step", "timestamp"),
        "params": ("run_id", "key", "value"),
    }
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:  # built once after the load: faster than maintaining it row by row
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_latest_metrics_key_value")
    for start in range(1, runs, batch):
        rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in cols}  # Any: column values
        for i in range(start, min(start + batch, runs)):
            rid = f"{i:08x}" + uuid.uuid4().hex[8:]  # 32 hex; ascending: the bulk load appends to the indexes
            rows["runs"].append((rid, int(exp_id), f"run-{i}", "finished", now + i, now + i + 1, "bench", "", "active"))
            rows["latest_metrics"] += [(rid, f"m{k}", rng.random(), False, 0, now) for k in range(n_metrics)]
            rows["params"] += [(rid, f"p{k}", f"v{rng.randrange(4)}") for k in range(n_params)]
        raw = engine.raw_connection()  # bulk: the driver's fastest path (COPY on PostgreSQL)
        try:
            cur = raw.cursor()
            for table, names in cols.items():
                quoted = ", ".join(f'"{c}"' for c in names)
                if engine.dialect.name == "postgresql":
                    with cur.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                        for row in rows[table]:
                            copy.write_row(row)
                else:
                    cur.execute("PRAGMA synchronous = OFF")  # loading only; the timed reads come after
                    marks = ", ".join("?" * len(names))
                    cur.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", rows[table])
            raw.commit()
        finally:
            raw.close()
    with engine.begin() as conn:
        if sqlite:
            conn.exec_driver_sql("CREATE INDEX ix_latest_metrics_key_value ON latest_metrics (key, value)")
        conn.exec_driver_sql("ANALYZE")
    return services, exp_id, time.perf_counter() - t0


def _median(fn: Any, repeat: int) -> tuple[float, float, Any]:  # Any: a callable and its result
    """Median wall time, median CPU time (user+sys of this process: all of SQLite's work, but
    not the PostgreSQL server's) and the last result, after one warm-up call."""
    fn()  # warm-up (caches, prepared statements)
    times, cpus, result = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(times), statistics.median(cpus), result


def steward_half(label: str, settings: Any, runs: int, n_metrics: int, n_params: int, repeat: int) -> dict[str, Any]:  # Any: Settings
    from fastapi.testclient import TestClient

    from steward.server import create_app

    services, exp_id, load_s = _load_steward(settings, runs, n_metrics, n_params)
    try:
        app = create_app(settings, services)
        client = TestClient(app)
        tracking = services.tracking("bench")
        out: dict[str, Any] = {"store": label, "runs": runs, "load_s": load_s}
        pages = {
            "runs_page": f"/experiments/{exp_id}",
            "filtered_sorted": f"/experiments/{exp_id}?" + urllib.parse.urlencode({"filter": FILTER, "order": ORDER}),
        }
        for name, url in pages.items():

            def get(url: str = url) -> httpx.Response:
                resp: httpx.Response = client.get(url)
                assert resp.status_code == 200 and 'id="filter-error"' not in resp.text, resp.text[:2000]
                return resp

            seconds, cpu, resp = _median(get, repeat)
            out[f"{name}_s"] = seconds
            out[f"{name}_cpu_s"] = cpu
            out[f"{name}_rows"] = resp.text.count('<td><a href="/runs/')
        searches = {
            "runs_page": {"filter": None, "order_by": None},
            "filtered_sorted": {"filter": FILTER, "order_by": [ORDER]},
        }
        for name, q in searches.items():
            seconds, cpu, _page = _median(lambda q=q: tracking.search_runs([exp_id], max_results=50, **q), repeat)
            out[f"{name}_query_s"] = seconds
            out[f"{name}_query_cpu_s"] = cpu
        return out
    finally:
        services.close()


def mlflow_half(work: Path, runs: int, n_metrics: int, n_params: int, repeat: int) -> dict[str, Any] | None:
    python = HERE / ".venv-mlflow" / "bin" / "python"
    if not python.exists():
        subprocess.run(["bash", str(HERE / "mlflow_env.sh")], check=True)
    out_file = work / "mlflow.json"
    subprocess.run(
        [str(python), str(HERE / "_ui_mlflow.py"), "--workdir", str(work / "mlflow"), "--runs", str(runs),
         "--metrics", str(n_metrics), "--params", str(n_params), "--repeat", str(repeat), "--json-out", str(out_file)],
        check=True, stdout=subprocess.DEVNULL,
    )
    result: dict[str, Any] = json.loads(out_file.read_text())
    return result


def _pg_settings(work: Path) -> tuple[Any, Any] | None:  # Any: Settings, a cleanup callable
    import sqlalchemy as sa

    from steward.settings import Settings

    try:
        admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        schema = f"ui_bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any driver error: PostgreSQL is not there
        print(f"PostgreSQL not reachable ({type(exc).__name__}): skipped", file=sys.stderr)
        return None
    sep = "&" if "?" in PG_BASE else "?"
    url = f"{PG_BASE}{sep}options=-csearch_path%3D{schema}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    settings = Settings(home=work / "pg-home", database_url=url, artifact_root=str(work / "pg-art"), user="bench", capture_git=False, auth="off")
    return settings, drop


def main() -> None:
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--metrics", type=int, default=50)
    ap.add_argument("--params", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--skip-mlflow", action="store_true")
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    from steward.settings import Settings

    results: dict[str, Any] = {"uptime": os.getloadavg(), "runs": args.runs, "metrics": args.metrics, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    with tempfile.TemporaryDirectory(prefix="ui-bench-") as tmp:
        work = Path(tmp)
        if not args.skip_sqlite:
            sqlite = Settings(home=work / "home", user="bench", capture_git=False, auth="off")
            results["steward_sqlite"] = steward_half("sqlite", sqlite, args.runs, args.metrics, args.params, args.repeat)
            print(json.dumps(results["steward_sqlite"]), flush=True)
        if not args.skip_postgres:
            pg = _pg_settings(work)
            if pg is not None:
                try:
                    results["steward_postgresql"] = steward_half("postgresql", pg[0], args.runs, args.metrics, args.params, args.repeat)
                    print(json.dumps(results["steward_postgresql"]), flush=True)
                finally:
                    pg[1]()
        if not args.skip_mlflow:
            results["mlflow_sqlite"] = mlflow_half(work, args.runs, args.metrics, args.params, args.repeat)
            print(json.dumps(results["mlflow_sqlite"]), flush=True)
    report(results)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))


def report(results: dict[str, Any]) -> None:
    ml = results.get("mlflow_sqlite") or {}
    print(f"\n{results.get('date', '')}: {results['runs']:,} runs x {results['metrics']} metrics; load average {results['uptime'][0]:.2f} at start, {os.getloadavg()[0]:.2f} at the end")
    print("medians; CPU = user+sys of the benchmark process (the PostgreSQL server's CPU is not in it)")
    print(f"{'':28}{'page (ms)':>10}{'CPU':>7}{'query (ms)':>12}{'CPU':>7}{'MLflow search_runs (ms)':>25}{'CPU':>7}{'MLflow/page':>13}")
    for store in ("steward_sqlite", "steward_postgresql"):
        st = results.get(store)
        if not st:
            continue
        for name in ("runs_page", "filtered_sorted"):
            page, query, peer = st[f"{name}_s"], st[f"{name}_query_s"], ml.get(f"{name}_s")
            cpu, query_cpu, peer_cpu = st.get(f"{name}_cpu_s", 0.0), st.get(f"{name}_query_cpu_s", 0.0), ml.get(f"{name}_cpu_s") or 0.0
            ratio = f"{peer / page:11.1f}x" if peer else "-"
            met = "met" if page < TARGET_S else "MISSED"
            print(
                f"{store[8:] + ' ' + name:28}{page * 1000:10.1f}{cpu * 1000:7.0f}{query * 1000:12.1f}{query_cpu * 1000:7.0f}"
                f"{(peer or 0) * 1000:25.1f}{peer_cpu * 1000:7.0f}{ratio:>13}  {met}"
            )


if __name__ == "__main__":
    main()
