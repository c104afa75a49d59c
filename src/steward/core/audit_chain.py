"""The hash chain of the audit trail: canonical form and entry hashes (pure, no I/O).

Each audit entry stores the hash of the entry before it (``prev_hash``) and its own
``hash``: SHA-256 over the canonical JSON of its position, time, actor, action, target,
details and ``prev_hash``. Editing an entry changes its hash; deleting or reordering
entries breaks the link of the entry after the change. The first entry links to
:data:`GENESIS_HASH`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

__all__ = ["GENESIS_HASH", "canonical_details", "entry_hash"]

# What the first entry of a chain links to.
GENESIS_HASH = "0" * 64


def canonical_details(details: Mapping[str, object]) -> dict[str, object]:
    """``details`` as it reads back from a JSON column: keys become strings, tuples lists.

    Hash and store this form, so that the hash of an entry read back equals the hash
    computed when it was written.

    Raises:
        TypeError: a value JSON cannot represent (a set, an object).
    """
    normal: dict[str, object] = json.loads(json.dumps(dict(details)))
    return normal


def entry_hash(
    *,
    entry_id: int,
    timestamp: int,
    actor: str,
    action: str,
    target: str,
    details: Mapping[str, object],
    prev_hash: str,
) -> str:
    """The SHA-256 (hex) of one entry's canonical JSON.

    Args:
        entry_id: the entry's position in the chain (its primary key).
        timestamp: milliseconds since the epoch, UTC.
        actor: who acted.
        action: what they did (``models.transition``).
        target: what they did it to (``models:/fraud/3``).
        details: the summary of the change, in :func:`canonical_details` form.
        prev_hash: the hash of the entry before (:data:`GENESIS_HASH` for the first).

    Returns:
        64 lowercase hex characters.
    """
    # a list fixes the field order; sort_keys fixes the order inside details; ASCII
    # escapes make the bytes independent of how a database stores text
    body = json.dumps(
        [int(entry_id), int(timestamp), actor, action, target, dict(details), prev_hash],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(body.encode("ascii")).hexdigest()
