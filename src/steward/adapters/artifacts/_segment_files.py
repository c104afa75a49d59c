"""Plain files under a fixed prefix of the artifact store (local folder or any fsspec URL).

The prediction log's Parquet segments live here, at names the log chooses, not
content-addressed. A write makes the file appear whole or not at all: a temporary file
fsynced and renamed into place on a local folder, one object PUT on an object store (an
object appears only when its upload completes), so a crash mid-write leaves at most a
temporary file that no index row points at.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from steward.errors import NotFoundError, StorageError

from ._cas import ContentAddressedStore, backend_errors

__all__ = ["PrefixFiles"]


class PrefixFiles:
    """Files under ``<root>/<path>`` of an artifact store.

    Args:
        fs: the artifact store's fsspec filesystem.
        base: its root as that filesystem names it (a folder, or ``bucket/prefix``).
    """

    def __init__(self, fs: Any, base: str) -> None:  # Any: an fsspec filesystem (untyped)
        self.fs = fs
        self._base = base.rstrip("/")
        protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
        self._local = "file" in protocols

    @classmethod
    def beside(cls, blobs: ContentAddressedStore) -> PrefixFiles:
        """Plain files in the same store (same root and options) as ``blobs``."""
        return cls(blobs.fs, str(blobs.fs._strip_protocol(blobs.root)))

    def _full(self, path: str) -> str:
        parts = path.split("/")
        if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise NotFoundError("not a relative file path", field="path")
        return f"{self._base}/{path}"

    def write_atomic(self, path: str, data: bytes) -> None:
        """Make ``path`` hold ``data``, whole or not at all.

        Raises:
            StorageError: the store cannot be written.
        """
        target = self._full(path)
        try:
            if self._local:
                folder = os.path.dirname(target)
                os.makedirs(folder, mode=0o700, exist_ok=True)  # owner-only, as the blobs
                # the temporary file sits beside the target (same filesystem, so the rename is
                # atomic) under a name no reader looks for
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
                try:
                    with os.fdopen(fd, "wb") as out:
                        out.write(data)
                        out.flush()
                        os.fsync(out.fileno())
                    os.replace(tmp, target)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                _fsync_dir(folder)
            else:
                self.fs.pipe_file(target, data)
        except backend_errors() as exc:
            raise StorageError("artifact store write failed") from exc

    def read_bytes(self, path: str) -> bytes:
        """The file's bytes.

        Raises:
            NotFoundError: no such file.
            StorageError: the store cannot be reached.
        """
        try:
            data: bytes = self.fs.cat_file(self._full(path))
        except FileNotFoundError as exc:
            raise NotFoundError(f"file {path!r} not found in the artifact store") from exc
        except backend_errors() as exc:
            raise StorageError("artifact store unreachable") from exc
        return data


def _fsync_dir(folder: str) -> None:
    """Persist the rename itself (POSIX): without it a power cut may forget the new name."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
