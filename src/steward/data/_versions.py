"""Dataset versions and the references that name them (``datasets:/name/3``, ``name:3``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from steward.core.names import check_name
from steward.errors import InvalidInputError

__all__ = ["ColumnSchema", "DatasetRef", "DatasetVersion", "Storage", "parse_ref", "validate_name"]

Storage = Literal["stored", "reference"]

# Dataset names: like model names, readable in a URI path segment and a shell.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}")
_HEX = re.compile(r"[0-9a-f]{6,64}")


class ColumnSchema(NamedTuple):
    """One column of a version's canonical schema; unpacks as ``(name, type, nullable)``.

    Attributes:
        name: column name.
        type: Arrow type string of the canonical form (``int64``, ``large_string``, ...).
        nullable: whether the column holds at least one null.
    """

    name: str
    type: str
    nullable: bool


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One immutable version of a named dataset, identified by its content hash.

    Attributes:
        name: dataset name.
        version: 1-based version number within the name.
        content_hash: sha256 hex of the canonical Arrow content (see ``steward.data`` docs).
        num_rows: rows.
        num_columns: columns.
        schema: canonical schema, in column order.
        profile: per-column statistics (``{"columns": {name: {...}}, ...}``).
        source: where the data came from (a path, URL or ``<pandas.DataFrame>``).
        storage: ``stored`` (Parquet in the artifact store) or ``reference`` (left in place).
        artifact_digest: sha256 of the stored Parquet blob (``None`` for a reference).
        artifact_uri: where the data lives: ``blobs:/<digest>`` or the referenced path.
        size_bytes: size of the stored Parquet (or the referenced files).
        description: free text.
        created_at: ms since epoch, UTC.
        created_by: actor who registered it.
    """

    name: str
    version: int
    content_hash: str
    num_rows: int
    num_columns: int
    schema: tuple[ColumnSchema, ...]
    profile: dict[str, object]
    source: str
    storage: Storage
    artifact_digest: str | None
    artifact_uri: str
    size_bytes: int
    description: str | None
    created_at: int
    created_by: str

    @property
    def ref(self) -> str:
        """The canonical reference, ``datasets:/<name>/<version>``."""
        return f"datasets:/{self.name}/{self.version}"

    @property
    def short_hash(self) -> str:
        """First 12 hex of the content hash, shown next to every version."""
        return self.content_hash[:12]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (the REST and ``--json`` shape)."""
        return {
            "name": self.name,
            "version": self.version,
            "ref": self.ref,
            "content_hash": self.content_hash,
            "short_hash": self.short_hash,
            "num_rows": self.num_rows,
            "num_columns": self.num_columns,
            "schema": [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in self.schema],
            "profile": self.profile,
            "source": self.source,
            "storage": self.storage,
            "artifact_digest": self.artifact_digest,
            "artifact_uri": self.artifact_uri,
            "size_bytes": self.size_bytes,
            "description": self.description,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """A parsed reference: a name with a version, the latest of a name, or a hash prefix.

    Exactly one of the forms holds: ``name`` alone (latest), ``name`` + ``version``,
    ``name`` + ``hash_prefix`` (``name@abc123``) or ``hash_prefix`` alone.
    """

    name: str | None = None
    version: int | None = None
    hash_prefix: str | None = None
    text: str = field(default="", compare=False)


def validate_name(name: str) -> str:
    """Check a dataset name.

    Raises:
        InvalidInputError: the name is empty, too long or has characters outside
            letters, digits, ``_``, ``.`` and ``-``.
    """
    if isinstance(name, str):
        check_name(name, "name", kind="dataset name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = str(name)[:60]
        raise InvalidInputError(
            f"dataset name {shown!r} is invalid: use 1-200 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit",
            field="name",
        )
    return name


def parse_ref(ref: str) -> DatasetRef:
    """Parse a dataset reference.

    Accepted: ``datasets:/name/3``, ``datasets:/name`` (latest), ``name:3``, ``name``
    (latest), ``name@<hex prefix>``, or a bare content-hash prefix of 6 to 64 hex digits.
    A bare token that is both a valid name and 6+ hex digits is read as a hash prefix
    only when no dataset has that name (the service decides).

    Raises:
        InvalidInputError: the text fits none of the forms.
    """
    text = ref.strip() if isinstance(ref, str) else ""
    if not text:
        raise InvalidInputError("dataset reference is empty", field="ref")
    shown = text[:80]
    if text.startswith("datasets:/"):
        parts = text.removeprefix("datasets:/").strip("/").split("/")
        if len(parts) == 1 and parts[0]:
            return DatasetRef(name=validate_name(parts[0]), text=text)
        if len(parts) == 2:
            return DatasetRef(name=validate_name(parts[0]), version=_version(parts[1], shown), text=text)
        raise InvalidInputError(f"dataset reference {shown!r} is not datasets:/<name>/<version>", field="ref")
    if "@" in text:
        name, _, prefix = text.partition("@")
        prefix = prefix.lower()
        if not _HEX.fullmatch(prefix):
            raise InvalidInputError(
                f"dataset reference {shown!r}: after '@' give 6 to 64 hex digits of the content hash", field="ref"
            )
        return DatasetRef(name=validate_name(name), hash_prefix=prefix, text=text)
    if ":" in text:
        name, _, version = text.rpartition(":")
        return DatasetRef(name=validate_name(name), version=_version(version, shown), text=text)
    if _HEX.fullmatch(text.lower()) and not _NAME.fullmatch(text):
        return DatasetRef(hash_prefix=text.lower(), text=text)
    if _HEX.fullmatch(text.lower()):
        # could be either; the service tries the name first, then the hash
        return DatasetRef(name=text, hash_prefix=text.lower(), text=text)
    return DatasetRef(name=validate_name(text), text=text)


def _version(text: str, shown: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise InvalidInputError(f"dataset reference {shown!r}: the version must be a positive integer", field="ref")
    return int(text)
