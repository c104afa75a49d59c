"""Validation suites: the YAML document users write, its JSON Schema, and parsing.

A suite names columns with their constraints (each constraint becomes one check) and
table-level checks (keys, duplicate rows, labels, leakage, splits, PII)::

    name: transactions
    rows: {min: 1000}
    columns:
      id: {type: integer, nullable: false, unique: true}
      amount: {type: float, max_missing: 0.05, min: 0, max: 100000}
      country: {type: string, allowed: [DE, FR, NL], max_new_share: 0.01}
    checks:
      - check: duplicate_rows
        max_share: 0.0
      - check: pii
        severity: warning

Parsing validates the document against :data:`SUITE_SCHEMA` and reports the line of
every fault, found from YAML's node marks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from steward.core.names import first_unsafe
from steward.errors import InvalidInputError

__all__ = [
    "CHECK_KINDS",
    "SUITE_SCHEMA",
    "TYPE_FAMILIES",
    "CheckSpec",
    "Severity",
    "Suite",
    "parse_suite",
    "schema_errors",
    "suite_faults",
]

Severity = Literal["error", "warning"]
TYPE_FAMILIES = ("integer", "float", "number", "string", "boolean", "date", "datetime", "time", "duration")
# Column-level constraints, in the order their checks are reported.
CHECK_KINDS = (
    "row_count",
    "present",
    "type",
    "not_null",
    "max_missing",
    "range",
    "allowed",
    "unique",
    "key",
    "duplicate_rows",
    "label_values",
    "class_balance",
    "label_conflicts",
    "leakage",
    "split_overlap",
    "time_split",
    "pii",
)
PII_KINDS = ("email", "phone", "card", "iban")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"

_SEVERITY: dict[str, Any] = {"enum": ["error", "warning"], "description": "error fails validation; warning only reports"}
_SHARE: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 1}
_COLUMNS: dict[str, Any] = {"type": "array", "items": {"type": "string"}, "minItems": 1}
_SCALAR: dict[str, Any] = {"type": ["string", "number", "boolean"]}
_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}


def _table_check(kind: str, required: Sequence[str], properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "if": {"properties": {"check": {"const": kind}}, "required": ["check"]},
        "then": {
            "description": description,
            "required": ["check", *required],
            "additionalProperties": False,
            "properties": {"check": {"const": kind}, "severity": _SEVERITY, **properties},
        },
    }


COLUMN_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "properties": {
        "description": {"type": "string"},
        "required": {"type": "boolean", "description": "the column must exist (default true)"},
        "type": {"enum": list(TYPE_FAMILIES), "description": "type family of the column"},
        "nullable": {"type": "boolean", "description": "false: no missing value allowed"},
        "max_missing": {**_SHARE, "description": "largest tolerated share of missing values"},
        "min": {"type": ["number", "string"], "description": "smallest allowed value"},
        "max": {"type": ["number", "string"], "description": "largest allowed value"},
        "allowed": {"type": "array", "items": _SCALAR, "minItems": 1, "description": "allowed categories"},
        "max_new_share": {**_SHARE, "description": "tolerated share of values outside `allowed`"},
        "unique": {"type": "boolean", "description": "every value appears once"},
        "severity": _SEVERITY,
    },
}

SUITE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Steward validation suite",
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": _NAME},
        "description": {"type": "string"},
        "severity": {**_SEVERITY, "description": "default severity of column checks"},
        "examples": {"type": "integer", "minimum": 0, "maximum": 1000, "description": "example values per failure"},
        "rows": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"min": _COUNT, "max": _COUNT, "severity": _SEVERITY},
        },
        "columns": {"type": ["object", "null"], "additionalProperties": COLUMN_SCHEMA},
        "checks": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "required": ["check"],
                "properties": {"check": {"enum": ["key", "duplicate_rows", "label", "leakage", "split_overlap", "time_split", "pii"]}},
                "allOf": [
                    _table_check("key", ["columns"], {"columns": _COLUMNS}, "the columns together identify a row"),
                    _table_check(
                        "duplicate_rows",
                        [],
                        {"columns": _COLUMNS, "max_share": _SHARE},
                        "share of rows repeating an earlier row",
                    ),
                    _table_check(
                        "label",
                        ["column"],
                        {
                            "column": {"type": "string"},
                            "allowed": {"type": "array", "items": _SCALAR, "minItems": 1},
                            "min_share": _SHARE,
                            "max_share": _SHARE,
                            "max_conflict_share": _SHARE,
                            "features": _COLUMNS,
                        },
                        "labels: allowed values, class balance, conflicting labels",
                    ),
                    _table_check(
                        "leakage",
                        ["target"],
                        {
                            "target": {"type": "string"},
                            "features": _COLUMNS,
                            "max_correlation": _SHARE,
                            "max_mutual_information": _SHARE,
                        },
                        "a feature predicts the target almost perfectly",
                    ),
                    _table_check(
                        "split_overlap",
                        ["split_column"],
                        {
                            "split_column": {"type": "string"},
                            "train": _SCALAR,
                            "test": _SCALAR,
                            "features": _COLUMNS,
                            "max_share": _SHARE,
                        },
                        "rows shared between the train and test splits",
                    ),
                    _table_check(
                        "time_split",
                        ["split_column", "time_column"],
                        {"split_column": {"type": "string"}, "time_column": {"type": "string"}, "train": _SCALAR, "test": _SCALAR},
                        "test rows must not precede training rows",
                    ),
                    _table_check(
                        "pii",
                        [],
                        {
                            "columns": _COLUMNS,
                            "kinds": {"type": "array", "items": {"enum": list(PII_KINDS)}, "minItems": 1},
                            "max_share": _SHARE,
                        },
                        "personal data patterns (e-mail, phone, card, IBAN)",
                    ),
                ],
            },
        },
    },
}


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One check to run, expanded from a suite.

    Attributes:
        kind: one of :data:`CHECK_KINDS`.
        columns: the columns it reads (empty for row counts).
        params: the check's parameters (bounds, allowed values, ...).
        severity: ``error`` fails validation, ``warning`` only reports.
        line: the suite line it comes from (1-based), when parsed from YAML.
    """

    kind: str
    columns: tuple[str, ...]
    params: Mapping[str, Any]  # Any: YAML scalars and lists
    severity: Severity
    line: int | None = None

    @property
    def column(self) -> str | None:
        """The one column, or the columns joined with ``+`` for compound checks."""
        return "+".join(self.columns) if self.columns else None


