"""What validation needs from storage, as a protocol the SQL adapter implements."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from steward.tracking._ports import AuditEvent

__all__ = ["ResultRecord", "SuiteRecord", "ValidationStore"]


@dataclass(frozen=True, slots=True)
class SuiteRecord:
    """One stored version of a validation suite.

    Attributes:
        name: suite name.
        version: 1-based version within the name.
        yaml: the suite text as stored.
        content_hash: sha256 of the text.
        created_at: ms since epoch, UTC.
        created_by: actor who stored it.
    """

    name: str
    version: int
    yaml: str
    content_hash: str
    created_at: int
    created_by: str

    @property
    def ref(self) -> str:
        """``suites:/<name>/<version>``."""
        return f"suites:/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "version": self.version,
            "ref": self.ref,
            "content_hash": self.content_hash,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "yaml": self.yaml,
        }


@dataclass(frozen=True, slots=True)
class ResultRecord:
    """One stored validation result (its summary: pass/fail, counts and failed checks)."""

    result_id: int | None
    suite_ref: str
    dataset_ref: str
    passed: bool
    summary: dict[str, Any]  # Any: JSON document
    created_at: int
    created_by: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "result_id": self.result_id,
            "suite": self.suite_ref,
            "dataset": self.dataset_ref,
            "passed": self.passed,
            "summary": self.summary,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }


class ValidationStore(Protocol):
    """Metadata storage of suites and results."""

    def add_suite(
        self, name: str, text: str, content_hash: str, now: int, audit: AuditEvent, project: str | None = None
    ) -> tuple[SuiteRecord, bool]: ...
    def get_suite(self, name: str, version: int | None) -> SuiteRecord: ...
    def list_suites(self, name: str | None = None, projects: Collection[str] | None = None) -> list[SuiteRecord]: ...
    def delete_suite(self, name: str, audit: AuditEvent) -> int: ...
    def add_result(self, record: ResultRecord, audit: AuditEvent) -> ResultRecord: ...
    def list_results(
        self, dataset_ref: str | None = None, suite_ref: str | None = None, limit: int = 100,
        projects: Collection[str] | None = None,
    ) -> list[ResultRecord]: ...
