"""``steward import mlflow`` against a server: the export folder arrives as a resumable
upload (a tar) and is imported here, on the server, acting as the caller."""

from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from steward.errors import InvalidInputError

from ._mlflow_import import ImportSummary, import_dump

if TYPE_CHECKING:
    from steward.data._uploads import UploadService
    from steward.registry import RegistryService
    from steward.tracking import TrackingService

__all__ = ["import_uploaded_dump", "pack_dump"]


def pack_dump(folder: Path, target: str) -> None:
    """Write the export ``folder`` as an uncompressed tar at ``target`` (names relative to it)."""
    with tarfile.open(target, "w") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)


def import_uploaded_dump(uploads: UploadService, tracking: TrackingService, registry: RegistryService, upload_id: str) -> ImportSummary:
    """Import the MLflow export uploaded as ``upload_id`` (sha256 checked); the upload is gone after.

    Raises:
        InvalidInputError: not a complete import upload, a sha256 mismatch, or not a tar of
            an export (members outside the folder, links and devices are refused).
    """
    with uploads.assembled(upload_id, "", kind="import") as (_upload, path), tempfile.TemporaryDirectory(prefix="steward-import-") as tmp:
        try:
            with tarfile.open(path, "r:") as tar:
                # the "data" filter refuses absolute paths, "..", links out of the folder and devices
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise InvalidInputError(f"the upload is not a tar of an MLflow export: {exc}", field="upload_id") from exc
        if not os.listdir(tmp):
            raise InvalidInputError("the upload holds no export", field="upload_id")
        return import_dump(Path(tmp), tracking, registry)
