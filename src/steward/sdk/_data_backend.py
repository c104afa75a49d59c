"""What the SDK and CLI call for dataset versions and validation.

Each protocol has two implementations: the embedded stage service itself
(:class:`~steward.data.DataService`, :class:`~steward.data.ValidationService`) and an
HTTP one that talks to a Steward server (``_http_data``).
:class:`~steward.sdk.Client` hands out the right one, so no command knows which it has.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    # the data stage pulls in polars: only for annotations here
    import polars as pl

    from steward.data import (
        DatasetDiff,
        DatasetSummary,
        DatasetVersion,
        Lineage,
        SkewResult,
        Suite,
        SuiteRecord,
        ValidationResult,
    )

__all__ = ["DataBackend", "ValidationBackend"]


class DataBackend(Protocol):
    """Dataset versions: register, find, read, compare and trace them."""

    def register(
        self, name: str, source: Any, *, reference_only: bool = False, description: str | None = None,  # Any: path, frame or table
        project: str | None = None,
    ) -> DatasetVersion: ...
    def get(self, ref: str) -> DatasetVersion: ...
    def list(self, name: str | None = None) -> list[DatasetVersion]: ...
    def list_datasets(self) -> builtins.list[DatasetSummary]: ...
    def load(self, ref: str) -> pl.DataFrame: ...
    def scan(self, ref: str) -> pl.LazyFrame: ...
    def diff(self, a: str, b: str) -> DatasetDiff: ...
    def lineage(self, ref: str) -> Lineage: ...


class ValidationBackend(Protocol):
    """Validation suites, validation and training/serving skew."""

    def infer(self, data: Any, name: str, *, store: bool = True, description: str | None = None) -> Suite: ...  # Any: ref, path or frame
    def validate(self, data: Any, suite: Any, *, record: bool = True, examples: int | None = None) -> ValidationResult: ...  # Any: as infer; suite ref, file or Suite
    def skew(self, reference: Any, current: Any, suite: Any = None) -> SkewResult: ...  # Any: as validate
    def list_suites(self, name: str | None = None) -> list[SuiteRecord]: ...
    def get_suite_record(self, ref: str) -> SuiteRecord: ...
    def create_suite(self, suite: Any, *, project: str | None = None) -> Suite: ...  # Any: a Suite or YAML text


if TYPE_CHECKING:
    from steward.data import DataService, ValidationService

    from ._http_data import HttpData, HttpValidation

    def _both_implement(
        embedded: DataService, checks: ValidationService, remote: HttpData, remote_checks: HttpValidation
    ) -> tuple[DataBackend, ValidationBackend, DataBackend, ValidationBackend]:
        # mypy checks here that each implementation still fits its protocol
        return embedded, checks, remote, remote_checks
