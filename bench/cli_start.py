"""CLI start time, whole process, next to MLflow's CLI (hyperfine's method without hyperfine).

Each command is started ``--runs`` times as a new process (after ``--warmup`` untimed starts,
so that both read their files from the page cache); the median wall-clock time is reported,
with the spread (min..max). Measured:

- ``steward --help`` and ``mlflow --help``;
- ``steward runs list`` on an embedded store seeded with ``--seed-runs`` runs, and
  ``mlflow runs list --experiment-id 0`` on a file store seeded the same way
  (from ``bench/.venv-mlflow``; ``bash bench/mlflow_env.sh`` makes it).

Steward's modules are byte-compiled first, as ``pip install`` does for a wheel: an editable
install under ``PYTHONDONTWRITEBYTECODE=1`` (set on the project's VMs) would otherwise compile
about 50 of its modules from source at every start (0.1 s of CPU), which no installed copy
does (the figures in docs/benchmarks.md before 2026-12-03 13:30 included that).

Targets (issue 11): ``steward --help`` < 0.3 s, ``steward runs list`` < 0.6 s.

    python bench/cli_start.py [--runs 15] [--json-out bench/results/cli_start.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MLFLOW_PY = HERE / ".venv-mlflow" / "bin" / "python"
STEWARD = Path(sys.executable).parent / "steward"
TARGETS = {"steward --help": 0.3, "steward runs list": 0.6}


def _time(argv: list[str], env: dict[str, str], runs: int, warmup: int) -> dict[str, float]:
    """Median, min and max wall-clock seconds of ``runs`` starts of ``argv`` (output
    discarded), and the median CPU seconds (user + system, as hyperfine reports them: on a
    busy machine the wall clock waits for other processes, the CPU time much less)."""
    for _ in range(warmup):
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "cpu": statistics.median(cpu)}


def _compile_steward() -> None:
    """Byte-compile the steward package where Python looks for it (``__pycache__``), as pip does."""
    package = subprocess.run(
        [sys.executable, "-c", "import steward, pathlib; print(pathlib.Path(steward.__file__).parent)"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True, stdout=subprocess.DEVNULL)


def _seed_steward(home: Path, n_runs: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env.update(
        {
            "STEWARD_HOME": str(home),
            "STEWARD_CAPTURE_GIT": "false",
            "STEWARD_CAPTURE_PACKAGES": "false",
            "STEWARD_USER": "bench",
        }
    )
    script = (
        "import steward\n"
        f"for i in range({n_runs}):\n"
        "    with steward.start_run('bench', params={'lr': i / 100, 'depth': i % 7}) as run:\n"
        "        run.log_metrics({'loss': 1 / (i + 1), 'auc': 0.5 + i / 1000})\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True)
    return env


def _seed_mlflow(root: Path, n_runs: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    # MLflow 3's default tracking store is SQLite (./mlflow.db); a file URI keeps its CLI
    # on the store its `runs list` reads without a server
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    script = (
        "import mlflow\n"
        "mlflow.set_experiment('bench')\n"
        f"for i in range({n_runs}):\n"
        "    with mlflow.start_run():\n"
        "        mlflow.log_params({'lr': i / 100, 'depth': i % 7})\n"
        "        mlflow.log_metrics({'loss': 1 / (i + 1), 'auc': 0.5 + i / 1000})\n"
    )
    subprocess.run([str(MLFLOW_PY), "-c", script], env=env, check=True, cwd=root, capture_output=True)
    experiment = subprocess.run(
        [str(MLFLOW_PY), "-c", "import mlflow; print(mlflow.get_experiment_by_name('bench').experiment_id)"],
        env=env, check=True, cwd=root, capture_output=True, text=True,
    ).stdout.strip()
    env["BENCH_EXPERIMENT_ID"] = experiment
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed starts per command")
    parser.add_argument("--warmup", type=int, default=2, help="untimed starts first")
    parser.add_argument("--seed-runs", type=int, default=20, help="runs in each seeded store")
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    _compile_steward()

    work = Path(tempfile.mkdtemp(prefix="steward-cli-bench-"))
    results: dict[str, dict[str, float]] = {}
    try:
        env = _seed_steward(work / "steward", args.seed_runs)
        results["steward --help"] = _time([str(STEWARD), "--help"], env, args.runs, args.warmup)
        results["steward runs list"] = _time([str(STEWARD), "runs", "list"], env, args.runs, args.warmup)
        if MLFLOW_PY.exists():
            mlflow_cli = str(MLFLOW_PY.parent / "mlflow")
            (work / "mlflow").mkdir()
            menv = _seed_mlflow(work / "mlflow", args.seed_runs)
            results["mlflow --help"] = _time([mlflow_cli, "--help"], menv, args.runs, args.warmup)
            results["mlflow runs list"] = _time(
                [mlflow_cli, "runs", "list", "--experiment-id", menv["BENCH_EXPERIMENT_ID"]], menv, args.runs, args.warmup
            )
        else:
            print(f"(no {MLFLOW_PY}: run `bash bench/mlflow_env.sh` for MLflow's figures)", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"CLI start, whole process, median of {args.runs} (min..max; user+sys); steward byte-compiled first; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    for name, r in results.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f"  target < {target} s: {'met' if r['median'] < target else 'MISSED'}"
        print(f"  {name:<20} {r['median']:7.3f} s  ({r['min']:.3f}..{r['max']:.3f}; cpu {r['cpu']:.3f} s){verdict}")
    for verb in ("--help", "runs list"):
        ours, theirs = results.get(f"steward {verb}"), results.get(f"mlflow {verb}")
        if ours and theirs:
            print(f"  {verb:<20} mlflow / steward = {theirs['median'] / ours['median']:.1f}x")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
