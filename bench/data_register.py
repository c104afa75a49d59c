"""Register a large Parquet file and report elapsed time and peak memory.

    python bench/data_register.py --gb 1        # about 1 GB of Parquet
    python bench/data_register.py               # 5 GB (the issue's figure)

The file is generated in a temporary folder (an id, 12 float columns with some nulls,
4 integer columns and 3 text columns of cardinality 10 to 10,000), written row group by
row group so that generating it does not need the memory we want to measure. The
registration then runs in a fresh process, so the peak RSS reported
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``) is the registration's own.
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

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROWS_PER_GROUP = 1_000_000


def _group(rng: np.random.Generator, start: int) -> pa.Table:
    n = ROWS_PER_GROUP
    cols: dict[str, pa.Array] = {"id": pa.array(np.arange(start, start + n))}
    for i in range(12):
        x = rng.normal(i, 1 + i, n)
        cols[f"f{i}"] = pa.array(x, mask=rng.random(n) < 0.02)
    for i in range(4):
        cols[f"i{i}"] = pa.array(rng.integers(0, 10 ** (i + 2), n))
    for i, card in enumerate((10, 1000, 10_000)):
        words = np.array([f"cat_{i}_{k}" for k in range(card)])
        cols[f"c{i}"] = pa.array(words[rng.integers(0, card, n)])
    return pa.table(cols)


def generate(path: str, gb: float) -> tuple[int, int]:
    rng = np.random.default_rng(0)
    rows = 0
    with pq.ParquetWriter(path, _group(rng, 0).schema, compression="snappy") as writer:
        while True:
            writer.write_table(_group(rng, rows))
            rows += ROWS_PER_GROUP
            if os.path.getsize(path) >= gb * 1e9:
                break
    return rows, os.path.getsize(path)


_CHILD = """
import json, sys, time
from steward.settings import Settings
from steward.wiring import build_services
services = build_services(Settings(home=sys.argv[1], user="bench"))
start = time.perf_counter()
v = services.data().register("bench", sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - start, "ref": v.ref, "hash": v.short_hash,
                  "rows": v.num_rows, "sampled": v.profile["sampled"], "streamed": v.profile.get("streamed")}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=5.0, help="size of the generated Parquet file in GB")
    parser.add_argument("--dir", default=None, help="where to put the temporary file and store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="steward-bench-", dir=args.dir) as tmp:
        path = os.path.join(tmp, "big.parquet")
        t0 = time.perf_counter()
        rows, size = generate(path, args.gb)
        print(f"generated {size / 1e9:.2f} GB, {rows:,} rows x 20 columns in {time.perf_counter() - t0:.0f} s")
        in_memory = pq.read_metadata(path).row_group(0).total_byte_size * pq.read_metadata(path).num_row_groups
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _CHILD, os.path.join(tmp, "home"), path], capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if out.returncode != 0:
            sys.exit(out.stderr[-3000:])
        result = json.loads(out.stdout.strip().splitlines()[-1])
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"registered {result['ref']} ({result['hash']}): {result['rows']:,} rows; "
            f"register {result['seconds']:.1f} s (process {wall:.1f} s); peak RSS {peak_mb:,.0f} MB; "
            f"data uncompressed about {in_memory / 1e9:.1f} GB; profile sampled: {result['sampled']}, "
            f"streamed: {result['streamed']}"
        )


if __name__ == "__main__":
    main()
