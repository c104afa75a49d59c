"""Validation as a service: stored suites, validation of versions and files, results, skew."""

from __future__ import annotations

import re
import time
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from steward.core.names import check_name
from steward.core.permissions import new_project
from steward.errors import InvalidInputError, NotFoundError
from steward.tracking._ports import AuditEvent

from ._infer import infer_suite
from ._report import ValidationResult
from ._suite import Suite, parse_suite, suite_name_is_valid
from ._validate import as_lazy, validate
from ._validation_ports import ResultRecord, SuiteRecord, ValidationStore

if TYPE_CHECKING:
    import polars as pl

    from ._skew import SkewResult

__all__ = ["DataReader", "FileReader", "ValidationService", "parse_suite_ref"]

_SUITE_REF = re.compile(r"^(?:suites:/(?P<a>[^/]+)(?:/(?P<av>\d+))?|(?P<b>[^:/]+)(?::(?P<bv>\d+))?)$")


class DataReader(Protocol):
    """What validation needs from the data stage: dataset versions and files as frames."""

    def scan(self, ref: str) -> pl.LazyFrame: ...
    def load_source(self, source: object) -> pl.DataFrame: ...


def parse_suite_ref(ref: str) -> tuple[str, int | None]:
    """``suites:/name/3``, ``name:3`` or ``name`` (latest) as (name, version).

    Raises:
        InvalidInputError: anything else.
    """
    match = _SUITE_REF.match(ref.strip())
    if not match:
        raise InvalidInputError(f"not a suite reference: {ref[:100]!r} (expected name, name:3 or suites:/name/3)", field="suite")
    name = match.group("a") or match.group("b")
    version = match.group("av") or match.group("bv")
    if not suite_name_is_valid(name):
        raise InvalidInputError(f"invalid suite name {name[:100]!r}", field="suite")
    return name, int(version) if version else None


