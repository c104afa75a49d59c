"""A materialisation SIGKILLed half-way leaves every entity row old or new, never a mix; a
re-run completes it. On the SQLite file and on the real Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from features_testing import embedded, features, stats_view

from steward.features import entity_key

T0 = datetime(2026, 1, 1)

SCRIPT = """
import sys
from steward.settings import Settings
from steward.wiring import build_services
settings = Settings(home=sys.argv[1], artifact_root=sys.argv[1] + "/artifacts", user="tester", capture_git=False,
                    auth="off", online_store=sys.argv[3] or None)
services = build_services(settings)
print("start", flush=True)
services.features("tester").materialize([sys.argv[2]], end_ms=4_000_000_000_000)
"""


def source(path: Path, day: int, value: int, n: int) -> None:
    pd.DataFrame({
        "customer_id": range(n), "ts": [T0 + timedelta(days=day)] * n, "txn_count": [value] * n, "amount": [value * 10] * n,
    }).to_parquet(path, index=False)


# Redis writes 1,000 keys per script: 50,000 entities are 50 scripts to be killed among
@pytest.mark.parametrize(("backend", "N"), [("sqlite", 200_000), ("redis", 50_000)])
def test_a_killed_materialisation_leaves_each_row_old_or_new(tmp_path: Path, backend: str, N: int) -> None:
    url = "redis://127.0.0.1:6379/9" if backend == "redis" else ""
    name = f"k{uuid.uuid4().hex[:8]}"
    path = tmp_path / "s.parquet"
    source(path, 1, 1, N)
    overrides = {"online_store": url} if url else {}
    with embedded(tmp_path, **overrides) as services:
        svc = features(services)
        svc.apply([stats_view(path, name=name, ttl=None, features=("txn_count", "amount"))])
        svc.materialize([name], end_ms=4_000_000_000_000)
    source(path, 2, 2, N)  # the new values: a different event time and both features changed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / "home"), name, url], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "start"
        with embedded(tmp_path, **overrides) as services:
            store = services.online_store()
            keys = [(name, entity_key([i])) for i in range(N)]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # kill once some rows (not all) are new
                sample = store.read(keys[:: N // 200])
                new = sum(1 for r in sample if r is not None and r.values["txn_count"] == 2)
                if new:
                    break
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            rows = store.read(keys)
            states = {(r.event_ms, r.values["txn_count"], r.values["amount"]) for r in rows if r is not None}
            assert all(r is not None for r in rows)
            old = (int((T0 + timedelta(days=1) - datetime(1970, 1, 1)).total_seconds() * 1000), 1, 10)
            fresh = (old[0] + 86_400_000, 2, 20)
            assert states <= {old, fresh}, states  # never a mix within one entity row
            # a re-run completes it
            done = features(services).materialize([name], end_ms=4_000_000_000_000)
            assert done[0].entities == N
            assert {(r.event_ms, r.values["txn_count"]) for r in store.read(keys) if r is not None} == {fresh[:2]}
            if hasattr(store, "delete_prefix"):
                store.delete_prefix()
    finally:
        if proc.poll() is None:
            proc.kill()
