"""The table of resumable upload sessions. Created by migration ``0017_uploads``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from ._tables import metadata

__all__ = ["uploads"]

# One row per open session; the chunks themselves are files in the artifact store
# (``uploads/<upload_id>/<offset>``). The row goes when the upload is registered or aborted.
uploads = Table(
    "uploads",
    metadata,
    Column("upload_id", String(32), primary_key=True),
    Column("owner", String(250), nullable=False),
    # the project of the dataset it is for (core/permissions.py); fixed at opening
    Column("project", String(250), nullable=False),
    # "dataset" (becomes a dataset version) or "import" (an MLflow export for `steward import`)
    Column("kind", String(20), nullable=False, server_default="dataset"),
    Column("dataset", String(200), nullable=False),
    Column("filename", Text, nullable=False),
    Column("format", String(20), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # re-running a command finds its open session by what it uploads
    Index("ix_uploads_owner_dataset_sha256", "owner", "dataset", "sha256"),
)