def _looks_like_dataset_ref(text: str) -> bool:
    return text.startswith("datasets:/") or re.match(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*:(\d+|latest|[0-9a-f]{6,64})$", text) is not None


class ValidationService:
    """Suites, validation and skew, acting as one actor.

    Args:
        store: where suites and results live.
        data: the data stage (versions and files as polars frames).
        actor: recorded in the audit trail.
    """

    def __init__(self, store: ValidationStore, data: DataReader, actor: str) -> None:
        self._store = store
        self._data = data
        self.actor = actor

    def _audit(self, action: str, target: str, **details: object) -> AuditEvent:
        return AuditEvent(self.actor, action, target, int(time.time() * 1000), dict(details))

    # -- suites ------------------------------------------------------------------------

    def create_suite(self, suite: Suite | str, *, project: str | None = None) -> Suite:
        """Store a suite (a parsed :class:`Suite` or YAML text) as its next version.

        Storing the text of the latest version again returns that version unchanged. A new
        suite belongs to ``project`` (default: its name); later versions keep the first's.

        Raises:
            InvalidInputError: the YAML is malformed (naming the line); nothing is stored.
        """
        parsed = parse_suite(suite) if isinstance(suite, str) else suite
        check_name(parsed.name, "name", kind="suite name")
        if not suite_name_is_valid(parsed.name):
            raise InvalidInputError(f"invalid suite name {parsed.name[:100]!r}", field="name")
        record, _created = self._store.add_suite(
            parsed.name, parsed.text, parsed.content_hash, int(time.time() * 1000), self._audit("create_suite", f"suites:/{parsed.name}"),
            new_project(parsed.name, project),
        )
        return replace(parsed, version=record.version)

    def get_suite(self, ref: str) -> Suite:
        """A stored suite by ``name`` (latest), ``name:3`` or ``suites:/name/3``.

        Raises:
            NotFoundError: no such suite or version.
        """
        name, version = parse_suite_ref(ref)
        record = self._store.get_suite(name, version)
        return parse_suite(record.yaml, version=record.version)

    def get_suite_record(self, ref: str) -> SuiteRecord:
        """The stored record (text, hash, author) of a suite version."""
        name, version = parse_suite_ref(ref)
        return self._store.get_suite(name, version)

    def list_suites(self, name: str | None = None, *, projects: Collection[str] | None = None) -> list[SuiteRecord]:
        """Every stored suite version (of ``name``; of ``projects`` when given)."""
        return self._store.list_suites(name, projects)

    def resolve_suite(self, spec: Suite | str | Path) -> Suite:
        """A suite from a :class:`Suite`, a YAML file path, or a stored suite reference."""
        if isinstance(spec, Suite):
            return spec
        path = Path(spec)
        if path.suffix.lower() in (".yaml", ".yml") or path.exists():
            if not path.is_file():
                raise NotFoundError(f"no suite file at {str(path)[:300]!r}", field="suite")
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInputError(f"cannot read suite file {str(path)[:300]!r}: {exc}", field="suite") from exc
            return parse_suite(text)
        return self.get_suite(str(spec))

    # -- data --------------------------------------------------------------------------

    def resolve_data(self, data: Any) -> tuple[pl.LazyFrame, str, bool]:  # Any: frame, path or ref
        """(frame, how to name it, whether it is a stored dataset version)."""
        if isinstance(data, str | Path):
            text = str(data)
            if Path(text).exists() or not _looks_like_dataset_ref(text):
                scanned = _scan_parquet(text)
                return (scanned if scanned is not None else as_lazy(self._data.load_source(text))), text, False
            return self._data.scan(text), text, True
        return as_lazy(data), f"<{type(data).__name__}>", False

    def validate(self, data: Any, suite: Suite | str | Path, *, record: bool = True, examples: int | None = None) -> ValidationResult:
        """Validate data (a dataset version ref, a file, or a frame) with a suite.

        The result is stored (with an audit row) when both the data and the suite are
        stored versions and ``record`` is true.

        Args:
            data: ``datasets:/name/3``, ``name:3``, a path, or a frame.
            suite: a :class:`Suite`, a YAML file, or a stored suite reference.
            record: store the result of a stored version against a stored suite.
            examples: example values per failed check.

        Returns:
            The :class:`ValidationResult` (``.passed``, ``.checks``).

        Raises:
            NotFoundError: an unknown dataset version, file or suite.
            InvalidInputError: unreadable data or a malformed suite.

        Example:
            >>> result = services.validation().validate("transactions:3", "transactions")  # doctest: +SKIP
            >>> result.passed  # doctest: +SKIP
            True
        """
        resolved = self.resolve_suite(suite)
        frame, name, stored = self.resolve_data(data)
        result = validate(frame, resolved, dataset=name, examples=examples)
        if record and stored and resolved.ref is not None:
            self._store.add_result(
                ResultRecord(None, resolved.ref, name, result.passed, _summary(result), result.created_at, self.actor),
                self._audit("validate", name),
            )
        return result

    def validate_version(self, dataset: str, suite: str, *, examples: int | None = None) -> ValidationResult:
        """Validate a stored dataset version with a stored suite and record the result.

        Unlike :meth:`validate`, never reads files: the server uses it so that clients
        cannot make it open paths on its disk.

        Raises:
            InvalidInputError: ``dataset`` is not a dataset version reference.
            NotFoundError: an unknown version or suite.
        """
        if not _looks_like_dataset_ref(dataset):
            raise InvalidInputError(
                f"not a dataset version reference: {dataset[:100]!r} (expected name:3 or datasets:/name/3)", field="dataset"
            )
        resolved = self.get_suite(suite)
        frame = self._data.scan(dataset)
        result = validate(frame, resolved, dataset=dataset, examples=examples)
        assert resolved.ref is not None
        self._store.add_result(
            ResultRecord(None, resolved.ref, dataset, result.passed, _summary(result), result.created_at, self.actor),
            self._audit("validate", dataset),
        )
        return result

    def delete_suite(self, name: str) -> int:
        """Delete every version of a suite (results keep their refs). Returns versions deleted.

        Raises:
            NotFoundError: no such suite.
        """
        return self._store.delete_suite(name, self._audit("delete_suite", f"suites:/{name}"))

    def list_results(
        self, dataset: str | None = None, suite: str | None = None, limit: int = 100, *, projects: Collection[str] | None = None
    ) -> list[ResultRecord]:
        """Stored results (newest first), optionally for one dataset ref or suite ref."""
        return self._store.list_results(dataset, suite, limit, projects)

    def infer(self, data: Any, name: str, *, store: bool = True, description: str | None = None) -> Suite:
        """Infer a suite from a dataset version, file or frame, and (by default) store it.

        Raises:
            InvalidInputError: an invalid name or empty data; nothing is stored.
        """
        if not suite_name_is_valid(name):
            raise InvalidInputError(f"invalid suite name {name[:100]!r}", field="name")
        frame, label, _stored = self.resolve_data(data)
        suite = infer_suite(frame, name, description=description or f"inferred from {label}")
        return self.create_suite(suite) if store else suite

    def skew(self, reference: Any, current: Any, suite: Suite | str | Path | None = None) -> SkewResult:
        """Validate ``current`` with ``suite`` and compare each feature with ``reference``."""
        from ._skew import skew  # numpy/scipy maths only when skew is asked for

        resolved = None if suite is None else self.resolve_suite(suite)
        ref, ref_name, _ = self.resolve_data(reference)
        cur, cur_name, _ = self.resolve_data(current)
        return skew(ref, cur, resolved, reference_name=ref_name, current_name=cur_name)


def _scan_parquet(path: str) -> pl.LazyFrame | None:
    """A single Parquet file as a lazy polars scan (reads only what the checks need).

    None for anything else, or when polars cannot read it: the data stage's loader then
    reads it or explains what is wrong (truncated, unknown format) in one clear message.
    """
    if not path.lower().endswith((".parquet", ".pq", ".parq")) or not Path(path).is_file():
        return None
    import polars as pl

    try:
        frame = pl.scan_parquet(path)
        frame.collect_schema()
        return frame
    except (pl.exceptions.PolarsError, OSError):
        return None


def _summary(result: ValidationResult) -> dict[str, Any]:  # Any: JSON document
    return {
        **result.summary(),
        "num_rows": result.num_rows,
        "failed": [{"name": c.name, "column": c.column, "severity": c.severity, "message": c.message} for c in result.failures][:100],
    }


class FileReader:
    """A :class:`DataReader` for files and frames only (no store of dataset versions).

    Used where no data service is wired; dataset version refs raise NotFoundError.
    """

    def scan(self, ref: str) -> pl.LazyFrame:
        raise NotFoundError(f"dataset version {ref[:100]!r} not found: no dataset store is configured", field="data")

    def load_source(self, source: object) -> pl.DataFrame:
        import polars as pl

        from ._loading import read_table

        frame = pl.from_arrow(read_table(source))
        assert isinstance(frame, pl.DataFrame)
        return frame
