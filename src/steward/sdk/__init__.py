"""Python SDK: the same client for the embedded store and a Steward server."""

from __future__ import annotations

from ._backend import TrackingBackend
from ._client import Client
from ._http import HttpBackend
from ._run import ActiveRun

__all__ = ["ActiveRun", "Client", "HttpBackend", "TrackingBackend"]