@dataclass(frozen=True, slots=True)
class Suite:
    """A parsed validation suite.

    Attributes:
        name: suite name.
        document: the validated YAML mapping (what :meth:`to_yaml` writes back).
        checks: the checks it expands to, in report order.
        text: the YAML text it was parsed from (canonical dump when built in code).
        version: the stored version number, when it came from the store.
    """

    name: str
    document: Mapping[str, Any]  # Any: validated YAML document
    checks: tuple[CheckSpec, ...]
    text: str
    version: int | None = None
    examples: int = 20
    columns_lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """sha256 of the YAML text: the same text is the same suite version."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def ref(self) -> str | None:
        """``suites:/<name>/<version>`` once stored."""
        return None if self.version is None else f"suites:/{self.name}/{self.version}"

    def to_yaml(self) -> str:
        """The suite as YAML text, editable by hand."""
        return self.text

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Suite:
        """Build a suite from a mapping (validated like a parsed file).

        Raises:
            InvalidInputError: the mapping does not follow :data:`SUITE_SCHEMA`.
        """
        text = yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=100, default_flow_style=None)
        return parse_suite(text)


class _LineFinder:
    """Maps a path of keys/indices in the YAML document to the line it sits on."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def line(self, path: Sequence[object], *, key: bool = False) -> int:
        node = self.root
        line = 1 if node is None else node.start_mark.line + 1
        for step in path:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == str(step):
                        line = (k if key else v).start_mark.line + 1
                        node = v
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def _validator() -> Any:  # Any: jsonschema has no precise public type for validator instances
    import jsonschema  # ~50 ms; only suite parsing needs it

    return jsonschema.Draft202012Validator(SUITE_SCHEMA)


def _describe(error: Any) -> str:  # Any: jsonschema.ValidationError
    where = ".".join(str(p) for p in error.absolute_path) or "document"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"{where}: unknown key {', '.join(repr(e) for e in extra)}"
    if error.validator == "required":
        return f"{where}: {error.message}"
    if error.validator == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        return f"{where}: {error.instance!r} is not one of {options}"
    return f"{where}: {error.message}"


