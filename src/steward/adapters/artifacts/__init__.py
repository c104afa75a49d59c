"""Artifact storage: content-addressed blobs on a local folder or any fsspec URL."""

from __future__ import annotations

from ._cas import ContentAddressedStore, VerifyingReader
from ._checkpoints import ArtifactCheckpointStore

__all__ = ["ArtifactCheckpointStore", "ContentAddressedStore", "VerifyingReader"]
