"""What every run records without being asked: code version, interpreter, packages, host."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import platform
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass

GIT_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class GitState:
    commit: str
    branch: str
    dirty: bool
    diff: str
    root: str


@dataclass(frozen=True, slots=True)
class Environment:
    python: str
    implementation: str
    platform: str
    host: str
    command: str
    packages: str  # "name==version" lines, sorted
    packages_sha256: str


def _git(args: list[str], cwd: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def capture_git(cwd: str | None = None) -> GitState | None:
    """Commit, branch, dirty flag and the diff against HEAD; None outside a git work tree.

    Captured once per process and folder: the code a process runs is the code it imported,
    so later edits to the work tree do not change what this process executes, and a
    per-run ``git status`` + ``git diff`` would cost more than the run's own bookkeeping.
    """
    return _capture_git(cwd or os.getcwd())


@functools.lru_cache(maxsize=8)
def _capture_git(where: str) -> GitState | None:
    status = _git(["status", "--porcelain=v2", "--branch", "--untracked-files=no"], where)
    if status is None:
        return None
    commit, branch = "", ""
    dirty = False
    for line in status.splitlines():
        if line.startswith("# branch.oid "):
            commit = line.split(" ", 2)[2]
        elif line.startswith("# branch.head "):
            branch = line.split(" ", 2)[2]
        elif not line.startswith("#"):
            dirty = True
    if commit in ("", "(initial)"):
        return None
    diff = (_git(["diff", "HEAD", "--no-color", "--no-ext-diff"], where) or "") if dirty else ""
    root = (_git(["rev-parse", "--show-toplevel"], where) or "").strip()
    return GitState(commit, branch, dirty, diff, root)


@functools.lru_cache(maxsize=8)
def captured_bytes(text: str) -> bytes:
    """``text`` (a captured package list or git diff) as UTF-8, encoded once per process.

    Every run of a process records the same captured texts as artifacts; a git diff can be
    megabytes, and encoding (then hashing, in the blob store) it for each run cost more than
    the run's own bookkeeping. The same bytes object also lets the blob store reuse its digest.
    """
    return text.encode()


@functools.lru_cache(maxsize=1)
def capture_environment() -> Environment:
    """Interpreter, platform, host, command line and installed packages.

    Cached per process: none of these change while a process runs (a package installed
    mid-process is not importable as the new version anyway).
    """
    names: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            names[name.lower()] = dist.version
    packages = "".join(f"{n}=={v}\n" for n, v in sorted(names.items()))
    return Environment(
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        platform=platform.platform(),
        host=socket.gethostname(),
        command=shlex.join([sys.executable, *sys.argv]),
        packages=packages,
        packages_sha256=hashlib.sha256(packages.encode()).hexdigest(),
    )
