"""Staged chunks of resumable uploads: ``uploads/<upload_id>/<offset>`` in the artifact store.

Beside the blobs, so every server replica sharing the store sees every chunk.
"""

from __future__ import annotations

from steward.errors import NotFoundError

from ._cas import ContentAddressedStore, backend_errors
from ._segment_files import PrefixFiles

__all__ = ["UploadPartFiles"]


class UploadPartFiles:
    """Chunks as plain files, each written whole or not at all."""

    def __init__(self, blobs: ContentAddressedStore) -> None:
        self._files = PrefixFiles.beside(blobs)

    @staticmethod
    def _name(upload_id: str, offset: int) -> str:
        # zero-padded: a listing sorts in offset order
        return f"uploads/{upload_id}/{offset:016d}"

    def write_part(self, upload_id: str, offset: int, data: bytes) -> None:
        self._files.write_atomic(self._name(upload_id, offset), data)

    def read_part(self, upload_id: str, offset: int) -> bytes:
        """The chunk starting at ``offset`` (``b""`` when there is none)."""
        try:
            return self._files.read_bytes(self._name(upload_id, offset))
        except NotFoundError:
            return b""

    def delete_parts(self, upload_id: str) -> None:
        folder = f"{self._files._full('uploads')}/{upload_id}"
        try:
            if self._files.fs.exists(folder):
                self._files.fs.rm(folder, recursive=True)
        except FileNotFoundError:
            pass
        except backend_errors():
            # an orphaned chunk folder wastes space but registers nothing: never fail for it
            return
