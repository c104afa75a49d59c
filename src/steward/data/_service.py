"""The data stage's service: register, find, load, compare and trace dataset versions."""

from __future__ import annotations

import builtins
import hashlib
import os
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from steward.core.permissions import new_project
from steward.errors import IntegrityError, InvalidInputError, NotFoundError
from steward.tracking._ports import AuditEvent, BlobStore

from ._diff import DatasetDiff, diff_versions
from ._hashing import ContentHasher
from ._lineage import Lineage
from ._loading import BATCH_ROWS, DataSource, SchemaChangedError, open_source, read_table
from ._pins import pinned_ref
from ._ports import DatasetSummary, DataStore
from ._profile import profile, profile_batches
from ._versions import ColumnSchema, DatasetVersion, parse_ref, validate_name

__all__ = ["DataService"]

# Staged data up to this size in memory (uncompressed, as its Parquet metadata says) is
# profiled in one polars query, exactly and fast; larger data is streamed in batches
# through sketches of constant size (see ``_profile``). Polars' own streaming engine is no
# substitute: its value_counts held whole columns, so the profile's peak grew with the
# file (0.6 GB for 9M rows, 1.1 GB for 18M). At 64 MB the in-memory profile peaks where
# the streamed one does (about 360 MB RSS, measured), so neither path sets a higher peak.
PROFILE_IN_MEMORY_BYTES = 64 << 20
_ROW_GROUP_ROWS = 262_144
# 65,536-row batches halved the Parquet reader's buffers against whole 262,144-row groups
# (peak 347 MB against 494 MB profiling 9M rows), at no cost in time.
_PROFILE_BATCH_ROWS = BATCH_ROWS