def _compose(text: str) -> tuple[yaml.Node | None, Any]:  # Any: the YAML document
    """Parse once: the node tree (for line numbers) and the document built from it.

    libyaml's C loader when PyYAML has it: a suite with thousands of allowed values
    parses in milliseconds instead of a second.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        return node, (None if node is None else loader.construct_document(node))
    finally:
        loader.dispose()


def _faults(root: yaml.Node | None, document: Any) -> list[tuple[int, str]]:  # Any: YAML document
    if not isinstance(document, dict):
        return [(1, "a suite is a YAML mapping with at least a `name`")]
    finder = _LineFinder(root)
    faults: list[tuple[int, str]] = []
    for error in _validator().iter_errors(document):
        path = list(error.absolute_path)
        line = finder.line(path, key=False)
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            if extra:
                line = finder.line([*path, extra[0]], key=True)
        faults.append((line, _describe(error)))
    return sorted(set(faults))


def _syntax_fault(exc: yaml.YAMLError) -> tuple[int, str]:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return line, f"YAML syntax: {exc.problem or exc.context or 'invalid document'}"
    return 1, f"YAML syntax: {exc}"


def schema_errors(text: str) -> list[tuple[int, str]]:
    """Every fault of a suite document, as (line, message), sorted by line.

    Syntax errors of the YAML itself come back as one fault at their line. An empty
    list means the document follows :data:`SUITE_SCHEMA` (semantic faults such as a
    minimum above the maximum are found by :func:`parse_suite`).
    """
    try:
        root, document = _compose(text)
    except yaml.YAMLError as exc:
        return [_syntax_fault(exc)]
    return _faults(root, document)


class _Fault(Exception):
    """A semantic fault at a line; :func:`parse_suite` turns it into InvalidInputError."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _fail(line: int, message: str) -> _Fault:
    return _Fault(line, message)


def suite_faults(text: str) -> list[tuple[int, str]]:
    """Every fault :func:`parse_suite` would refuse, as (line, message); empty when valid."""
    try:
        _parse(text, None)
    except _Faults as faults:
        return faults.faults
    return []


class _Faults(Exception):
    def __init__(self, faults: list[tuple[int, str]]) -> None:
        super().__init__(faults[0][1])
        self.faults = faults


def _parse(text: str, version: int | None) -> Suite:
    if not text.strip():
        raise _Faults([(1, "the suite is empty; it needs at least a `name`")])
    try:
        root, document = _compose(text)
    except yaml.YAMLError as exc:
        raise _Faults([_syntax_fault(exc)]) from None
    faults = _faults(root, document)
    if faults:
        raise _Faults(faults)
    try:
        return _build(text, root, document, version)
    except _Fault as fault:
        raise _Faults([(fault.line, fault.message)]) from None


def parse_suite(text: str, *, version: int | None = None) -> Suite:
    """Parse and validate a suite document.

    Args:
        text: the YAML text.
        version: stored version number, when loading from the store.

    Returns:
        The :class:`Suite` with its checks expanded.

    Raises:
        InvalidInputError: naming the line of the first fault (syntax, schema, or a
            contradiction such as ``min`` above ``max``).

    Example:
        >>> parse_suite("name: s\\ncolumns:\\n  id: {type: integer, unique: true}\\n").checks[0].kind
        'present'
    """
    try:
        return _parse(text, version)
    except _Faults as exc:
        line, message = exc.faults[0]
        more = f" (and {len(exc.faults) - 1} more)" if len(exc.faults) > 1 else ""
        raise InvalidInputError(f"suite line {line}: {message}{more}", field="suite") from None


def _build(text: str, root: yaml.Node | None, document: dict[str, Any], version: int | None) -> Suite:
    finder = _LineFinder(root)
    default: Severity = document.get("severity", "error")
    checks: list[CheckSpec] = []
    rows = document.get("rows")
    if rows:
        lo, hi = rows.get("min"), rows.get("max")
        if lo is not None and hi is not None and lo > hi:
            raise _fail(finder.line(["rows", "min"]), f"rows.min ({lo}) is above rows.max ({hi})")
        checks.append(CheckSpec("row_count", (), {"min": lo, "max": hi}, rows.get("severity", default), finder.line(["rows"], key=True)))
    column_lines: dict[str, int] = {}
    for name, spec in (document.get("columns") or {}).items():
        spec = spec or {}
        line = finder.line(["columns", name], key=True)
        column_lines[str(name)] = line
        checks.extend(_column_checks(str(name), spec, spec.get("severity", default), line, finder))
    for index, item in enumerate(document.get("checks") or []):
        line = finder.line(["checks", index])
        checks.extend(_table_checks(item, line))
    examples = int(document.get("examples", 20))
    return Suite(document["name"], document, tuple(checks), text, version, examples, column_lines)


