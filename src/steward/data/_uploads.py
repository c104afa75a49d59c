"""Resumable uploads: a large file sent to the server in chunks, then registered.

An upload session belongs to the user who opened it and to the project of the dataset it
is for. Its chunks are staged as plain files in the artifact store (every replica sees
them), and the session row records how many bytes arrived. A chunk must start where the
last one ended, so a client cut off mid-upload asks the session's offset and goes on from
there; opening a session again for the same file (same owner, dataset, size and sha256)
returns the open one, so re-running a command resumes. Only a complete upload whose
sha256 matches the one declared when it was opened becomes a dataset version; nothing
else is ever registered.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from steward.core.permissions import GLOBAL_PROJECT, new_project
from steward.errors import ConflictError, InvalidInputError, NotFoundError, StewardError
from steward.tracking._ports import AuditEvent

from ._versions import validate_name

if TYPE_CHECKING:
    from ._service import DataService
    from ._versions import DatasetVersion

__all__ = ["FORMATS", "Upload", "UploadParts", "UploadService", "UploadStore", "parse_content_range", "register_upload"]

FORMATS = {"parquet": ".parquet", "csv": ".csv"}
_SUFFIXES = {**FORMATS, "tar": ".tar"}  # an import's upload is a tar of the export folder
_SHA256 = re.compile(r"[0-9a-f]{64}")
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
# the chunk size the server suggests; never more than its request-body limit
DEFAULT_CHUNK_BYTES = 8 << 20
MAX_UPLOAD_BYTES = 1 << 40  # 1 TiB: a declared size beyond this is a mistake


@dataclass(frozen=True, slots=True)
class Upload:
    """One upload session.

    Attributes:
        upload_id: 32 hex.
        owner: the user who opened it; only they may append to, read or finish it.
        project: the project of the dataset it is for (fixed at opening).
        dataset: the dataset it will become a version of.
        filename: what the client called the file (recorded as the version's source).
        format: ``parquet`` or ``csv``.
        size: the declared total size in bytes.
        sha256: the declared sha256 of the whole file.
        received: bytes received so far (the offset the next chunk must start at).
        created_at: ms since epoch, UTC.
        updated_at: ms since epoch, UTC, of the last chunk.
        kind: ``dataset`` (becomes a dataset version) or ``import`` (an MLflow export, a
            tar; ``dataset`` is empty and the project ``*``: administrators only).
    """

    upload_id: str
    owner: str
    project: str
    dataset: str
    filename: str
    format: str
    size: int
    sha256: str
    received: int
    created_at: int
    updated_at: int
    kind: str = "dataset"

    @property
    def complete(self) -> bool:
        return self.received == self.size

    def to_dict(self, chunk_size: int | None = None) -> dict[str, object]:
        """JSON-ready form (the REST shape)."""
        out: dict[str, object] = {
            "upload_id": self.upload_id,
            "kind": self.kind,
            "owner": self.owner,
            "project": self.project,
            "dataset": self.dataset,
            "filename": self.filename,
            "format": self.format,
            "size": self.size,
            "sha256": self.sha256,
            "received": self.received,
            "complete": self.complete,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if chunk_size is not None:
            out["chunk_size"] = chunk_size
        return out


class UploadStore(Protocol):
    """Metadata storage of upload sessions."""

    def add_upload(self, upload: Upload, audit: AuditEvent) -> Upload: ...
    def get_upload(self, upload_id: str) -> Upload:
        """Raises NotFoundError."""
        ...

    def find_open_upload(self, owner: str, dataset: str, size: int, sha256: str, kind: str = "dataset") -> Upload | None: ...
    def advance_upload(self, upload_id: str, start: int, end: int, now: int) -> Upload:
        """Move ``received`` from ``start`` to ``end`` (compare and set). Raises ConflictError."""
        ...

    def delete_upload(self, upload_id: str, audit: AuditEvent | None) -> None: ...
    def dataset_project(self, name: str) -> str | None:
        """The project of an existing dataset (None: no such dataset)."""
        ...


class UploadParts(Protocol):
    """Where chunks are staged: plain files under a prefix of the artifact store."""

    def write_part(self, upload_id: str, offset: int, data: bytes) -> None: ...
    def read_part(self, upload_id: str, offset: int) -> bytes: ...
    def delete_parts(self, upload_id: str) -> None: ...


def parse_content_range(header: str | None, size: int) -> tuple[int, int]:
    """``bytes START-END/TOTAL`` as (start, end exclusive).

    Raises:
        InvalidInputError: missing, malformed, or not matching the upload's size.
    """
    match = _RANGE.match((header or "").strip())
    if not match:
        raise InvalidInputError("send Content-Range: bytes START-END/TOTAL with every chunk", field="Content-Range")
    start, last, total = (int(g) for g in match.groups())
    if total != size:
        raise InvalidInputError(f"Content-Range total {total} is not the upload's size {size}", field="Content-Range")
    if last < start or last >= size:
        raise InvalidInputError("Content-Range END must be at least START and below TOTAL", field="Content-Range")
    return start, last + 1


class UploadService:
    """Upload sessions acting as one user.

    Args:
        store: session rows.
        parts: staged chunks.
        actor: who is acting; sessions belong to them.
        max_chunk_bytes: the largest chunk accepted (the server's body limit).
        tmp_dir: where a finished upload is assembled before registering.
    """

    def __init__(self, store: UploadStore, parts: UploadParts, actor: str, *, max_chunk_bytes: int, tmp_dir: str | None = None) -> None:
        self.store = store
        self.parts = parts
        self.actor = actor
        self.max_chunk_bytes = max_chunk_bytes
        self.chunk_size = min(DEFAULT_CHUNK_BYTES, max_chunk_bytes)
        self.tmp_dir = tmp_dir

    def _audit(self, action: str, upload: Upload, **details: object) -> AuditEvent:
        return AuditEvent(self.actor, action, f"uploads:/{upload.upload_id}", int(time.time() * 1000), {"dataset": upload.dataset, **details})

    def open(self, dataset: str, *, size: int, sha256: str, filename: str, format: str, project: str | None = None) -> Upload:
        """Open an upload session for a file to become a version of ``dataset``, or return
        the caller's open session for the same file (same dataset, size and sha256).

        Args:
            dataset: the dataset name.
            size: the file's size in bytes (at least 1).
            sha256: the file's sha256 (64 lowercase hex), checked when the upload finishes.
            filename: how the client names the file (1-1000 characters).
            format: ``parquet`` or ``csv``.
            project: the project of a new dataset (default: its name).

        Raises:
            InvalidInputError: naming the bad field.
        """
        validate_name(dataset)
        if format not in FORMATS:
            raise InvalidInputError("format must be parquet or csv", field="format")
        _check_file(size, sha256, filename)
        found = self.store.find_open_upload(self.actor, dataset, size, sha256)
        if found is not None:
            return found
        now = int(time.time() * 1000)
        # an existing dataset keeps its project (the server authorised the request there)
        owner = self.store.dataset_project(dataset) or new_project(dataset, project)
        upload = Upload(secrets.token_hex(16), self.actor, owner, dataset, filename, format, size, sha256, 0, now, now)
        return self.store.add_upload(upload, self._audit("uploads.open", upload, size=size, sha256=sha256))

    def open_import(self, *, size: int, sha256: str, filename: str) -> Upload:
        """Open (or find the caller's open) upload of an MLflow export (a tar) for ``steward import``.

        It belongs to every project (``*``): only administrators may send its chunks, as
        only they may import.
        """
        _check_file(size, sha256, filename)
        found = self.store.find_open_upload(self.actor, "", size, sha256, "import")
        if found is not None:
            return found
        now = int(time.time() * 1000)
        upload = Upload(secrets.token_hex(16), self.actor, GLOBAL_PROJECT, "", filename, "tar", size, sha256, 0, now, now, "import")
        return self.store.add_upload(upload, self._audit("uploads.open", upload, size=size, sha256=sha256))

    def get(self, upload_id: str) -> Upload:
        """The caller's upload session.

        Raises:
            NotFoundError: no such session, or it belongs to someone else (whose uploads
                nobody else may see, append to or finish).
        """
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise InvalidInputError("an upload id is 32 lowercase hex digits", field="upload_id")
        upload = self.store.get_upload(upload_id)
        if upload.owner != self.actor:
            raise NotFoundError(f"upload {upload_id} not found", field="upload_id")
        return upload

    def append(self, upload_id: str, content_range: str | None, data: bytes) -> Upload:
        """Store one chunk; it must start at the session's ``received`` offset.

        Raises:
            InvalidInputError: a bad Content-Range, a body of another length, a chunk too large.
            ConflictError: the chunk does not start where the upload stands (the message
                says where; ask the session and resume from there).
        """
        upload = self.get(upload_id)
        start, end = parse_content_range(content_range, upload.size)
        if len(data) != end - start:
            raise InvalidInputError(f"the body has {len(data)} bytes; Content-Range says {end - start}", field="body")
        if len(data) > self.max_chunk_bytes:
            raise InvalidInputError(f"a chunk is at most {self.max_chunk_bytes} bytes", field="body")
        if start != upload.received:
            raise ConflictError(
                f"upload {upload_id} has {upload.received} bytes; the next chunk must start there, not at {start}",
                field="Content-Range",
            )
        # the part first, then the offset: a crash between the two leaves a part that the
        # next chunk at the same offset overwrites
        self.parts.write_part(upload_id, start, data)
        return self.store.advance_upload(upload_id, start, end, int(time.time() * 1000))

    def abort(self, upload_id: str) -> None:
        """Delete the caller's session and its staged chunks."""
        upload = self.get(upload_id)
        self.parts.delete_parts(upload_id)
        self.store.delete_upload(upload_id, self._audit("uploads.abort", upload))

    @contextmanager
    def assembled(self, upload_id: str, dataset: str, *, kind: str = "dataset") -> Iterator[tuple[Upload, str]]:
        """The complete upload as one local file, its sha256 checked; the session and its
        chunks are deleted when the block succeeds or the data proves wrong.

        Raises:
            InvalidInputError: the upload is for another dataset, incomplete (kept: resume
                it), or its content does not match the declared sha256 (deleted: start again).
        """
        upload = self.get(upload_id)
        if upload.kind != kind:
            raise InvalidInputError(f"upload {upload_id} is of kind {upload.kind!r}, not {kind!r}", field="upload_id")
        if upload.dataset != dataset:
            raise InvalidInputError(f"upload {upload_id} is for dataset {upload.dataset!r}, not {dataset[:200]!r}", field="upload_id")
        if not upload.complete:
            raise InvalidInputError(
                f"upload {upload_id} is incomplete: {upload.received} of {upload.size} bytes received; send the rest first",
                field="upload_id",
            )
        with tempfile.TemporaryDirectory(prefix="steward-upload-", dir=self.tmp_dir) as tmp:
            path = os.path.join(tmp, f"upload{_SUFFIXES[upload.format]}")
            digest = hashlib.sha256()
            offset = 0
            with open(path, "wb") as out:
                while offset < upload.size:
                    part = self.parts.read_part(upload_id, offset)
                    if not part:
                        break
                    digest.update(part)
                    out.write(part)
                    offset += len(part)
            if offset != upload.size or digest.hexdigest() != upload.sha256:
                self._discard(upload, "sha256 mismatch")
                raise InvalidInputError(
                    f"upload {upload_id} does not match its declared sha256 (received content hashes to "
                    f"{digest.hexdigest()[:12]}...); it was discarded, upload the file again",
                    field="sha256",
                )
            try:
                yield replace(upload), path
            except InvalidInputError:
                # the data itself is unusable (empty, unreadable): keeping it helps no retry
                self._discard(upload, "unreadable data")
                raise
        self._discard(upload, None)

    def _discard(self, upload: Upload, reason: str | None) -> None:
        self.parts.delete_parts(upload.upload_id)
        audit = self._audit("uploads.discard", upload, reason=reason) if reason else None
        self.store.delete_upload(upload.upload_id, audit)


def _check_file(size: int, sha256: str, filename: str) -> None:
    if not isinstance(size, int) or not 0 < size <= MAX_UPLOAD_BYTES:
        raise InvalidInputError("size must be between 1 byte and 1 TiB (an empty file has no rows)", field="size")
    if not _SHA256.fullmatch(sha256):
        raise InvalidInputError("sha256 must be 64 lowercase hex digits", field="sha256")
    if not filename or len(filename) > 1000 or not filename.isprintable():
        raise InvalidInputError("filename must be 1-1000 printable characters", field="filename")


def register_upload(
    uploads: UploadService, data: DataService, upload_id: str, name: str, *, description: str | None = None, project: str | None = None
) -> DatasetVersion:
    """Register a finished upload as the next version of ``name`` (the same content: the
    same version), recording the client's file name as its source; the upload is gone after.

    Raises:
        InvalidInputError: see :meth:`UploadService.assembled` and :meth:`DataService.register`.
    """
    with uploads.assembled(upload_id, name) as (upload, path):
        if project is not None and project != upload.project:
            raise InvalidInputError(f"upload {upload_id} was opened for project {upload.project!r}, not {project[:250]!r}", field="project")
        try:
            return data.register(name, path, description=description, project=upload.project, label=upload.filename)
        except StewardError as exc:
            # the staging path means nothing to the client; name its file instead
            exc.message = exc.message.replace(repr(path), repr(upload.filename)).replace(path, upload.filename)
            exc.args = (exc.message,)
            raise
