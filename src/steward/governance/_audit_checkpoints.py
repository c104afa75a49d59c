"""Signed checkpoints of the audit chain's head, kept outside the audit table.

A hash chain shows edits, deletions inside it and reorderings, but not entries cut off
its end: the shorter chain is still a valid chain. So the head (entry id and hash) is
recorded now and then as a small JSON document in the artifact store, signed with
HMAC-SHA256 under a key derived from the master key. Verification checks the table
against every checkpoint: a head behind the newest checkpoint names the missing entries,
an entry whose hash differs from a checkpoint's shows a rewritten chain, and a checkpoint
whose signature does not hold is itself tampering.

Someone who can write both the table and the artifact store (and delete the newest
checkpoints) can still hide a cut; keep the artifact store on other permissions (an
object store with versioning or object lock) to close that too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from steward.errors import NotFoundError

from ._master_key import MasterKey

__all__ = [
    "KEEP_CHECKPOINTS",
    "Checkpoint",
    "CheckpointProblem",
    "CheckpointStore",
    "KeyLoader",
    "LoadedCheckpoints",
    "checkpoint_name",
    "load_checkpoints",
    "prunable",
    "sign_checkpoint",
]

# the newest this many are kept; older ones add little, since any rewrite or cut at or
# before the newest checkpoint already fails against it
KEEP_CHECKPOINTS = 100
_FORMAT = 1
# the master key encrypts secrets; signing uses a key derived from it, never the key itself
_KEY_LABEL = b"steward/audit-checkpoint/v1"
_NAME = re.compile(r"^(\d{20})\.json$")

KeyLoader = Callable[[], MasterKey | None]


class CheckpointStore(Protocol):
    """Where checkpoints live: named documents, outside the metadata database."""

    def write_checkpoint(self, name: str, data: bytes) -> None: ...
    def list_checkpoints(self) -> list[str]: ...
    def read_checkpoint(self, name: str) -> bytes: ...
    def delete_checkpoint(self, name: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The head of the audit chain at ``created_at`` (ms, UTC), signed under ``key_id``."""

    entry_id: int
    hash: str
    created_at: int
    key_id: str

    def describe(self) -> str:
        """``the checkpoint of 2026-12-03T01:02:03Z`` (for messages)."""
        when = datetime.fromtimestamp(self.created_at / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"the checkpoint of {when}"


@dataclass(frozen=True, slots=True)
class CheckpointProblem:
    """A stored checkpoint that cannot be trusted, and why."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class LoadedCheckpoints:
    """What :func:`load_checkpoints` found: valid ones, bad ones, and ones under another key."""

    valid: tuple[Checkpoint, ...]
    problems: tuple[CheckpointProblem, ...]
    other_key: int

    @property
    def latest(self) -> Checkpoint | None:
        """The valid checkpoint of the highest entry id."""
        return max(self.valid, key=lambda c: c.entry_id, default=None)


def checkpoint_name(entry_id: int) -> str:
    """The document name of the checkpoint of ``entry_id``: zero-padded, so names sort by id."""
    return f"{entry_id:020d}.json"


def _signing_key(key: MasterKey) -> bytes:
    return hmac.new(key.key, _KEY_LABEL, hashlib.sha256).digest()


def _signature(body: dict[str, object], key: MasterKey) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return hmac.new(_signing_key(key), canonical, hashlib.sha256).hexdigest()


def _body(checkpoint: Checkpoint) -> dict[str, object]:
    return {
        "format": _FORMAT,
        "entry_id": checkpoint.entry_id,
        "hash": checkpoint.hash,
        "created_at": checkpoint.created_at,
        "key_id": checkpoint.key_id,
    }


def sign_checkpoint(checkpoint: Checkpoint, key: MasterKey) -> bytes:
    """The checkpoint as a JSON document with its HMAC-SHA256 (``hmac``, hex).

    Raises:
        ValueError: ``checkpoint.key_id`` is not ``key``'s.
    """
    if checkpoint.key_id != key.key_id:
        raise ValueError("a checkpoint is signed with the key it names")
    body = _body(checkpoint)
    return (json.dumps({**body, "hmac": _signature(body, key)}, sort_keys=True, indent=1) + "\n").encode("ascii")


def _parse(name: str, data: bytes, key: MasterKey) -> Checkpoint | CheckpointProblem | None:
    """The checkpoint, a problem, or None when it was signed under another master key."""
    match = _NAME.match(name)
    if match is None:
        return CheckpointProblem(name, "is not a checkpoint name: a file was added to the checkpoint folder")
    try:
        doc = json.loads(data)
        body = {k: doc[k] for k in ("format", "entry_id", "hash", "created_at", "key_id")}
        claimed = doc["hmac"]
        checkpoint = Checkpoint(int(body["entry_id"]), str(body["hash"]), int(body["created_at"]), str(body["key_id"]))
    except (ValueError, TypeError, KeyError):
        return CheckpointProblem(name, "is not a readable checkpoint: it was forged or damaged")
    if checkpoint.key_id != key.key_id:
        return None
    if not isinstance(claimed, str) or not hmac.compare_digest(claimed, _signature(body, key)):
        return CheckpointProblem(name, "has a bad signature: it was forged or altered")
    if int(match.group(1)) != checkpoint.entry_id:
        return CheckpointProblem(name, f"records entry {checkpoint.entry_id} under another name: it was renamed")
    return checkpoint


def load_checkpoints(store: CheckpointStore, key: MasterKey) -> LoadedCheckpoints:
    """Read and check every stored checkpoint.

    Raises:
        StorageError: the store cannot be read.
    """
    valid: list[Checkpoint] = []
    problems: list[CheckpointProblem] = []
    other_key = 0
    for name in sorted(store.list_checkpoints()):
        try:
            data = store.read_checkpoint(name)
        except NotFoundError:  # removed as too old between listing and reading
            continue
        parsed = _parse(name, data, key)
        if parsed is None:
            other_key += 1
        elif isinstance(parsed, CheckpointProblem):
            problems.append(parsed)
        else:
            valid.append(parsed)
    return LoadedCheckpoints(tuple(valid), tuple(problems), other_key)


def prunable(names: list[str]) -> list[str]:
    """Checkpoint names beyond the newest :data:`KEEP_CHECKPOINTS` (oldest first)."""
    ordered = sorted(n for n in names if _NAME.match(n))
    return ordered[:-KEEP_CHECKPOINTS] if len(ordered) > KEEP_CHECKPOINTS else []
