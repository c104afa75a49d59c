"""Dataset profile speed: Steward's ``profile`` beside its floor, in one run.

Data: 1,000,000 rows x 26 columns (an int id, 20 floats with 5% nulls, 5 strings of
cardinality 3, 10, 50, 200 and 1,000), in memory. The floor is one polars ``select`` of the
cheapest per-column aggregates (null count, distinct count); a profile computes those and
more (moments, quantiles, histograms, top values). The target (issue 3): under a second.
Medians of ``--repeat`` runs after one warm-up; these machines are shared, so read the ratio.

Usage: ``.venv/bin/python bench/profile.py [--rows 1000000] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import polars as pl

from steward.data import profile


def frame(n: int) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    data: dict[str, object] = {"id": np.arange(n)}
    for i in range(20):
        x = rng.normal(size=n)
        x[rng.random(n) < 0.05] = np.nan
        data[f"n{i}"] = x
    for i, card in enumerate((3, 10, 50, 200, 1000)):
        data[f"c{i}"] = rng.integers(0, card, n).astype(str)
    return pl.DataFrame(data).with_columns(pl.col(pl.Float64).fill_nan(None))


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    work()  # warm polars' thread pool, as a long-lived process would be
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    df = frame(args.rows)
    ours = median_seconds(lambda: profile(df), args.repeat)
    cheapest = [e for c in df.columns for e in (pl.col(c).null_count().alias(c + "_n"), pl.col(c).n_unique().alias(c + "_u"))]
    floor = median_seconds(lambda: df.select(cheapest), args.repeat)
    print(f"profile of {args.rows:,} rows x {df.width} columns: {ours:.3f} s (median of {args.repeat}; target < 1 s)")
    print(f"floor (null and distinct counts only): {floor:.3f} s; profile / floor = {ours / floor:.2f}x")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
