"""Audit checkpoints as small named documents in the artifact store.

They live at ``<root>/_audit/checkpoints/<entry id>.json``: a fixed prefix outside the
content-addressed ``blobs/`` tree, so the metadata database (which holds the audit table)
and the checkpoints that vouch for it are stored apart. Local writes go to a temporary
file and are renamed into place (0600, as every file of the local store); object stores
put each document whole.
"""

from __future__ import annotations

import os
import uuid

from steward._private_files import create_private_file, make_private_dirs
from steward.errors import NotFoundError, StorageError

from ._cas import ContentAddressedStore, backend_errors

__all__ = ["ArtifactCheckpointStore"]

PREFIX = "_audit/checkpoints"


class ArtifactCheckpointStore:
    """The :class:`~steward.governance.CheckpointStore` of an artifact store.

    Args:
        blobs: the artifact store (local folder or fsspec URL) to keep checkpoints in.
    """

    def __init__(self, blobs: ContentAddressedStore) -> None:
        self._fs = blobs.fs
        self._local = blobs.is_local
        self._dir = f"{blobs.base}/{PREFIX}"
        self._tmp = f"{blobs.base}/_audit/tmp"

    def _path(self, name: str) -> str:
        if "/" in name or "\\" in name or name.startswith("."):
            raise NotFoundError("not a checkpoint name", field="name")
        return f"{self._dir}/{name}"

    def write_checkpoint(self, name: str, data: bytes) -> None:
        """Store ``data`` as ``name``, replacing a document of that name whole."""
        target = self._path(name)
        try:
            if self._local:
                make_private_dirs(self._dir)
                make_private_dirs(self._tmp)
                tmp = f"{self._tmp}/{uuid.uuid4().hex}"
                try:
                    with os.fdopen(create_private_file(tmp), "wb") as handle:
                        handle.write(data)
                        handle.flush()
                        os.fsync(handle.fileno())
                    os.replace(tmp, target)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
            else:
                self._fs.pipe_file(target, data)
        except backend_errors() as exc:
            raise StorageError("cannot write the audit checkpoint to the artifact store") from exc

    def list_checkpoints(self) -> list[str]:
        """The names of every stored document (none when the folder does not exist yet)."""
        try:
            # another replica writes and prunes checkpoints too: never answer from the listing
            # cache of an object store's filesystem (s3fs keeps one per process)
            self._fs.invalidate_cache(self._dir)
            paths = self._fs.ls(self._dir, detail=False)
        except FileNotFoundError:
            return []
        except backend_errors() as exc:
            raise StorageError("cannot list the audit checkpoints in the artifact store") from exc
        return sorted(str(p).rstrip("/").rsplit("/", 1)[-1] for p in paths)

    def read_checkpoint(self, name: str) -> bytes:
        """The document ``name``.

        Raises:
            NotFoundError: there is none.
        """
        try:
            data: bytes = self._fs.cat_file(self._path(name))
        except FileNotFoundError as exc:
            raise NotFoundError(f"audit checkpoint {name} not found") from exc
        except backend_errors() as exc:
            raise StorageError("cannot read the audit checkpoints in the artifact store") from exc
        return data

    def delete_checkpoint(self, name: str) -> None:
        """Remove the document ``name`` (no error when it is already gone)."""
        try:
            self._fs.rm_file(self._path(name))
        except FileNotFoundError:
            return
        except backend_errors() as exc:
            raise StorageError("cannot remove an old audit checkpoint from the artifact store") from exc
