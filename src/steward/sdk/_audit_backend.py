"""What the SDK and CLI call for the audit trail, secrets and imports (administration).

Two implementations each: embedded (the governance services on the local store) and HTTP
(``_http_audit``, a Steward server). :class:`~steward.sdk.Client` hands out the right one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from steward.core import AuditEntry
    from steward.governance import AuditPage, ChainReport, SecretInfo
    from steward.migrate import ImportSummary

__all__ = ["AuditBackend", "EmbeddedAudit", "EmbeddedImport", "ImportBackend", "SecretsBackend"]


class AuditBackend(Protocol):
    """The hash-chained audit trail: read, verify and export it (the last two: administrators)."""

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
        """Entries matching every filter given, a page at a time (keyset on the entry id).

        Args:
            target: target prefix (``runs:/<run_id>``, ``models:/fraud``).
            actor: exactly this actor.
            action: action prefix (``models.``, ``auth.denied``).
            since: at or after this time (ms since the epoch, UTC).
            until: before this time (ms since the epoch).
            cursor: the ``next_cursor`` of the page before (the REST ``page_token``).
            newest_first: newest entries first (default: the chain's order, oldest first).
            max_results: page size, 1 to 10,000.

        Returns:
            An :class:`~steward.governance.AuditPage`: ``entries`` and ``next_cursor``
            (None on the last page).

        Raises:
            InvalidInputError: a page size, time or cursor out of range, or an over-long filter.
            PermissionDeniedError: on a server, a caller who may not read the audit trail
                (``audit.read``: administrators and reviewers on every project).

        Example:
            >>> page = Client().audit.list_entries(actor="alice", newest_first=True, max_results=50)  # doctest: +SKIP
            >>> older = Client().audit.list_entries(actor="alice", newest_first=True, cursor=page.next_cursor)  # doctest: +SKIP
        """
        ...

    def list(
        self,
        *,
        target: str | None = None,
        since: int | None = None,
        max_results: int = 1000,
        actor: str | None = None,
        action: str | None = None,
        until: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEntry]:
        """The first page of :meth:`list_entries` as a list (its filters; 1 to 10,000 entries)."""
        ...

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> ChainReport: ...
    def export(self) -> Iterator[dict[str, object]]: ...


class SecretsBackend(Protocol):
    """Encrypted secrets: names and history leave the store, never values."""

    def set_secret(self, name: str, value: str) -> SecretInfo: ...
    def list_secrets(self) -> list[SecretInfo]: ...
    def delete_secret(self, name: str) -> None: ...


class ImportBackend(Protocol):
    """Bringing another tool's store in (on a server: administrators)."""

    def import_mlflow(self, dump: Path) -> ImportSummary:
        """Import an export folder written by ``steward.migrate.export_mlflow`` (idempotent)."""
        ...


class EmbeddedImport:
    """Imports into the embedded store, as its configured user."""

    def __init__(self, services: Any) -> None:  # Any: steward.wiring.Services (kept out of the sdk's imports)
        self._services = services

    def import_mlflow(self, dump: Path) -> ImportSummary:
        from steward.migrate import import_dump

        return import_dump(dump, self._services.tracking(), self._services.registry())


class FirstPage:
    """``list()``, the first page of ``list_entries`` as a list, for both audit backends."""

    def list(
        self: AuditBackend,
        *,
        target: str | None = None,
        since: int | None = None,
        max_results: int = 1000,
        actor: str | None = None,
        action: str | None = None,
        until: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEntry]:
        return self.list_entries(
            target=target, actor=actor, action=action, since=since, until=until, newest_first=newest_first, max_results=max_results
        ).entries


class EmbeddedAudit(FirstPage):
    """The audit trail of the embedded store (the same answers as ``GET /api/v1/audit*``).

    Args:
        services: the process's ``steward.wiring.Services``.
    """

    def __init__(self, services: Any) -> None:  # Any: steward.wiring.Services (kept out of the sdk's imports)
        self._services = services

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
        page: AuditPage = self._services.audit().list_entries(
            target=target, actor=actor, action=action, since=since, until=until, cursor=cursor,
            newest_first=newest_first, max_results=max_results,
        )
        return page

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> ChainReport:
        report: ChainReport = self._services.audit().verify(expect_head=expect_head)
        return report

    def export(self) -> Iterator[dict[str, object]]:
        yield from self._services.audit().export()


if TYPE_CHECKING:
    from steward.governance import SecretsService

    from ._http_audit import HttpAudit, HttpImport, HttpSecrets

    def _both_implement(
        embedded: EmbeddedAudit, secrets: SecretsService, remote: HttpAudit, remote_secrets: HttpSecrets,
        imports: EmbeddedImport, remote_imports: HttpImport,
    ) -> tuple[AuditBackend, SecretsBackend, AuditBackend, SecretsBackend, ImportBackend, ImportBackend]:
        # mypy checks here that each implementation still fits its protocol
        return embedded, secrets, remote, remote_secrets, imports, remote_imports
