"""Feature store: point-in-time retrieval, materialisation and online lookup.

Seeded data: ``--views`` feature views, each a Parquet file of ``--source-rows`` rows (3 float
features, ``--customers`` customers, event times spread over 60 days, 30-day TTL), and an
entity frame of ``--rows`` rows (customer, timestamp). Each measurement runs in a process
of its own and reports its wall-clock seconds and peak RSS (VmHWM):

- ``steward``: ``FeatureService.historical`` (DuckDB, out of core) written to Parquet;
- ``pandas``: the naive baseline, one ``pandas.merge_asof`` per view (sorted by time, then
  back in entity order), TTL as ``tolerance``;
- ``materialize``: the latest value of every customer of one view into the online store
  (SQLite file; ``--redis URL`` adds Redis);
- ``online``: lookup latency of all views' features for 1 and 100 entities, p50 and p99.

- ``feast`` (``--feast``): Feast 0.67 in ``bench/.venv-feast`` (``bash bench/feast_env.sh``),
  its default local provider (file offline store, SQLite online store), on the same files:
  ``get_historical_features`` and, unless ``--history-only``, ``materialize`` and
  ``get_online_features`` (``bench/_features_feast.py``).

Rows kept and whether Steward and pandas agree value for value are reported too. With
``--rounds N`` the historical retrievals run N times in turn (Steward, pandas, Feast) and the
medians, per-round ratios and the load average are reported; ``cpu_s`` is each process's
user + system CPU time, steadier than wall time on a loaded machine.

    python bench/features.py [--rows 100000] [--views 10] [--source-rows 100000] [--rounds 3] [--feast] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
T0 = 1_767_225_600_000  # 2026-01-01 in ms
DAY_MS = 86_400_000


def _seed(root: Path, rows: int, views: int, source_rows: int, customers: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    for v in range(views):
        ts = T0 + rng.integers(0, 60 * DAY_MS, source_rows)
        table = pa.table({
            "customer_id": rng.integers(0, customers, source_rows),
            "ts": pa.array(ts.astype("datetime64[ms]")),
            **{f"v{v}_f{j}": rng.normal(size=source_rows) for j in range(3)},
        })
        pq.write_table(table, root / f"view{v}.parquet")
    ts = T0 + rng.integers(0, 90 * DAY_MS, rows)
    pq.write_table(pa.table({
        "customer_id": rng.integers(0, customers, rows), "event_timestamp": pa.array(ts.astype("datetime64[ms]")),
    }), root / "entities.parquet")


def _definitions(root: Path, views: int) -> list[object]:
    from steward.features import Entity, Feature, FeatureSource, FeatureView

    customer = Entity("customer", ("customer_id",))
    return [
        FeatureView(f"view{v}", entities=(customer,), ttl="30d", features=tuple(Feature(f"v{v}_f{j}", "float64") for j in range(3)),
                    source=FeatureSource("parquet", str(root / f"view{v}.parquet"), event_time="ts"))
        for v in range(views)
    ]


def _refs(views: int) -> list[str]:
    return [f"view{v}:v{v}_f{j}" for v in range(views) for j in range(3)]


def _services(root: Path, online: str | None, home: str = "home") -> object:
    from steward.settings import Settings
    from steward.wiring import build_services

    return build_services(Settings(home=root / home, user="bench", capture_git=False, auth="off", online_store=online))


def worker(kind: str, root: Path, views: int, online: str | None, home: str = "home") -> dict[str, object]:
    started = time.perf_counter()
    out: dict[str, object] = {}
    if kind == "steward":
        services = _services(root, None)
        svc = services.features("bench")  # type: ignore[attr-defined]
        svc.apply(_definitions(root, views))
        started, cpu_started = time.perf_counter(), time.process_time()  # the retrieval alone (every thread's CPU)
        result = svc.historical(root / "entities.parquet", _refs(views), output=root / "steward.parquet")
        out["retrieval_cpu_s"] = time.process_time() - cpu_started
        out["rows"] = result.num_rows
        services.close()  # type: ignore[attr-defined]
    elif kind == "pandas":
        import pandas as pd

        frame = pd.read_parquet(root / "entities.parquet")
        frame["__row"] = range(len(frame))
        frame = frame.sort_values("event_timestamp", kind="stable")
        for v in range(views):
            source = pd.read_parquet(root / f"view{v}.parquet").sort_values("ts", kind="stable")
            frame = pd.merge_asof(frame, source, left_on="event_timestamp", right_on="ts", by="customer_id",
                                  direction="backward", tolerance=pd.Timedelta(days=30)).drop(columns=["ts"])
        frame = frame.sort_values("__row").drop(columns=["__row"])
        frame.to_parquet(root / "pandas.parquet", index=False)
        out["rows"] = len(frame)
    elif kind == "materialize":
        services = _services(root, online, home)
        svc = services.features("bench")  # type: ignore[attr-defined]
        svc.apply(_definitions(root, views))
        started, cpu_started = time.perf_counter(), time.process_time()
        done = svc.materialize(end_ms=T0 + 90 * DAY_MS)
        out["entities"] = sum(r.entities for r in done)
        out["seconds"] = time.perf_counter() - started
        out["materialize_cpu_s"] = time.process_time() - cpu_started
        # the values are of early 2026: looked up today they are past the 30-day TTL ("expired",
        # nulls: the figures before 2026-12-03 14:00); looked up by a service whose clock stands
        # at the data's end they are fresh, 30 values per entity (what a serving process sees)
        from steward.features import FeatureService, ViewCache

        at_end = FeatureService(svc.registry, services.online_store, svc.sources, "bench",  # type: ignore[attr-defined]
                                clock=lambda: (T0 + 90 * DAY_MS) / 1000, view_cache=ViewCache())
        for label, service in (("online", svc), ("online_fresh", at_end)):
            lookups: dict[str, object] = {}
            for n in (1, 100):
                times, cpu = [], []
                for i in range(300):
                    rows = [{"customer_id": (i * 100 + k) % 1000} for k in range(n)]
                    t, c = time.perf_counter(), time.process_time()
                    service.online(rows, _refs(views))
                    cpu.append(time.process_time() - c)
                    times.append(time.perf_counter() - t)
                times.sort()
                cpu.sort()
                # CPU time of the lookup too: on a loaded machine wall time mostly measures the wait for a core
                lookups[f"{n}"] = {
                    "p50_ms": 1000 * times[len(times) // 2], "p99_ms": 1000 * times[int(len(times) * 0.99)],
                    "cpu_p50_ms": 1000 * cpu[len(cpu) // 2], "cpu_p99_ms": 1000 * cpu[int(len(cpu) * 0.99)],
                }
            out[label] = lookups
        store = services.online_store()  # type: ignore[attr-defined]
        if hasattr(store, "delete_prefix"):
            store.delete_prefix()
        services.close()  # type: ignore[attr-defined]
    out.setdefault("seconds", time.perf_counter() - started)
    out["peak_mb"] = _peak_mb()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = usage.ru_utime + usage.ru_stime
    return out


def _peak_mb() -> float:
    """VmHWM of this process: ``ru_maxrss`` survives exec on Linux, so a worker would report
    the high-water mark of the benchmark process it was started from."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(kind: str, root: Path, views: int, online: str | None = None, home: str = "home") -> dict[str, object]:
    args = [sys.executable, __file__, "--worker", kind, "--root", str(root), "--views", str(views), "--home", home]
    if online:
        args += ["--online", online]
    done = subprocess.run(args, capture_output=True, text=True, check=False, env={**os.environ})
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


