"""Verifying the audit trail's hash chain (and its signed head checkpoints), exporting it,
listing it with filters a page at a time, and auditing denied requests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from steward.core import AuditEntry
from steward.core.audit_chain import GENESIS_HASH, entry_hash
from steward.errors import InvalidInputError, StorageError
from steward.tracking import AuditEvent, now_ms

from ._audit_checkpoints import (
    Checkpoint,
    CheckpointStore,
    KeyLoader,
    checkpoint_name,
    load_checkpoints,
    prunable,
    sign_checkpoint,
)

__all__ = [
    "AuditChainService",
    "AuditChainStore",
    "AuditPage",
    "AuditQuery",
    "ChainBreak",
    "ChainEntry",
    "ChainReport",
    "verify_chain",
]

MAX_AUDIT_PAGE = 10_000


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


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which entries a listing wants, in which order, from where (a keyset on ``entry_id``).

    Attributes:
        target: target prefix (``runs:/<run_id>``, ``models:/fraud``).
        actor: exactly this actor.
        action: action prefix (``models.``, ``auth.denied``).
        since: at or after this time (ms since the epoch, UTC).
        until: before this time (ms).
        cursor: continue past this entry id in the listing's order (older ones when
            ``newest_first``, newer ones otherwise).
        newest_first: descending entry ids instead of the chain's order.
        limit: at most this many entries.
    """

    target: str | None = None
    actor: str | None = None
    action: str | None = None
    since: int | None = None
    until: int | None = None
    cursor: int | None = None
    newest_first: bool = False
    limit: int = 100


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of a listing and where the next one starts.

    Attributes:
        entries: the page, in the listing's order.
        next_cursor: pass as ``cursor`` for the next page (None: this page is the last).
    """

    entries: list[AuditEntry]
    next_cursor: int | None


class AuditChainStore(Protocol):
    """Storage of the audit chain."""

    def record(self, event: AuditEvent) -> int: ...
    def iter_entries(self, *, page_size: int = 5000) -> Iterator[ChainEntry]: ...
    def head(self) -> tuple[int, str] | None: ...
    def list_entries(self, query: AuditQuery) -> list[AuditEntry]:
        """Up to ``query.limit`` entries matching it, in its order, past its cursor."""
        ...


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry at which the chain does not hold, and why."""

    entry_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of :func:`verify_chain`.

    ``checked`` entries were read; ``head_id``/``head_hash`` are the last intact entry's.
    ``checkpoint`` is the newest valid signed checkpoint the chain was checked against
    (None when there is none, see ``checkpoints_note``); ``missing`` is the range of entry
    ids cut off the end; ``checkpoint_problems`` name checkpoints that are themselves forged.
    """

    checked: int
    head_id: int | None
    head_hash: str
    first_break: ChainBreak | None
    missing: tuple[int, int] | None = None
    checkpoint: Checkpoint | None = None
    checkpoint_problems: tuple[str, ...] = ()
    checkpoints_note: str = ""

    @property
    def intact(self) -> bool:
        """True when no entry was edited, deleted or reordered, none is missing at the end,
        and no checkpoint was forged."""
        return self.first_break is None and not self.checkpoint_problems


def verify_chain(
    entries: Iterable[ChainEntry],
    *,
    expect_head: tuple[int, str] | None = None,
    anchors: Mapping[int, tuple[str, str]] | None = None,
) -> ChainReport:
    """Walk ``entries`` (in entry id order) and report the first that breaks the chain.

    An edited entry no longer matches its own hash; a deleted entry leaves the next one
    linking to a hash that is not its predecessor's; reordered entries fail both, since
    the hash covers the entry id.

    Args:
        entries: the stored entries, ordered by entry id.
        expect_head: an ``(entry_id, hash)`` recorded earlier; the chain must still hold
            that entry (a chain alone cannot show that its newest entries were cut off).
        anchors: more such records, ``entry_id -> (hash, what recorded it)`` (signed
            checkpoints).

    Returns:
        The report; ``first_break`` is None when the chain is intact.
    """
    expected = dict(anchors or {})
    if expect_head is not None:
        expected[expect_head[0]] = (expect_head[1], "the recorded head")
    prev_hash, prev_id, checked = GENESIS_HASH, None, 0
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
        elif entry.entry_id in expected and entry.hash != expected[entry.entry_id][0]:
            problem = f"its hash differs from {expected[entry.entry_id][1]}: the chain was rewritten"
        if problem is not None:
            return ChainReport(checked, prev_id, prev_hash, ChainBreak(entry.entry_id, problem))
        prev_hash, prev_id = entry.hash, entry.entry_id
    beyond = [i for i in expected if prev_id is None or i > prev_id]
    if beyond:
        last = max(beyond)
        first = 1 if prev_id is None else prev_id + 1
        gap = f"entry {last} is missing" if first == last else f"entries {first}-{last} are missing"
        ends = "the table is empty" if prev_id is None else f"the table ends at entry {prev_id}"
        reason = f"{gap}: {ends} but {expected[last][1]} recorded entry {last}; entries at the end were deleted"
        return ChainReport(checked, prev_id, prev_hash, ChainBreak(last, reason), missing=(first, last))
    return ChainReport(checked, prev_id, prev_hash, None)


class AuditChainService:
    """Verify and export the audit trail, checkpoint its head; record refused requests.

    Args:
        store: the audit chain's storage.
        checkpoints: where signed head checkpoints live (None: no checkpoints).
        master_key: returns the master key, or None when none is configured (called only
            when checkpoints are written or checked).
    """

    def __init__(
        self, store: AuditChainStore, checkpoints: CheckpointStore | None = None, master_key: KeyLoader | None = None
    ) -> None:
        self.store = store
        self.checkpoints = checkpoints
        self._master_key = master_key or (lambda: None)

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> ChainReport:
        """Check the whole chain (see :func:`verify_chain`) against every signed checkpoint.

        A truncated tail fails against the newest checkpoint, a rewritten chain against any
        checkpoint at or after the rewrite, and a checkpoint whose signature does not hold
        is reported in ``checkpoint_problems``. With no master key, checkpoints cannot be
        checked: the report says so, and fails only if checkpoints exist.

        Raises:
            StorageError: the checkpoints cannot be read.
            InvalidInputError: the master key is malformed or readable by others.
        """
        if self.checkpoints is None:
            return verify_chain(self.store.iter_entries(), expect_head=expect_head)
        key = self._master_key()
        if key is None:
            stored = len(self.checkpoints.list_checkpoints())
            report = verify_chain(self.store.iter_entries(), expect_head=expect_head)
            if stored:
                return replace(
                    report,
                    checkpoint_problems=(
                        (
                            f"{stored} signed checkpoints exist but no master key is configured to check them "
                            "(set STEWARD_MASTER_KEY or STEWARD_MASTER_KEY_FILE)"
                        ),
                    ),
                    checkpoints_note="checkpoints unavailable: no master key",
                )
            return replace(report, checkpoints_note="checkpoints unavailable: no master key configured")
        loaded = load_checkpoints(self.checkpoints, key)
        anchors = {c.entry_id: (c.hash, c.describe()) for c in loaded.valid}
        report = verify_chain(self.store.iter_entries(), expect_head=expect_head, anchors=anchors)
        latest = loaded.latest
        if latest is None:
            note = "no signed checkpoint yet (`steward audit checkpoint` writes one)"
        else:
            note = f"checked against {len(loaded.valid)} signed checkpoints, the newest at entry {latest.entry_id}"
        if loaded.other_key:
            note += f"; {loaded.other_key} signed under another master key skipped"
        return replace(
            report,
            checkpoint=latest,
            checkpoint_problems=tuple(f"audit checkpoint {p.name} {p.reason}" for p in loaded.problems),
            checkpoints_note=note,
        )

    def checkpoint(self) -> Checkpoint | None:
        """Sign the chain's current head and store it, unless that head has a checkpoint already.

        Older checkpoints beyond the newest hundred are removed.

        Returns:
            The checkpoint written, or None when the chain is empty or its head is checkpointed.

        Raises:
            StorageError: no master key is configured, or the checkpoint store cannot be written.
        """
        if self.checkpoints is None:
            raise StorageError("this audit trail has no checkpoint store")
        key = self._master_key()
        if key is None:
            raise StorageError("audit checkpoints need the master key: set STEWARD_MASTER_KEY or STEWARD_MASTER_KEY_FILE")
        head = self.store.head()
        if head is None:
            return None
        names = self.checkpoints.list_checkpoints()
        name = checkpoint_name(head[0])
        if name in names:
            return None
        written = Checkpoint(head[0], head[1], now_ms(), key.key_id)
        self.checkpoints.write_checkpoint(name, sign_checkpoint(written, key))
        for old in prunable([*names, name]):
            self.checkpoints.delete_checkpoint(old)
        return written

    def list_entries(
        self,
        *,
        target: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: int | None = None,
        until: int | None = None,
        cursor: int | None = None,
        newest_first: bool = False,
        max_results: int = 100,
    ) -> AuditPage:
        """Entries matching every filter given, a page at a time (``GET /api/v1/audit``, the UI's audit page).

        Paging is a keyset on the entry id, so a page costs the same wherever it is in a
        trail of millions, and entries appended meanwhile never shift a page.

        Args:
            target: target prefix.
            actor: exactly this actor.
            action: action prefix.
            since: at or after this time (ms since the epoch).
            until: before this time (ms).
            cursor: the ``next_cursor`` of the page before.
            newest_first: newest entries first (default: the chain's order, oldest first).
            max_results: page size, 1 to 10,000.

        Returns:
            The :class:`AuditPage`.

        Raises:
            InvalidInputError: a page size, time or cursor out of range, or an over-long filter.

        Example:
            >>> page = services.audit().list_entries(action="models.", newest_first=True, max_results=50)  # doctest: +SKIP
            >>> older = services.audit().list_entries(action="models.", newest_first=True, cursor=page.next_cursor)  # doctest: +SKIP
        """
        if isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= MAX_AUDIT_PAGE:
            raise InvalidInputError(f"max_results must be between 1 and {MAX_AUDIT_PAGE}", field="max_results")
        for name, value in (("since", since), ("until", until), ("cursor", cursor)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63):
                raise InvalidInputError(f"{name} must be a non-negative 64-bit integer", field=name)
        for name, text, limit in (("target", target, 1000), ("actor", actor, 250), ("action", action, 100)):
            if text is not None and len(text) > limit:
                raise InvalidInputError(f"{name} is at most {limit} characters", field=name)
        query = AuditQuery(target or None, actor or None, action or None, since, until, cursor, newest_first, max_results + 1)
        found = self.store.list_entries(query)
        page = found[:max_results]
        return AuditPage(page, page[-1].entry_id if len(found) > max_results else None)

    def head(self) -> tuple[int, str] | None:
        """The newest entry's id and hash (None for an empty trail): cheap, unlike :meth:`verify`."""
        return self.store.head()

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

    def record_denied(
        self, actor: str, method: str, path: str, reason: str, *, client: str | None = None, extra: dict[str, object] | None = None
    ) -> int:
        """Audit a refused request (``auth.denied``): who, which operation, and why.

        Never pass credentials: only names, the method, the path and the refusal message.
        ``extra`` adds details (the status, and a burst's count and time span).
        """
        details: dict[str, object] = {"method": method[:10], "reason": reason[:300], **(extra or {})}
        if client:
            details["client"] = client[:100]
        return self.store.record(AuditEvent(actor[:250], "auth.denied", path[:1000], now_ms(), details))
