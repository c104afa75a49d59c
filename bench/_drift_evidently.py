"""Child process of bench/drift.py, run in bench/.venv-evidently: Evidently's DataDriftPreset.

Reads both Parquet files with pandas (as Evidently's docs do), runs the preset with its
defaults and prints one JSON line: seconds (read + report), peak RSS and the columns whose
ValueDrift crosses its threshold (p-value methods: below it; distances: at or above it).
"""

from __future__ import annotations

import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux keeps that across exec, so a
    child would report the high-water mark of the parent it was forked from."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


reference, current = sys.argv[1:3]
start = time.perf_counter()
ref = pd.read_parquet(reference)
cur = pd.read_parquet(current)
snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
seconds = time.perf_counter() - start
flagged = []
for metric in snapshot.dict()["metrics"]:
    config = metric["config"]
    if not config["type"].endswith("ValueDrift"):
        continue
    value, threshold = float(metric["value"]), float(config["threshold"])
    p_value_method = "p_value" in config["method"]
    if (value < threshold) if p_value_method else (value >= threshold):
        flagged.append(config["column"])
print(
    json.dumps(
        {
            "seconds": seconds,
            "peak_rss_mb": peak_rss_mb(),
            "flagged": flagged,
        }
    )
)
