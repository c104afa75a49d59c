"""kill -9 of a process while it logs: every indexed segment stays readable and the loss is
at most the open segment (plus what was still queued, which the writer keeps near empty)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from steward.adapters.artifacts import ContentAddressedStore
from steward.adapters.artifacts._segment_files import PrefixFiles
from steward.adapters.sql import SqlStore
from steward.predictions._segments import decode_segment
from steward.settings import Settings
from steward.wiring import Services

MAX_ROWS = 200

_CHILD = textwrap.dedent(
    """
    import sys, time
    from steward.core.predictions import PredictionBatch
    from steward.settings import Settings
    from steward.wiring import build_services

    log = build_services(Settings()).prediction_log()
    i = 0
    while True:
        log.append(PredictionBatch(f"req-{i:08d}", "fraud-api", "fraud", 1, "primary",
                                   {"amount": [float(i)]}, [i % 2], 1.0, int(time.time() * 1000)))
        i += 1
        if i % 10 == 0:
            print(i, flush=True)  # at least this many appended
        time.sleep(0.0005)
    """
)


def test_kill_9_while_logging_leaves_readable_segments_and_loses_at_most_one(tmp_path: Path, store_url: str) -> None:
    env = {
        **os.environ,
        "STEWARD_HOME": str(tmp_path / "home"),
        "STEWARD_DATABASE_URL": store_url,
        "STEWARD_ARTIFACT_ROOT": str(tmp_path / "artifacts"),
        "STEWARD_PREDICTION_SEGMENT_MAX_ROWS": str(MAX_ROWS),
        "STEWARD_PREDICTION_SEGMENT_MAX_SECONDS": "3600",
    }
    SqlStore(store_url).close()  # migrated before the child starts
    child = subprocess.Popen([sys.executable, "-c", _CHILD], env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    appended = 0
    deadline = time.monotonic() + 60
    while appended < 5 * MAX_ROWS + 137 and time.monotonic() < deadline:  # mid-segment, several segments in
        line = child.stdout.readline()
        if not line:
            break
        appended = int(line)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert appended >= 5 * MAX_ROWS, "the child did not log"

    # what a crash mid-write could leave: a temporary file and a segment no index row names
    day = tmp_path / "artifacts" / "predictions" / "fraud-api" / "2000-01-01"
    day.mkdir(parents=True)
    (day / ".tmp-abc.part").write_bytes(b"PAR1 half")
    (day / "0000000000000-deadbeef.parquet").write_bytes(b"PAR1 not a whole file")

    settings = Settings(home=tmp_path / "home", database_url=store_url, artifact_root=str(tmp_path / "artifacts"))
    services = Services(settings, SqlStore(store_url), ContentAddressedStore(str(tmp_path / "artifacts")))
    try:
        segments = services.predictions().list_segments("fraud-api")
        files = PrefixFiles.beside(services.blobs)
        for segment in segments:  # every indexed segment is whole
            assert decode_segment(files.read_bytes(segment.path)).num_rows == segment.rows == MAX_ROWS
        ids = services.predictions().read("fraud-api").column("request_id").to_pylist()
    finally:
        services.close()
    logged = len(ids)
    assert ids == [f"req-{i:08d}" for i in range(logged)]  # a prefix: no hole before the lost tail
    # the child appended between `appended` and `appended + 10` rows (+ the few in flight at the kill)
    lost = appended + 10 - logged
    assert 0 < lost <= MAX_ROWS + 10
    print(f"\nkill -9 after >= {appended} appended rows: {logged} readable in {len(segments)} segments, at most {lost} lost")
