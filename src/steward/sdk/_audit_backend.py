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
    from steward.governance import ChainReport, SecretInfo
    from steward.migrate import ImportSummary

__all__ = ["AuditBackend", "EmbeddedAudit", "EmbeddedImport", "ImportBackend", "SecretsBackend"]


class AuditBackend(Protocol):
    """The hash-chained audit trail: read, verify and export it (the last two: administrators)."""

    def list(self, *, target: str | None = None, since: int | None = None, max_results: int = 1000) -> list[AuditEntry]: ...
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


class EmbeddedAudit:
    """The audit trail of the embedded store (the same answers as ``GET /api/v1/audit*``).

    Args:
        services: the process's ``steward.wiring.Services``.
    """

    def __init__(self, services: Any) -> None:  # Any: steward.wiring.Services (kept out of the sdk's imports)
        self._services = services

    def list(self, *, target: str | None = None, since: int | None = None, max_results: int = 1000) -> list[AuditEntry]:
        found: list[AuditEntry] = self._services.store.list_audit(target=target, since=since, limit=max_results)
        return found

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
