"""Logical artifact paths: the one rule for what a run's (or model's) file may be called.

In core, not in the tracking service, so that the HTTP SDK checks a path it holds back for
a deferred run exactly as the server will (see ``steward.sdk._http``).
"""

from __future__ import annotations

import posixpath

from steward.errors import InvalidInputError

__all__ = ["clean_artifact_path"]


def clean_artifact_path(path: str) -> str:
    """Normalise a logical artifact path; refuse absolute paths and '..' segments."""
    if not isinstance(path, str) or not path.strip():
        raise InvalidInputError("artifact path must be a non-empty string", field="path")
    if "\\" in path or "\x00" in path:
        raise InvalidInputError("artifact path may not contain backslashes or NUL", field="path")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise InvalidInputError("artifact path must be relative", field="path")
    parts = path.split("/")
    if any(p == ".." for p in parts):
        raise InvalidInputError("artifact path may not contain '..'", field="path")
    norm = posixpath.normpath(path)
    if norm in (".", "") or len(norm) > 1000:
        raise InvalidInputError("artifact path is empty or longer than 1000 characters", field="path")
    return norm