class DataService:
    """Dataset versions for one actor.

    Args:
        store: metadata store of versions (and run inputs, for lineage).
        blobs: content-addressed artifact store that keeps the data as Parquet.
        actor: who is acting, recorded in the audit trail.
        tmp_dir: where to stage Parquet files while registering (default: the OS's).
        profile_in_memory_bytes: data larger than this in memory is profiled by streaming
            (bounded memory; distinct counts and top categories may become estimates).

    Example:
        >>> data = services.data("alice")  # doctest: +SKIP
        >>> v = data.register("transactions", "transactions.parquet")  # doctest: +SKIP
        >>> v.ref, v.short_hash  # doctest: +SKIP
        ('datasets:/transactions/1', '3f9a0c1d2e4b')
    """

    def __init__(
        self,
        store: DataStore,
        blobs: BlobStore,
        actor: str,
        *,
        tmp_dir: str | None = None,
        profile_in_memory_bytes: int = PROFILE_IN_MEMORY_BYTES,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.actor = actor
        self.tmp_dir = tmp_dir
        self.profile_in_memory_bytes = profile_in_memory_bytes

    # -- register -----------------------------------------------------------------------

    def register(
        self, name: str, source: object, *, reference_only: bool = False, description: str | None = None,
        project: str | None = None, label: str | None = None,
    ) -> DatasetVersion:
        """Register ``source`` as the next version of dataset ``name``.

        The data is streamed once: hashed in canonical form (see ``steward.data._hashing``),
        staged as Parquet and profiled. Identical content already registered under
        ``name`` returns that version and writes nothing.

        Args:
            name: dataset name (letters, digits, ``_ . -``).
            source: pandas / polars DataFrame, pyarrow Table, or a Parquet/CSV file or folder path.
            reference_only: keep only the path, hash, schema and profile; leave the data where
                it is (only for path sources).
            description: free text.
            project: the project a new dataset belongs to (default: its name); an existing
                dataset keeps its own.
            label: what to record as the version's source (default: the path or the
                frame's type); the server records the client's file name of an upload.

        Returns:
            The new (or existing identical) version.

        Raises:
            InvalidInputError: a bad name, an unreadable, truncated or unknown-format file, an
                empty table, a column that mixes types.
            NotFoundError: a path that does not exist.
            StorageError: the metadata or artifact store failed.
        """
        validate_name(name)
        owner = new_project(name, project)
        if description is not None and len(description) > 10_000:
            raise InvalidInputError("description is longer than 10,000 characters", field="description")
        opened = open_source(source)
        if reference_only and not opened.paths:
            raise InvalidInputError(
                "reference_only needs a file or folder path: in-memory data has no place to refer to",
                field="reference_only",
            )
        with tempfile.TemporaryDirectory(prefix="steward-data-", dir=self.tmp_dir) as tmp:
            staged = os.path.join(tmp, "data.parquet")
            digest, num_rows, nulls = self._single_pass(opened, staged)
            schema = opened.schema
            if not len(schema):
                raise InvalidInputError(f"{opened.description[:300]!r} has no columns", field="source")
            if num_rows == 0:
                raise InvalidInputError(f"{opened.description[:300]!r} has no rows", field="source")
            existing = self.store.find_dataset_versions_by_hash(digest, name)
            if existing:
                return existing[0]
            prof = self._profile_staged(staged, num_rows)
            if any(p.lower().endswith(_TEXT_SUFFIXES) for p in opened.paths) or opened.warnings:
                prof["warnings"] = [*opened.warnings, *_mixed_text(pl.scan_parquet(staged), opened.warnings), *prof["warnings"]]
            if reference_only:
                blob, uri, size = None, opened.description, opened.size_bytes
            else:
                blob, size = self._store_blob(digest, staged)
                uri = f"blobs:/{blob}"
        now = int(time.time() * 1000)
        version = DatasetVersion(
            name=name,
            version=0,
            content_hash=digest,
            num_rows=num_rows,
            num_columns=len(schema),
            schema=tuple(ColumnSchema(f.name, str(f.type), nulls[i] > 0) for i, f in enumerate(schema)),
            profile=prof,
            source=label or opened.description,
            storage="reference" if reference_only else "stored",
            artifact_digest=blob,
            artifact_uri=uri,
            size_bytes=size,
            description=description,
            created_at=now,
            created_by=self.actor,
        )
        audit = AuditEvent(
            self.actor,
            "datasets.register",
            f"datasets:/{name}",
            now,
            {"content_hash": digest, "num_rows": num_rows, "storage": version.storage},
        )
        return self.store.add_dataset_version(version, audit, owner)

    def _single_pass(self, opened: DataSource, staged: str) -> tuple[str, int, builtins.list[int]]:
        """Hash and stage the data in one read; restart when a CSV column had to widen."""
        while True:
            hasher = ContentHasher(opened.schema)
            nulls = [0] * len(opened.schema)
            try:
                with pq.ParquetWriter(staged, opened.schema, compression="zstd") as writer:
                    pending: builtins.list[pa.RecordBatch] = []
                    pending_rows = 0
                    for batch in opened.batches():
                        hasher.update(batch)
                        for i, column in enumerate(batch.columns):
                            nulls[i] += column.null_count
                        pending.append(batch)
                        pending_rows += batch.num_rows
                        if pending_rows >= _ROW_GROUP_ROWS:
                            writer.write_table(pa.Table.from_batches(pending, opened.schema), _ROW_GROUP_ROWS)
                            pending, pending_rows = [], 0
                    if pending:
                        writer.write_table(pa.Table.from_batches(pending, opened.schema), _ROW_GROUP_ROWS)
            except SchemaChangedError:
                continue
            return hasher.hexdigest(), hasher.num_rows, nulls

    def _profile_staged(self, staged: str, num_rows: int) -> dict[str, Any]:  # Any: JSON document
        meta = pq.read_metadata(staged)
        in_memory = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if in_memory <= self.profile_in_memory_bytes:
            return profile(pl.scan_parquet(staged), num_rows=num_rows)
        schema = pl.scan_parquet(staged).collect_schema()
        # the same reader settings as the source pass: one row group's column chunks at a time
        with pq.ParquetFile(staged, pre_buffer=False, buffer_size=1 << 20) as handle:
            batches = (_frame(pa.Table.from_batches([b])) for b in handle.iter_batches(batch_size=_PROFILE_BATCH_ROWS))
            return profile_batches(batches, schema, num_rows)

    def _store_blob(self, content_hash: str, staged: str) -> tuple[str, int]:
        # the same content under another name: reuse its blob rather than store a twin
        for other in self.store.find_dataset_versions_by_hash(content_hash):
            if other.content_hash == content_hash and other.artifact_digest and self.blobs.exists(other.artifact_digest):
                return other.artifact_digest, other.size_bytes
        return self.blobs.put_file(staged)

    # -- find ---------------------------------------------------------------------------

    def get(self, ref: str) -> DatasetVersion:
        """Resolve a reference to one version.

        Args:
            ref: ``datasets:/name/3``, ``name:3``, ``name`` (latest), ``name@<hash prefix>``
                or a bare content-hash prefix (6+ hex digits).

        Raises:
            InvalidInputError: a malformed reference, or a hash prefix matching several versions.
            NotFoundError: nothing matches.

        Under ``steward reproduce`` a bare name the original run used resolves to the version it
        used (``STEWARD_PINNED_DATASETS``, see :mod:`steward.data._pins`).
        """
        parsed = parse_ref(pinned_ref(ref))
        if parsed.name is not None and parsed.hash_prefix is not None and parsed.name == parsed.text:
            # a bare token that is both a valid name and hex digits: a name first
            try:
                return self.store.get_dataset_version(parsed.name, None)
            except NotFoundError:
                return self._by_hash(parsed.hash_prefix, None, ref)
        if parsed.hash_prefix is not None:
            return self._by_hash(parsed.hash_prefix, parsed.name, ref)
        assert parsed.name is not None
        return self.store.get_dataset_version(parsed.name, parsed.version)

    def _by_hash(self, prefix: str, name: str | None, ref: str) -> DatasetVersion:
        found = self.store.find_dataset_versions_by_hash(prefix, name)
        if not found:
            raise NotFoundError(f"no dataset version matches {ref.strip()[:80]!r}", field="ref")
        if len(found) > 1:
            refs = ", ".join(v.ref for v in found[:5])
            raise InvalidInputError(
                f"{ref.strip()[:80]!r} matches several versions ({refs}); give more hex digits or a name",
                field="ref",
            )
        return found[0]

    def list(self, name: str | None = None) -> builtins.list[DatasetVersion]:
        """Every version (of ``name``, or of all datasets), by name then version.

        Raises:
            NotFoundError: ``name`` is not a dataset.
        """
        if name is not None:
            validate_name(name)
        return self.store.list_dataset_versions(name)

    def list_datasets(self, projects: Collection[str] | None = None) -> builtins.list[DatasetSummary]:
        """Every dataset name (of ``projects`` only, when given) with its latest version number and version count."""
        return self.store.list_datasets(projects)

    # -- read ---------------------------------------------------------------------------

    def scan(self, ref: str | DatasetVersion) -> pl.LazyFrame:
        """A lazy frame over a version's data (scanned from its Parquet where possible)."""
        version = ref if isinstance(ref, DatasetVersion) else self.get(ref)
        if version.storage == "stored":
            assert version.artifact_digest is not None
            local = _local_blob_path(self.blobs, version.artifact_digest)
            if local is not None:
                # one streamed hash before the scan: polars reads only parts of the file,
                # which would never notice a changed blob
                _verify_local_blob(version, local)
                return pl.scan_parquet(local)
            return self.load(version).lazy()
        return self.load(version).lazy()

    def load(self, ref: str | DatasetVersion) -> pl.DataFrame:
        """A version's data in memory, in its canonical types.

        Raises:
            NotFoundError: no such version, or its referenced files are gone.
            IntegrityError: the stored blob, or the referenced files, no longer match the hash.
        """
        version = ref if isinstance(ref, DatasetVersion) else self.get(ref)
        if version.storage == "stored":
            assert version.artifact_digest is not None
            try:
                with self.blobs.open(version.artifact_digest) as handle:
                    data = handle.read()  # read to the end: the reader checks the sha256 there
            except IntegrityError:
                raise _changed(version) from None
            except NotFoundError:
                raise NotFoundError(
                    f"the stored data of {version.ref} ({version.artifact_uri}) is missing from the artifact store",
                    field="ref",
                ) from None
            return pl.read_parquet(data)
        table = read_table(version.artifact_uri)
        hasher = ContentHasher(table.schema)
        for batch in table.to_batches():
            hasher.update(batch)
        if hasher.hexdigest() != version.content_hash:
            raise IntegrityError(
                f"the data at {version.artifact_uri[:200]!r} changed since {version.ref} was registered"
            )
        return _frame(table)

    def load_source(self, source: object) -> pl.DataFrame:
        """Read an unregistered source (same formats and errors as :meth:`register`).

        Raises:
            InvalidInputError: an unreadable, truncated, empty or unknown-format source.
            NotFoundError: a path that does not exist.
        """
        table = read_table(source)
        if table.num_rows == 0 or table.num_columns == 0:
            raise InvalidInputError("the data has no rows", field="source")
        return _frame(table)

    # -- compare and trace --------------------------------------------------------------

    def diff(self, a: str | DatasetVersion, b: str | DatasetVersion) -> DatasetDiff:
        """Schema changes, row-count change and per-column distances from ``a`` to ``b``."""
        va = a if isinstance(a, DatasetVersion) else self.get(a)
        vb = b if isinstance(b, DatasetVersion) else self.get(b)
        return diff_versions(va, vb, self.scan(va), self.scan(vb))

    def lineage(self, ref: str | DatasetVersion, *, projects: Collection[str] | None = None) -> Lineage:
        """The runs that logged this version as an input (by any of its reference forms);
        only runs of ``projects`` when given (what the caller may read)."""
        version = ref if isinstance(ref, DatasetVersion) else self.get(ref)
        forms = [version.ref, f"{version.name}:{version.version}", f"{version.name}@{version.short_hash}"]
        return Lineage(version, tuple(self.store.list_input_uses(forms, projects)))


_TEXT_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".csv.bz2", ".csv.zst")
_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


