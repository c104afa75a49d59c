"""``steward reproduce RUN_ID``: run a run's command again at its recorded commit and compare.

What a run records at its start (:meth:`steward.Client.start_run`) is what this uses: the git
commit (``steward.git.commit``), whether the tree was dirty and its diff (artifact
``steward/git.diff``), the folder it ran in (``steward.git.workdir``), the command line
(``steward.command``), the package list (artifact ``steward/requirements.txt``), params, the
seed (``steward.seed``) and the dataset versions it logged as inputs.

The command runs in a temporary ``git worktree`` of the commit (the diff applied when the run
was dirty), with this interpreter and in its environment ``STEWARD_REPRODUCES=<run id>`` (the
run it makes is tagged ``steward.reproduces`` and found afterwards), ``STEWARD_SEED=<recorded
seed>`` (the seed ``start_run`` and ``seed_everything`` use then, whatever the script asks
for) and ``STEWARD_PINNED_DATASETS`` (the recorded dataset versions: a bare name in the script
resolves to the version the run used, not a newer one; ``latest_data=True`` leaves it out).
Then: every metric of the original is compared within a relative tolerance; params and seed
must be equal; every dataset the original used is compared by content hash with the one of
the same name the re-run used (one with other content is named); the package list is compared
with this environment's (differences are named, and do not fail the check).
"""

from __future__ import annotations

import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from steward.errors import CheckFailedError, InvalidInputError, NotFoundError, StewardError

if TYPE_CHECKING:
    from steward.core import Run
    from steward.sdk import Client

__all__ = ["DatasetCheck", "MetricCheck", "ReproduceReport", "compare_packages", "reproduce_run"]

DIFF = "steward/git.diff"
PACKAGES = "steward/requirements.txt"


@dataclass(frozen=True, slots=True)
class MetricCheck:
    key: str
    recorded: float | None
    reproduced: float | None
    matches: bool


@dataclass(frozen=True, slots=True)
class DatasetCheck:
    name: str
    recorded: str
    recorded_hash: str
    reproduced: str | None
    reproduced_hash: str | None
    changed: bool
    latest: str | None = None  # the newest version of the name now, when not the recorded one


@dataclass(slots=True)
class ReproduceReport:
    """The comparison; ``matches`` is the verdict (metrics, params, seed and data all equal)."""

    run_id: str
    reproduced_run_id: str | None
    commit: str
    dirty: bool
    diff_applied: bool
    command: list[str]
    tolerance: float
    exit_code: int
    metrics: list[MetricCheck] = field(default_factory=list)
    params: list[str] = field(default_factory=list)  # "name: recorded 'a', re-run 'b'"
    seed: list[str] = field(default_factory=list)
    datasets: list[DatasetCheck] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)  # "name: recorded 1.0, now 1.1"
    pinned: list[str] = field(default_factory=list)  # the recorded versions a bare name resolved to in the re-run
    problems: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return (
            self.exit_code == 0 and self.reproduced_run_id is not None and not self.problems
            and all(m.matches for m in self.metrics) and not self.params and not self.seed
            and not any(d.changed for d in self.datasets)
        )

    def to_dict(self) -> dict[str, object]:
        doc = asdict(self)
        doc["matches"] = self.matches
        return doc


