"""Data stage: dataset versions, profiles, lineage, validation suites and skew."""

from __future__ import annotations

from ._diff import ColumnDiff, DatasetDiff
from ._hashing import HASH_FORMAT, ContentHasher, canonical_schema
from ._infer import infer_suite
from ._lineage import ROLES, Lineage
from ._ports import DatasetSummary, DataStore, InputUse
from ._profile import profile
from ._report import CheckResult, ValidationResult
from ._sdk import get, lineage, load, register
from ._service import DataService
from ._skew import FeatureSkew, SkewResult, skew
from ._suite import SUITE_SCHEMA, CheckSpec, Suite, parse_suite, schema_errors
from ._validate import validate
from ._validation_ports import ResultRecord, SuiteRecord
from ._validation_service import ValidationService
from ._versions import ColumnSchema, DatasetRef, DatasetVersion, parse_ref

__all__ = [
    "HASH_FORMAT",
    "ROLES",
    "ColumnDiff",
    "ColumnSchema",
    "ContentHasher",
    "DataService",
    "DataStore",
    "DatasetDiff",
    "DatasetRef",
    "DatasetSummary",
    "DatasetVersion",
    "InputUse",
    "Lineage",
    "canonical_schema",
    "get",
    "lineage",
    "load",
    "register",
    "parse_ref",
    "profile",
    # validation
    "SUITE_SCHEMA",
    "CheckResult",
    "CheckSpec",
    "FeatureSkew",
    "ResultRecord",
    "SkewResult",
    "Suite",
    "SuiteRecord",
    "ValidationResult",
    "ValidationService",
    "infer_suite",
    "parse_suite",
    "schema_errors",
    "skew",
    "validate",
]
