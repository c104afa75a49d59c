"""Python SDK: the same client for the embedded store and a Steward server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._audit_backend import AuditBackend, ImportBackend, SecretsBackend
from ._backend import EvaluationBackend, RegistryBackend, TrackingBackend
from ._client import Client
from ._data_backend import DataBackend, ValidationBackend
from ._http import HttpBackend
from ._run import ActiveRun

if TYPE_CHECKING:
    from ._http_audit import HttpAudit, HttpImport, HttpSecrets
    from ._http_data import HttpData, HttpValidation
    from ._http_evaluation import HttpEvaluation
    from ._http_registry import HttpRegistry

__all__ = [
    "ActiveRun",
    "AuditBackend",
    "Client",
    "DataBackend",
    "EvaluationBackend",
    "HttpAudit",
    "HttpBackend",
    "HttpData",
    "HttpEvaluation",
    "HttpImport",
    "HttpRegistry",
    "HttpSecrets",
    "HttpValidation",
    "ImportBackend",
    "RegistryBackend",
    "SecretsBackend",
    "TrackingBackend",
    "ValidationBackend",
]

# imported on first use: they pull in the registry and evaluation stages (pandas,
# scikit-learn), which `import steward` must not pay for
_LAZY = {
    "HttpEvaluation": "._http_evaluation",
    "HttpRegistry": "._http_registry",
    "HttpAudit": "._http_audit",
    "HttpSecrets": "._http_audit",
    "HttpImport": "._http_audit",
    "HttpData": "._http_data",
    "HttpValidation": "._http_data",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