FEAST_PYTHON = HERE / ".venv-feast" / "bin" / "python"


def _run_feast(kind: str, root: Path, views: int) -> dict[str, object]:
    done = subprocess.run([str(FEAST_PYTHON), str(HERE / "_features_feast.py"), kind, str(root), str(views)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _num(value: object) -> float:
    return float(value) if isinstance(value, (int, float, str)) else 0.0


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _agree(root: Path) -> dict[str, object]:
    import numpy as np
    import pandas as pd

    ours, base = pd.read_parquet(root / "steward.parquet"), pd.read_parquet(root / "pandas.parquet")
    cols = [c for c in ours.columns if c.startswith("v")]
    a, b = ours[cols].to_numpy(), base[cols].to_numpy()
    same = bool(np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(np.nan_to_num(a), np.nan_to_num(b)))
    return {"values_equal": same, "rows_with_a_null": int(np.isnan(a).any(axis=1).sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--views", type=int, default=10)
    parser.add_argument("--source-rows", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--redis", default=None, help="also materialise into and look up from this Redis URL")
    parser.add_argument("--history-only", action="store_true", help="skip materialisation and online lookups")
    parser.add_argument("--online-only", action="store_true", help="skip the historical retrievals")
    parser.add_argument("--rounds", type=int, default=1, help="historical retrievals run this many times in turn")
    parser.add_argument("--feast", action="store_true", help="run Feast beside (bench/.venv-feast)")
    parser.add_argument("--feast-materialize-views", type=int, default=None,
                        help="Feast materialises only this many views (its full run takes many minutes); Steward does too, beside")
    parser.add_argument("--json-out", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--root", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--online", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--home", default="home", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.root), args.views, args.online, args.home)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-features-") as tmp:
        root = Path(tmp)
        _seed(root, args.rows, args.views, args.source_rows, args.customers)
        report: dict[str, object] = {
            "rows": args.rows, "views": args.views, "source_rows": args.source_rows, "customers": args.customers,
            "load_before": os.getloadavg(),
        }
        feast = args.feast and FEAST_PYTHON.exists()
        if args.feast and not feast:
            print("bench/.venv-feast missing (bash bench/feast_env.sh): Feast not run", file=sys.stderr)
        rounds: list[dict[str, dict[str, object]]] = []
        for _ in range(0 if args.online_only else args.rounds):
            one = {"steward": _run("steward", root, args.views), "pandas": _run("pandas", root, args.views)}
            if feast:
                one["feast"] = _run_feast("historical", root, args.views)
            rounds.append(one)
        report["rounds"] = rounds
        for name in ("steward", "pandas", "feast"):
            runs = [r[name] for r in rounds if name in r and "seconds" in r[name]]
            if runs:
                report[name] = {
                    "median_s": _median([_num(r["seconds"]) for r in runs]),
                    "median_cpu_s": _median([_num(r.get("cpu_s", 0.0)) for r in runs]),
                    "median_retrieval_cpu_s": _median([_num(r.get("retrieval_cpu_s", r.get("cpu_s", 0.0))) for r in runs]),
                    "peak_mb": max(_num(r["peak_mb"]) for r in runs),
                    "rows": runs[0]["rows"],
                }
        for peer in ("pandas", "feast"):
            pairs = [(r["steward"], r[peer]) for r in rounds if peer in r and "seconds" in r[peer]]
            if pairs:
                report[f"{peer}_over_steward_per_round"] = [_num(b["seconds"]) / _num(a["seconds"]) for a, b in pairs]
        if rounds:
            report["agreement"] = _agree(root)
        if not args.history_only:
            report["materialize_sqlite"] = _run("materialize", root, args.views)
        if args.redis and not args.history_only:
            report["materialize_redis"] = _run("materialize", root, args.views, args.redis)
        if feast and not args.history_only:
            few = args.feast_materialize_views or args.views
            if few != args.views:  # the same smaller case for Steward, into a store of its own
                report[f"materialize_sqlite_{few}_views"] = _run("materialize", root, few, home=f"home{few}")
            report["feast_materialize"] = {"views": few, **_run_feast("materialize", root, few)}
        report["load_after"] = os.getloadavg()
    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")


if __name__ == "__main__":
    main()
