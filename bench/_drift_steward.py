"""Child process of bench/drift.py: Steward's drift report on two Parquet files.

Prints one JSON line: seconds (read + summaries + statistics), peak RSS of this process
and the flagged columns. Usage: ``python _drift_steward.py REF CUR SENSITIVITY``.
"""

from __future__ import annotations

import json
import sys
import time

from steward.monitoring import report


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux keeps that across exec, so a
    child would report the high-water mark of the parent it was forked from."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


reference, current, sensitivity = sys.argv[1:4]
# per-column only unless asked: Evidently's DataDriftPreset trains no domain classifier, so the
# side-by-side compares like with like; the multivariate run is a row of its own
multivariate = sys.argv[4:5] == ["multivariate"]
start = time.perf_counter()
result = report(reference, current, sensitivity=sensitivity, multivariate=multivariate)
seconds = time.perf_counter() - start
mv = result.multivariate
print(
    json.dumps(
        {
            "seconds": seconds,
            "peak_rss_mb": peak_rss_mb(),
            "flagged": result.drifted,
            "columns": len(result.columns),
            "multivariate": None if mv is None else {
                "roc_auc": mv.roc_auc, "threshold": mv.threshold, "drifted": mv.drifted,
                "top_features": [c for c, _ in mv.top_features],
            },
            # effect size / threshold per compared column: how clear each verdict is
            "margins": {
                c.column: c.effect_size / c.threshold
                for c in result.columns
                if c.effect_size is not None and c.threshold
            },
        }
    )
)