def _column_checks(name: str, spec: Mapping[str, Any], severity: Severity, line: int, finder: _LineFinder) -> list[CheckSpec]:
    cols = (name,)

    def at(key: str) -> int:
        return finder.line(["columns", name, key], key=True)

    out: list[CheckSpec] = []
    required = spec.get("required", True)
    out.append(CheckSpec("present", cols, {"required": required}, severity, line))
    if "type" in spec:
        out.append(CheckSpec("type", cols, {"type": spec["type"]}, severity, at("type")))
    if spec.get("nullable") is False:
        out.append(CheckSpec("not_null", cols, {}, severity, at("nullable")))
    if "max_missing" in spec:
        out.append(CheckSpec("max_missing", cols, {"max_share": float(spec["max_missing"])}, severity, at("max_missing")))
    if "min" in spec or "max" in spec:
        lo, hi = spec.get("min"), spec.get("max")
        if lo is not None and hi is not None and type(lo) is type(hi) and lo > hi:
            raise _fail(at("min"), f"columns.{name}: min ({lo}) is above max ({hi})")
        out.append(CheckSpec("range", cols, {"min": lo, "max": hi}, severity, at("min" if "min" in spec else "max")))
    if "allowed" in spec:
        out.append(
            CheckSpec(
                "allowed", cols, {"allowed": list(spec["allowed"]), "max_new_share": float(spec.get("max_new_share", 0.0))}, severity, at("allowed")
            )
        )
    elif "max_new_share" in spec:
        raise _fail(at("max_new_share"), f"columns.{name}: max_new_share needs an `allowed` list")
    if spec.get("unique"):
        out.append(CheckSpec("unique", cols, {}, severity, at("unique")))
    return out


def _table_checks(item: Mapping[str, Any], line: int) -> list[CheckSpec]:
    kind = item["check"]
    severity: Severity = item.get("severity", "warning" if kind == "pii" else "error")
    features = tuple(item.get("features", ()))
    if kind == "key":
        return [CheckSpec("key", tuple(item["columns"]), {}, severity, line)]
    if kind == "duplicate_rows":
        return [CheckSpec("duplicate_rows", tuple(item.get("columns", ())), {"max_share": float(item.get("max_share", 0.0))}, severity, line)]
    if kind == "label":
        col = (item["column"],)
        out = []
        if "allowed" in item:
            out.append(CheckSpec("label_values", col, {"allowed": list(item["allowed"]), "max_new_share": 0.0}, severity, line))
        if "min_share" in item or "max_share" in item:
            lo, hi = item.get("min_share", 0.0), item.get("max_share", 1.0)
            if lo > hi:
                raise _fail(line, f"label: min_share ({lo}) is above max_share ({hi})")
            out.append(CheckSpec("class_balance", col, {"min_share": float(lo), "max_share": float(hi)}, severity, line))
        out.append(
            CheckSpec(
                "label_conflicts", col, {"features": features, "max_share": float(item.get("max_conflict_share", 0.0))}, severity, line
            )
        )
        return out
    if kind == "leakage":
        params = {
            "features": features,
            "max_correlation": float(item.get("max_correlation", 0.95)),
            "max_mutual_information": float(item.get("max_mutual_information", 0.9)),
        }
        return [CheckSpec("leakage", (item["target"],), params, severity, line)]
    if kind == "split_overlap":
        params = {
            "train": item.get("train", "train"),
            "test": item.get("test", "test"),
            "features": features,
            "max_share": float(item.get("max_share", 0.0)),
        }
        return [CheckSpec("split_overlap", (item["split_column"],), params, severity, line)]
    if kind == "time_split":
        params = {"train": item.get("train", "train"), "test": item.get("test", "test")}
        return [CheckSpec("time_split", (item["split_column"], item["time_column"]), params, severity, line)]
    # pii
    params = {"kinds": tuple(item.get("kinds", PII_KINDS)), "max_share": float(item.get("max_share", 0.0))}
    return [CheckSpec("pii", tuple(item.get("columns", ())), params, severity, line)]


def suite_name_is_valid(name: str) -> bool:
    """True when ``name`` can name a suite."""
    # fullmatch: the schema's "$" (ECMA-262) would let Python's re accept a trailing newline
    return isinstance(name, str) and first_unsafe(name) is None and re.fullmatch(_NAME, name) is not None
