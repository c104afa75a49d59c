"""Build the services of one process from :class:`~steward.settings.Settings`.

The server builds them once at start-up and hangs them off the app; the SDK builds them
once per :class:`~steward.sdk.Client`.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

from steward.adapters.artifacts import ContentAddressedStore
from steward.adapters.sql import SqlStore
from steward.settings import Settings
from steward.tracking import TrackingService


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a process needs, built once."""

    settings: Settings
    store: SqlStore
    blobs: ContentAddressedStore

    def tracking(self, actor: str | None = None) -> TrackingService:
        """The tracking service acting as ``actor`` (default: the configured user)."""
        return TrackingService(self.store, self.blobs, actor or default_actor(self.settings))

    def close(self) -> None:
        self.store.close()


def default_actor(settings: Settings) -> str:
    if settings.user:
        return settings.user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def build_services(settings: Settings) -> Services:
    """Open the metadata store (migrating it when needed) and the artifact store."""
    options: dict[str, Any] = {}  # Any: fsspec storage options vary by protocol
    if settings.s3_endpoint_url:
        options["endpoint_url"] = settings.s3_endpoint_url
    store = SqlStore(settings.resolved_database_url(), busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    blobs = ContentAddressedStore(settings.resolved_artifact_root(), options or None)
    return Services(settings, store, blobs)
