"""A content-addressed blob store on fsspec (local folder, s3://, gs://, az://).

Blobs live at ``<root>/blobs/sha256/<aa>/<bb>/<digest>``. Writes go to a temporary name and
are renamed into place (local) or land as one object when the upload completes (object
stores), so a reader never sees half a blob. Reads check the sha256.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tempfile
import uuid
from typing import Any, BinaryIO

from steward._private_files import create_private_file, make_private_dirs
from steward.errors import IntegrityError, NotFoundError, StorageError

_CHUNK = 1 << 20


def backend_errors() -> tuple[type[Exception], ...]:
    """Errors fsspec backends raise when the store cannot be reached.

    Most raise OSError; s3fs lets botocore's connection errors through unchanged, so
    those count too once botocore is loaded (by s3fs: nothing else raises them). Called
    in ``except`` clauses, that is only when an error is raised: importing botocore to
    name its errors cost a local store's every process (``steward runs list``) a quarter
    of a second.
    """
    errors: tuple[type[Exception], ...] = (OSError,)
    if "botocore.exceptions" in sys.modules:
        from botocore.exceptions import BotoCoreError, ClientError

        errors += (BotoCoreError, ClientError)
    return errors


def fsspec_core() -> Any:  # Any: the fsspec.core module
    import fsspec.core

    return fsspec.core


def _absolute_local_path(root: str) -> str | None:
    """``root`` as fsspec names a local folder, for an absolute POSIX path (or a
    ``file://`` URL of one); None for anything else (fsspec decides then)."""
    path = root.removeprefix("file://")
    if os.sep != "/" or not path.startswith("/") or "::" in path or "://" in path:
        return None
    return path.rstrip("/") or "/"


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
        self._fs: Any = None  # Any: an fsspec filesystem
        local = _absolute_local_path(self.root)
        if local is not None:
            # a local folder (the embedded store's default) opens without importing fsspec,
            # which costs a process more than a quarter of its `steward runs list`: the
            # local paths below use os, and `fs` is built for the others on first use
            self._base = local
        else:
            try:
                self._fs, self._base = fsspec_core().url_to_fs(self.root, **(storage_options or {}))
            except (ImportError, ValueError) as exc:
                raise StorageError(f"cannot open artifact store {root!r}: {exc}") from exc
        self._local = local is not None or "file" in (
            self._fs.protocol if isinstance(self._fs.protocol, tuple) else (self._fs.protocol,)
        )
        # the digests of the last few byte strings stored, by identity: a process stores the
        # same captured files (package list, git diff) with every run it tracks
        self._recent: list[tuple[bytes, str]] = []
        if self._local:
            # owner-only (0700 folders, 0600 blobs) whatever the umask: see steward/_private_files.py
            make_private_dirs(os.path.join(self._base, "blobs", "tmp"))

    @property
    def fs(self) -> Any:  # Any: an fsspec filesystem
        """The fsspec filesystem of the store (a local folder's is built on first use)."""
        if self._fs is None:
            self._fs = fsspec_core().url_to_fs(self._base)[0]
        return self._fs

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

    def _exists(self, path: str) -> bool:
        # a local folder without fsspec's layers: one stat, on every artifact write
        return os.path.exists(path) if self._local else bool(self.fs.exists(path))

    def exists(self, digest: str) -> bool:
        try:
            return self._exists(self._path(digest))
        except backend_errors() as exc:
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
            if self._exists(target):
                return digest, size
            if self._local:
                self._local_atomic_copy(local_path, target)
            else:
                # an object store PUT (or multipart complete) makes the object appear whole
                self.fs.put_file(local_path, target)
        except backend_errors() as exc:
            raise StorageError("artifact store write failed") from exc
        return digest, size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store bytes; returns (sha256 hex digest, size). Idempotent."""
        digest = next((d for seen, d in self._recent if seen is data), None)
        if digest is None:
            digest = hashlib.sha256(data).hexdigest()
            if isinstance(data, bytes) and len(data) <= _CHUNK * 16:  # immutable, so its digest stays true; small enough to keep
                self._recent = [(data, digest), *self._recent[:3]]
        target = self._path(digest)
        try:
            if self._exists(target):
                return digest, len(data)
            if self._local:
                self._local_atomic_write(data, target)
            else:
                self.fs.pipe_file(target, data)
        except backend_errors() as exc:
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
        except backend_errors() as exc:
            raise StorageError("artifact store unreachable") from exc
        return io.BufferedReader(VerifyingReader(raw, digest), _CHUNK)

    def read_bytes(self, digest: str) -> bytes:
        """The blob's bytes, verified against the digest."""
        try:
            data: bytes = self.fs.cat_file(self._path(digest))
        except FileNotFoundError as exc:
            raise NotFoundError(f"blob {digest[:12]} not found in the artifact store") from exc
        except backend_errors() as exc:
            raise StorageError("artifact store unreachable") from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise IntegrityError(f"blob {digest[:12]} does not match its hash; the store is damaged")
        return data
