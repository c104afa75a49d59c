"""A content-addressed blob store on fsspec (local folder, s3://, gs://, az://).

Blobs live at ``<root>/blobs/sha256/<aa>/<bb>/<digest>``. Writes go to a temporary name and
are renamed into place (local) or land as one object when the upload completes (object
stores), so a reader never sees half a blob. Reads check the sha256.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import uuid
from typing import Any, BinaryIO

import fsspec

from steward._private_files import create_private_file, make_private_dirs
from steward.errors import IntegrityError, NotFoundError, StorageError

_CHUNK = 1 << 20


def _backend_errors() -> tuple[type[Exception], ...]:
    """Errors fsspec backends raise when the store cannot be reached.

    Most raise OSError; s3fs lets botocore's connection errors through unchanged, so
    those count too when botocore is installed (it is only with the s3 extra).
    """
    errors: list[type[Exception]] = [OSError]
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        pass
    else:
        errors += [BotoCoreError, ClientError]
    return tuple(errors)


_BACKEND_ERRORS = _backend_errors()


class VerifyingReader(io.RawIOBase):
    """A file-like reader that raises :class:`IntegrityError` at EOF on a hash mismatch."""

    def __init__(self, raw: BinaryIO, digest: str) -> None:
        self._raw = raw
        self._digest = digest
        self._hash = hashlib.sha256()
        self._checked = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:  # Any: writable buffer protocol
        data = self._raw.read(len(buffer))
        if not data:
            self._verify()
            return 0
        self._hash.update(data)
        buffer[: len(data)] = data
        return len(data)

    def _verify(self) -> None:
        if not self._checked:
            self._checked = True
            if self._hash.hexdigest() != self._digest:
                raise IntegrityError(f"blob {self._digest[:12]} does not match its hash; the store is damaged")

    def close(self) -> None:
        self._raw.close()
        super().close()


class ContentAddressedStore:
    """Blob store keyed by sha256.

    Args:
        root: a local folder or an fsspec URL such as ``s3://bucket/prefix``.
        storage_options: passed to fsspec (e.g. ``{"endpoint_url": ...}`` for S3).
    """

    def __init__(self, root: str, storage_options: dict[str, Any] | None = None) -> None:  # Any: fsspec options
        self.root = root.rstrip("/")
        try:
            self.fs, self._base = fsspec.core.url_to_fs(self.root, **(storage_options or {}))
        except (ImportError, ValueError) as exc:
            raise StorageError(f"cannot open artifact store {root!r}: {exc}") from exc
        self._local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))
        if self._local:
            # owner-only (0700 folders, 0600 blobs) whatever the umask: see steward/_private_files.py
            make_private_dirs(os.path.join(self._base, "blobs", "tmp"))

    @property
    def base(self) -> str:
        """The store's root as its filesystem sees it (a folder, or ``bucket/prefix``)."""
        return str(self._base)

    @property
    def is_local(self) -> bool:
        """True for a local folder (written through temporary files, owner-only)."""
        return self._local

    def _path(self, digest: str) -> str:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise NotFoundError("not a sha256 digest", field="digest")
        return f"{self._base}/blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}"

    def exists(self, digest: str) -> bool:
        try:
            return bool(self.fs.exists(self._path(digest)))
        except _BACKEND_ERRORS as exc:
            raise StorageError("artifact store unreachable") from exc

    def put_file(self, local_path: str) -> tuple[str, int]:
        """Store a local file; returns (sha256 hex digest, size). Idempotent."""
        h = hashlib.sha256()
        size = 0
        try:
            with open(local_path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
                    size += len(chunk)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFoundError(f"local file {local_path!r} not found", field="local_path") from exc
        except PermissionError as exc:
            raise NotFoundError(f"local file {local_path!r} cannot be read", field="local_path") from exc
        digest = h.hexdigest()
        target = self._path(digest)
        try:
            if self.fs.exists(target):
                return digest, size
            if self._local:
                self._local_atomic_copy(local_path, target)
            else:
                # an object store PUT (or multipart complete) makes the object appear whole
                self.fs.put_file(local_path, target)
        except _BACKEND_ERRORS as exc:
            raise StorageError("artifact store write failed") from exc
        return digest, size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store bytes; returns (sha256 hex digest, size). Idempotent."""
        digest = hashlib.sha256(data).hexdigest()
        target = self._path(digest)
        try:
            if self.fs.exists(target):
                return digest, len(data)
            if self._local:
                self._local_atomic_write(data, target)
            else:
                self.fs.pipe_file(target, data)
        except _BACKEND_ERRORS as exc:
            raise StorageError("artifact store write failed") from exc
        return digest, len(data)

    def _local_atomic_copy(self, source: str, target: str) -> None:
        make_private_dirs(os.path.dirname(target))
        tmp = os.path.join(self._base, "blobs", "tmp", uuid.uuid4().hex)
        try:
            with open(source, "rb") as src, os.fdopen(create_private_file(tmp), "wb") as dst:
                while chunk := src.read(_CHUNK):
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _local_atomic_write(self, data: bytes, target: str) -> None:
        make_private_dirs(os.path.dirname(target))
        fd, tmp = tempfile.mkstemp(dir=os.path.join(self._base, "blobs", "tmp"))  # mkstemp makes it 0600
        try:
            with os.fdopen(fd, "wb") as dst:
                dst.write(data)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def open(self, digest: str) -> BinaryIO:
        """A reader over the blob that verifies the hash when read to the end."""
        try:
            raw = self.fs.open(self._path(digest), "rb")
        except FileNotFoundError as exc:
            raise NotFoundError(f"blob {digest[:12]} not found in the artifact store") from exc
        except _BACKEND_ERRORS as exc:
            raise StorageError("artifact store unreachable") from exc
        return io.BufferedReader(VerifyingReader(raw, digest), _CHUNK)

    def read_bytes(self, digest: str) -> bytes:
        """The blob's bytes, verified against the digest."""
        try:
            data: bytes = self.fs.cat_file(self._path(digest))
        except FileNotFoundError as exc:
            raise NotFoundError(f"blob {digest[:12]} not found in the artifact store") from exc
        except _BACKEND_ERRORS as exc:
            raise StorageError("artifact store unreachable") from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise IntegrityError(f"blob {digest[:12]} does not match its hash; the store is damaged")
        return data