def _close(a: float, b: float, tolerance: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= tolerance * max(abs(a), abs(b))


def _packages(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, version = line.strip().partition("==")
        if sep:
            found[name.lower()] = version
    return found


def compare_packages(recorded: str, current: str) -> list[str]:
    """Each package whose version differs, or that only one side has, as one line."""
    old, new = _packages(recorded), _packages(current)
    lines = []
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            lines.append(f"{name}: recorded {old[name]}, not installed now")
        elif name not in old:
            lines.append(f"{name}: not recorded, {new[name]} installed now")
        elif old[name] != new[name]:
            lines.append(f"{name}: recorded {old[name]}, now {new[name]}")
    return lines


def _git(args: list[str], cwd: Path | str) -> subprocess.CompletedProcess[str]:
    # the repository is the one of ``cwd``: not one an inherited GIT_DIR or GIT_INDEX_FILE points at
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120, env=env)


def _artifact(client: Client, run_id: str, path: str) -> bytes | None:
    try:
        return client.read_artifact(run_id, path)
    except NotFoundError:
        return None


def _dataset_name(ref: str) -> str:
    from steward.data._versions import parse_ref

    parsed = parse_ref(ref)
    return parsed.name or ref


def _content_hash(client: Client, ref: str) -> str | None:
    try:
        return client.data.get(ref).content_hash
    except StewardError:
        return None


def _latest(client: Client, name: str) -> str | None:
    try:
        return client.data.get(f"datasets:/{name}").ref  # this process has no pins: the latest
    except StewardError:
        return None


def _command(run: Run) -> list[str]:
    text = run.tags.get("steward.command", "")
    argv = shlex.split(text) if text else []
    if not argv:
        raise InvalidInputError(f"run {run.run_id} records no command (tag steward.command); it cannot be re-run", field="run_id")
    if Path(argv[0]).name.startswith(("python", "pypy")):
        argv[0] = sys.executable  # the recorded interpreter may be another environment's
    return argv


def _find_rerun(client: Client, run_id: str, since_ms: int) -> Run | None:
    page = client.search_runs(None, filter=f"tags.`steward.reproduces` = '{run_id}'", max_results=100)
    fresh = [r for r in page.runs if r.start_time >= since_ms - 1000]
    return max(fresh, key=lambda r: r.start_time) if fresh else None


def reproduce_run(
    client: Client,
    run_id: str,
    *,
    tolerance: float = 1e-6,
    repo: str | Path | None = None,
    timeout: float | None = None,
    latest_data: bool = False,
) -> ReproduceReport:
    """Re-run ``run_id``'s command at its commit in a temporary worktree and compare.

    Args:
        client: where the run is read and the re-run recorded (embedded or a server).
        tolerance: relative tolerance of a metric (``|a - b| <= tolerance * max(|a|, |b|)``).
        repo: the git repository holding the commit (default: the one of this folder).
        timeout: seconds the command may take.
        latest_data: let a bare dataset name resolve to its latest version, as it would in a
            fresh run, instead of the version the run recorded (a newer version with other
            content is then named as changed).

    Raises:
        NotFoundError: no such run, or the commit is not in the repository.
        InvalidInputError: the run records no commit or command, or ``repo`` is no git repository.
        CheckFailedError: the recorded diff does not apply to the commit.
    """
    from steward.data._pins import PINS_ENV, pins_value

    if not (tolerance >= 0):
        raise InvalidInputError("tolerance must be >= 0", field="tolerance")
    original = client.get_run(run_id)
    commit = original.tags.get("steward.git.commit", "")
    if not commit:
        raise InvalidInputError(
            f"run {run_id} records no git commit (it did not start in a git work tree); it cannot be reproduced", field="run_id"
        )
    argv = _command(original)
    where = Path(repo) if repo is not None else Path.cwd()
    top = _git(["rev-parse", "--show-toplevel"], where)
    if top.returncode != 0:
        raise InvalidInputError(f"{where} is not in a git repository; give the one holding {commit[:12]} with --repo", field="repo")
    root = Path(top.stdout.strip())
    if _git(["cat-file", "-e", f"{commit}^{{commit}}"], root).returncode != 0:
        raise NotFoundError(f"commit {commit[:12]} of run {run_id} is not in the repository {root}", field="repo")
    dirty = original.tags.get("steward.git.dirty") == "true"
    report = ReproduceReport(run_id, None, commit, dirty, False, argv, tolerance, -1)
    if not latest_data:  # a bare name in the script reads the version the run used, not a newer one
        report.pinned = pins_value([i.dataset for i in original.inputs]).split()
    recorded_packages = _artifact(client, run_id, PACKAGES)
    if recorded_packages is not None:
        from steward.tracking import capture_environment

        report.packages = compare_packages(recorded_packages.decode(errors="replace"), capture_environment().packages)
    with tempfile.TemporaryDirectory(prefix="steward-reproduce-") as folder:
        tree = Path(folder) / "tree"
        added = _git(["worktree", "add", "--detach", str(tree), commit], root)
        if added.returncode != 0:
            raise CheckFailedError(f"git worktree add failed: {added.stderr.strip()[:300]}")
        try:
            diff = _artifact(client, run_id, DIFF) if dirty else None
            if diff:
                patch = Path(folder) / "run.diff"
                patch.write_bytes(diff)
                applied = _git(["apply", "--whitespace=nowarn", str(patch)], tree)
                if applied.returncode != 0:
                    raise CheckFailedError(f"the recorded diff of run {run_id} does not apply to {commit[:12]}: {applied.stderr.strip()[:300]}")
                report.diff_applied = True
            workdir = tree / original.tags.get("steward.git.workdir", ".")
            env = {**os.environ, "STEWARD_REPRODUCES": run_id}
            env.pop(PINS_ENV, None)
            if report.pinned:  # none with latest_data
                env[PINS_ENV] = " ".join(report.pinned)
            if "steward.seed" in original.tags:
                env["STEWARD_SEED"] = original.tags["steward.seed"]
            began = int(time.time() * 1000)
            try:
                done = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout, check=False)
                report.exit_code = done.returncode
                if done.returncode != 0:
                    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                    report.problems.append(f"the command exited with {done.returncode}: {' | '.join(tail)[:400]}")
            except subprocess.TimeoutExpired:
                report.problems.append(f"the command did not finish within {timeout:g}s")
            except OSError as exc:
                report.problems.append(f"the command could not start: {exc}")
        finally:
            _git(["worktree", "remove", "--force", str(tree)], root)
            _git(["worktree", "prune"], root)
    rerun = _find_rerun(client, run_id, began)
    if rerun is None:
        report.problems.append("the command made no run (a run started by it is tagged steward.reproduces)")
        return report
    report.reproduced_run_id = rerun.run_id
    for key in sorted(original.metrics.keys() | rerun.metrics.keys()):
        a, b = original.metrics.get(key), rerun.metrics.get(key)
        va, vb = (a.value if a else None), (b.value if b else None)
        report.metrics.append(MetricCheck(key, va, vb, va is not None and vb is not None and _close(va, vb, tolerance)))
    for name in sorted(original.params.keys() | rerun.params.keys()):
        if original.params.get(name) != rerun.params.get(name):
            report.params.append(f"{name}: recorded {original.params.get(name)!r}, re-run {rerun.params.get(name)!r}")
    if original.tags.get("steward.seed") != rerun.tags.get("steward.seed"):
        report.seed.append(f"recorded {original.tags.get('steward.seed')!r}, re-run {rerun.tags.get('steward.seed')!r}")
    used = {_dataset_name(i.dataset): i.dataset for i in rerun.inputs}
    for item in original.inputs:
        name = _dataset_name(item.dataset)
        recorded_hash = _content_hash(client, item.dataset) or ""
        again = used.get(name)
        again_hash = _content_hash(client, again) if again else None
        latest = _latest(client, name)
        report.datasets.append(
            DatasetCheck(
                name, item.dataset, recorded_hash, again, again_hash, again_hash != recorded_hash,
                latest if latest not in (None, item.dataset) else None,
            )
        )
    return report
