"""Python SDK: the same client for the embedded store and a Steward server."""

from __future__ import annotations

from ._audit_backend import AuditBackend, SecretsBackend
from ._backend import TrackingBackend
from ._client import Client
from ._data_backend import DataBackend, ValidationBackend
from ._http import HttpBackend
from ._run import ActiveRun

__all__ = [
    "ActiveRun",
    "AuditBackend",
    "Client",
    "DataBackend",
    "HttpBackend",
    "SecretsBackend",
    "TrackingBackend",
    "ValidationBackend",
]
