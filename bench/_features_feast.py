"""Child process of bench/features.py, run in bench/.venv-feast: Feast with its default local
provider (file offline store, SQLite online store) on the same seeded Parquet files.

    python bench/_features_feast.py historical|materialize ROOT VIEWS
Prints one JSON line: seconds, peak_mb (VmHWM) and what was returned.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    kind, root, views = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    import pandas as pd
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, RepoConfig
    from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig
    from feast.types import Float64

    repo = root / "feast"
    repo.mkdir(exist_ok=True)
    config = RepoConfig(
        project="bench", provider="local", registry=str(repo / "registry.db"),
        online_store=SqliteOnlineStoreConfig(path=str(repo / "online.db")), entity_key_serialization_version=3,
    )
    store = FeatureStore(config=config)
    customer = Entity(name="customer", join_keys=["customer_id"])
    fviews = [
        FeatureView(
            name=f"view{v}", entities=[customer], ttl=timedelta(days=30),
            schema=[Field(name=f"v{v}_f{j}", dtype=Float64) for j in range(3)],
            source=FileSource(path=str(root / f"view{v}.parquet"), timestamp_field="ts"),
        )
        for v in range(views)
    ]
    store.apply([customer, *fviews])
    refs = [f"view{v}:v{v}_f{j}" for v in range(views) for j in range(3)]
    out: dict[str, object] = {}
    if kind == "historical":
        entities = pd.read_parquet(root / "entities.parquet")
        started, cpu_started = time.perf_counter(), time.process_time()
        frame = store.get_historical_features(entity_df=entities, features=refs).to_df()
        out["seconds"] = time.perf_counter() - started
        out["retrieval_cpu_s"] = time.process_time() - cpu_started
        out["rows"] = len(frame)
    else:
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        started, cpu_started = time.perf_counter(), time.process_time()
        store.materialize(start_date=t0 - timedelta(days=1), end_date=t0 + timedelta(days=90))
        out["seconds"] = time.perf_counter() - started
        out["materialize_cpu_s"] = time.process_time() - cpu_started
        lookups: dict[str, object] = {}
        for n in (1, 100):
            times = []
            for i in range(300):
                rows = [{"customer_id": (i * 100 + k) % 1000} for k in range(n)]
                t = time.perf_counter()
                store.get_online_features(features=refs, entity_rows=rows).to_dict()
                times.append(time.perf_counter() - t)
            times.sort()
            lookups[f"{n}"] = {"p50_ms": 1000 * times[len(times) // 2], "p99_ms": 1000 * times[int(len(times) * 0.99)]}
        out["online"] = lookups
    out["peak_mb"] = _peak_mb()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = usage.ru_utime + usage.ru_stime
    print(json.dumps(out))


if __name__ == "__main__":
    main()