def _mixed_text(lazy: pl.LazyFrame, known: builtins.list[str]) -> builtins.list[str]:
    """Warnings for text columns of a CSV that hold numbers as well as words."""
    text = [n for n, t in lazy.collect_schema().items() if t == pl.String and not any(repr(n) in w for w in known)]
    if not text:
        return []
    shares = lazy.select(
        [pl.col(n).drop_nulls().str.contains(_NUMBER).mean().alias(n) for n in text]
    # streaming: a large CSV's text columns need not fit in memory at once
    ).collect(engine="streaming").row(0, named=True)
    return [
        f"column {n!r} mixes numbers and text ({share:.0%} of values are numbers); it was loaded as text"
        for n, share in shares.items()
        if share is not None and 0 < share < 1
    ]


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _changed(version: DatasetVersion) -> IntegrityError:
    return IntegrityError(
        f"the stored data of {version.ref} ({version.artifact_uri}) does not match the sha256 recorded at "
        "registration; the artifact store was changed, refusing to load it",
        field="ref",
    )


def _verify_local_blob(version: DatasetVersion, path: str) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != version.artifact_digest:
        raise _changed(version)


def _local_blob_path(blobs: Any, digest: str) -> str | None:  # Any: any BlobStore
    # The content-addressed store documents its layout; scanning the file directly lets
    # polars read only the columns and row groups a query needs.
    root = getattr(blobs, "root", None)
    if not isinstance(root, str) or "://" in root and not root.startswith("file://"):
        return None
    path = Path(root.removeprefix("file://")) / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    return str(path) if path.exists() else None
