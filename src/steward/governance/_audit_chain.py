"""Verifying the audit trail's hash chain, exporting it, and auditing denied requests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from steward.core.audit_chain import GENESIS_HASH, entry_hash
from steward.tracking import AuditEvent, now_ms

__all__ = ["AuditChainService", "AuditChainStore", "ChainBreak", "ChainEntry", "ChainReport", "verify_chain"]


class ChainEntry(Protocol):
    """What verification reads of one stored entry."""

    @property
    def entry_id(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def details(self) -> dict[str, object]: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


class AuditChainStore(Protocol):
    """Storage of the audit chain."""

    def record(self, event: AuditEvent) -> int: ...
    def iter_entries(self, *, page_size: int = 5000) -> Iterator[ChainEntry]: ...


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry at which the chain does not hold, and why."""

    entry_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of :func:`verify_chain`.

    ``checked`` entries were read; ``head_id``/``head_hash`` are the last intact entry's,
    which an operator may record elsewhere to detect a truncated tail later.
    """

    checked: int
    head_id: int | None
    head_hash: str
    first_break: ChainBreak | None

    @property
    def intact(self) -> bool:
        """True when no entry was edited, deleted or reordered."""
        return self.first_break is None


def verify_chain(entries: Iterable[ChainEntry], *, expect_head: tuple[int, str] | None = None) -> ChainReport:
    """Walk ``entries`` (in entry id order) and report the first that breaks the chain.

    An edited entry no longer matches its own hash; a deleted entry leaves the next one
    linking to a hash that is not its predecessor's; reordered entries fail both, since
    the hash covers the entry id.

    Args:
        entries: the stored entries, ordered by entry id.
        expect_head: an ``(entry_id, hash)`` recorded earlier; the chain must still hold
            that entry (a chain alone cannot show that its newest entries were cut off).

    Returns:
        The report; ``first_break`` is None when the chain is intact.
    """
    prev_hash, prev_id, checked = GENESIS_HASH, None, 0
    anchor_seen = expect_head is None
    for entry in entries:
        checked += 1
        recomputed = entry_hash(
            entry_id=entry.entry_id,
            timestamp=entry.timestamp,
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        problem = None
        if entry.prev_hash != prev_hash:
            before = "the start of the chain" if prev_id is None else f"entry {prev_id}"
            problem = f"does not link to {before}: an entry was deleted, inserted or reordered"
        elif recomputed != entry.hash:
            problem = "its content does not match its hash: the entry was edited"
        if problem is not None:
            return ChainReport(checked, prev_id, prev_hash, ChainBreak(entry.entry_id, problem))
        if expect_head is not None and entry.entry_id == expect_head[0]:
            if entry.hash != expect_head[1]:
                return ChainReport(
                    checked, prev_id, prev_hash, ChainBreak(entry.entry_id, "its hash differs from the recorded head")
                )
            anchor_seen = True
        prev_hash, prev_id = entry.hash, entry.entry_id
    if not anchor_seen and expect_head is not None:
        return ChainReport(
            checked, prev_id, prev_hash,
            ChainBreak(expect_head[0], "the recorded head is missing: entries at the end were deleted"),
        )
    return ChainReport(checked, prev_id, prev_hash, None)


class AuditChainService:
    """Verify and export the audit trail; record refused requests.

    Args:
        store: the audit chain's storage.
    """

    def __init__(self, store: AuditChainStore) -> None:
        self.store = store

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> ChainReport:
        """Check the whole chain (see :func:`verify_chain`)."""
        return verify_chain(self.store.iter_entries(), expect_head=expect_head)

    def export(self) -> Iterator[dict[str, object]]:
        """Every entry with its chain fields, oldest first (one JSON object per entry)."""
        for e in self.store.iter_entries():
            yield {
                "entry_id": e.entry_id,
                "timestamp": e.timestamp,
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "details": e.details,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }

    def record_denied(self, actor: str, method: str, path: str, reason: str, *, client: str | None = None) -> int:
        """Audit a refused request (``auth.denied``): who, which operation, and why.

        Never pass credentials: only names, the method, the path and the refusal message.
        """
        details: dict[str, object] = {"method": method[:10], "reason": reason[:300]}
        if client:
            details["client"] = client[:100]
        return self.store.record(AuditEvent(actor[:250], "auth.denied", path[:1000], now_ms(), details))
