"""Validation speed: Steward vs the plain-polars floor, pandera on polars and Great Expectations 1.x.

Data: 1,000,000 rows x 26 columns (an int id, 20 floats with ~1% nulls, 5 strings of
cardinality 3, 10, 50, 200 and 1,000), in memory. Suite: column presence, dtype,
nullability and maximum null share, numeric ranges, allowed sets, id uniqueness and
row-count bounds; the same checks in every library.

Every case runs in a fresh subprocess that loads the data, validates once to warm up and
then ``--repeat`` times; we report the median and the process's peak RSS
(``resource.getrusage``: tracemalloc cannot see polars' Rust allocations). Great
Expectations and pandera run in ``bench/.venv-peers`` (``bench/peers_env.sh``) so they
never pin Steward's dependencies. Finally a fresh ``steward data validate`` process is
timed end to end (imports, store, file read, validation, output).

Usage: ``.venv/bin/python bench/data.py [--rows 1000000] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"
NUMERIC = [f"x{i}" for i in range(20)]
CARDINALITIES = [3, 10, 50, 200, 1000]
CATEGORICAL = [f"cat{i}" for i in range(5)]
NULL_SHARE = 0.01
MAX_NULL_SHARE = 0.05


def categories(k: int) -> list[str]:
    return [f"v{k}_{j}" for j in range(k)]


def make_data(rows: int, path: Path) -> None:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(42)
    cols: dict[str, Any] = {"id": np.arange(rows, dtype=np.int64)}
    for name in NUMERIC:
        values = rng.normal(50.0, 10.0, rows).clip(0.0, 100.0)
        cols[name] = pl.Series(name, values).scatter(rng.choice(rows, int(rows * NULL_SHARE), replace=False), None)
    for name, k in zip(CATEGORICAL, CARDINALITIES, strict=True):
        cols[name] = np.asarray(categories(k), dtype=object)[rng.integers(0, k, rows)]
    pl.DataFrame(cols).write_parquet(path)


def suite_spec(rows: int) -> dict[str, Any]:
    """The one suite, as plain data every case translates."""
    return {
        "rows": (rows // 2, rows * 2),
        "id": {"type": "integer", "unique": True, "nullable": False},
        "numeric": {name: {"type": "float", "min": 0.0, "max": 100.0, "max_missing": MAX_NULL_SHARE} for name in NUMERIC},
        "categorical": {name: {"type": "string", "allowed": categories(k), "nullable": False} for name, k in zip(CATEGORICAL, CARDINALITIES, strict=True)},
    }


def steward_yaml(rows: int) -> str:
    import yaml

    spec = suite_spec(rows)
    columns: dict[str, Any] = {"id": spec["id"], **spec["numeric"], **spec["categorical"]}
    doc = {"name": "bench", "rows": {"min": spec["rows"][0], "max": spec["rows"][1]}, "columns": columns}
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=10_000)


# -- cases (each runs in its own process) ------------------------------------------------


def case_floor(path: Path, rows: int) -> Any:
    import polars as pl

    df = pl.read_parquet(path)
    spec = suite_spec(rows)
    cat_sets = {c: s["allowed"] for c, s in spec["categorical"].items()}

    def run() -> bool:
        exprs = [pl.len().alias("rows"), pl.col("id").n_unique().alias("id_u"), pl.col("id").null_count().alias("id_n")]
        for c in NUMERIC:
            exprs += [pl.col(c).null_count().alias(f"{c}_n"), pl.col(c).min().alias(f"{c}_min"), pl.col(c).max().alias(f"{c}_max")]
        for c, allowed in cat_sets.items():
            exprs += [pl.col(c).null_count().alias(f"{c}_n"), (~pl.col(c).is_in(allowed)).sum().alias(f"{c}_bad")]
        v = df.lazy().select(exprs).collect().row(0, named=True)
        n = v["rows"]
        ok = spec["rows"][0] <= n <= spec["rows"][1] and v["id_u"] == n and v["id_n"] == 0
        ok &= all(c in df.schema for c in ["id", *NUMERIC, *CATEGORICAL])
        ok &= df.schema["id"] == pl.Int64 and all(df.schema[c] == pl.Float64 for c in NUMERIC)
        ok &= all(df.schema[c] == pl.String for c in CATEGORICAL)
        for c in NUMERIC:
            ok &= v[f"{c}_n"] / n <= MAX_NULL_SHARE and 0.0 <= v[f"{c}_min"] and v[f"{c}_max"] <= 100.0
        for c in CATEGORICAL:
            ok &= v[f"{c}_n"] == 0 and v[f"{c}_bad"] == 0
        return bool(ok)

    return df, run


def case_steward(path: Path, rows: int) -> Any:
    import polars as pl

    from steward.data import parse_suite, validate

    df = pl.read_parquet(path)
    suite = parse_suite(steward_yaml(rows))

    def run() -> bool:
        return validate(df, suite).passed

    return df, run


def case_pandera(path: Path, rows: int) -> Any:
    import pandera.polars as pa
    import polars as pl

    df = pl.read_parquet(path)
    spec = suite_spec(rows)

    def null_share_ok(c: str) -> Any:
        return pa.Check(lambda data: data.lazyframe.select(pl.col(c).null_count() / pl.len()).collect().item() <= MAX_NULL_SHARE, name=f"max_null_share_{c}")

    columns = {"id": pa.Column(pl.Int64, unique=True, nullable=False)}
    for c, s in spec["numeric"].items():
        columns[c] = pa.Column(pl.Float64, checks=[pa.Check.in_range(s["min"], s["max"])], nullable=True)
    for c, s in spec["categorical"].items():
        columns[c] = pa.Column(pl.String, checks=[pa.Check.isin(s["allowed"])], nullable=False)
    lo, hi = spec["rows"]
    table_checks = [pa.Check(lambda data: lo <= data.lazyframe.select(pl.len()).collect().item() <= hi, name="row_count")]
    table_checks += [null_share_ok(c) for c in NUMERIC]
    schema = pa.DataFrameSchema(columns, checks=table_checks)

    def run() -> bool:
        try:
            schema.validate(df, lazy=True)
            return True
        except pa.errors.SchemaErrors:
            return False

    return df, run


def case_ge(path: Path, rows: int) -> Any:
    import great_expectations as gx
    import pandas as pd

    df = pd.read_parquet(path)
    spec = suite_spec(rows)
    context = gx.get_context(mode="ephemeral")
    batch_def = context.data_sources.add_pandas("p").add_dataframe_asset("a").add_batch_definition_whole_dataframe("b")
    suite = context.suites.add(gx.ExpectationSuite(name="bench"))
    E = gx.expectations
    suite.add_expectation(E.ExpectTableRowCountToBeBetween(min_value=spec["rows"][0], max_value=spec["rows"][1]))
    suite.add_expectation(E.ExpectColumnToExist(column="id"))
    suite.add_expectation(E.ExpectColumnValuesToBeOfType(column="id", type_="int64"))
    suite.add_expectation(E.ExpectColumnValuesToNotBeNull(column="id"))
    suite.add_expectation(E.ExpectColumnValuesToBeUnique(column="id"))
    for c, s in spec["numeric"].items():
        suite.add_expectation(E.ExpectColumnToExist(column=c))
        suite.add_expectation(E.ExpectColumnValuesToBeOfType(column=c, type_="float64"))
        suite.add_expectation(E.ExpectColumnValuesToNotBeNull(column=c, mostly=1 - MAX_NULL_SHARE))
        suite.add_expectation(E.ExpectColumnValuesToBeBetween(column=c, min_value=s["min"], max_value=s["max"]))
    for c, s in spec["categorical"].items():
        suite.add_expectation(E.ExpectColumnToExist(column=c))
        suite.add_expectation(E.ExpectColumnValuesToBeOfType(column=c, type_=str(df[c].dtype)))
        suite.add_expectation(E.ExpectColumnValuesToNotBeNull(column=c))
        suite.add_expectation(E.ExpectColumnValuesToBeInSet(column=c, value_set=s["allowed"]))

    def run() -> bool:
        batch = batch_def.get_batch(batch_parameters={"dataframe": df})
        return bool(batch.validate(suite).success)

    return df, run


CASES = {"floor": case_floor, "steward": case_steward, "pandera": case_pandera, "ge": case_ge}
PEER_CASES = {"pandera", "ge"}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_case(name: str, path: Path, rows: int, repeat: int) -> None:
    """Inside the subprocess: load, warm up, time; print one JSON line."""
    import warnings

    warnings.simplefilter("ignore")  # peers' deprecation chatter is not what we measure
    data, run = CASES[name](path, rows)
    loaded = rss_mb()
    passed = run()  # warm-up (and the verdict)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    print(json.dumps({"case": name, "median_s": statistics.median(times), "times": times, "passed": passed, "rss_loaded_mb": loaded, "peak_rss_mb": rss_mb()}))


def spawn(name: str, path: Path, rows: int, repeat: int) -> dict[str, Any] | None:
    python = str(PEERS_PYTHON) if name in PEER_CASES else sys.executable
    if name in PEER_CASES and not PEERS_PYTHON.exists():
        print(f"  {name}: skipped, run bench/peers_env.sh first", file=sys.stderr)
        return None
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")} if name not in PEER_CASES else dict(os.environ)
    proc = subprocess.run(
        [python, __file__, "--case", name, "--data", str(path), "--rows", str(rows), "--repeat", str(repeat)],
        capture_output=True, text=True, env=env, timeout=3600,
    )
    if proc.returncode != 0:
        print(f"  {name}: failed\n{proc.stderr[-3000:]}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def time_cli(path: Path, rows: int, tmp: Path, runs: int = 3) -> dict[str, float]:
    """A fresh ``steward data validate`` process, end to end (after one run creating the store)."""
    suite = tmp / "suite.yaml"
    suite.write_text(steward_yaml(rows))
    steward = Path(sys.executable).parent / "steward"
    env = {**os.environ, "STEWARD_HOME": str(tmp / "home"), "STEWARD_USER": "bench"}
    cmd = [str(steward), "data", "validate", str(path), "--suite", str(suite), "--out", str(tmp / "result.json")]
    subprocess.run(cmd, env=env, capture_output=True, check=False)  # creates and migrates the store
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            raise RuntimeError(proc.stderr[-2000:])
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import steward.cli"], env=env, check=True)
    imports = time.perf_counter() - start
    return {"median_s": statistics.median(times), "import_s": imports, "exit_code": float(proc.returncode)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--case", choices=sorted(CASES))
    parser.add_argument("--data", type=Path)
    parser.add_argument("--skip", nargs="*", default=[], help="cases to skip (e.g. ge)")
    args = parser.parse_args()
    if args.case:
        run_case(args.case, args.data, args.rows, args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        path = tmp / "data.parquet"
        make_data(args.rows, path)
        import polars as pl

        size_mb = pl.read_parquet(path).estimated_size() / 2**20
        print(f"data: {args.rows:,} rows x 26 columns, {size_mb:.0f} MB in memory (polars)")
        results = {}
        for name in ("floor", "steward", "pandera", "ge"):
            if name in args.skip:
                continue
            repeat = 1 if name == "ge" else args.repeat
            r = spawn(name, path, args.rows, repeat)
            if r is not None:
                results[name] = r
        floor = results.get("floor", {}).get("median_s")
        ours = results.get("steward", {}).get("median_s")
        print(f"\n{'case':<10} {'median s':>9} {'x floor':>8} {'x steward':>10} {'peak RSS MB':>12} {'RSS w/ data':>12} passed")
        for name, r in results.items():
            ratio_floor = r["median_s"] / floor if floor else float("nan")
            ratio_ours = r["median_s"] / ours if ours else float("nan")
            print(f"{name:<10} {r['median_s']:>9.3f} {ratio_floor:>8.2f} {ratio_ours:>10.2f} {r['peak_rss_mb']:>12.0f} {r['rss_loaded_mb']:>12.0f} {r['passed']}")
        cli = time_cli(path, args.rows, tmp)
        print(f"\nfresh `steward data validate` process: median {cli['median_s']:.2f} s (python -c 'import steward.cli': {cli['import_s']:.2f} s)")


if __name__ == "__main__":
    main()
