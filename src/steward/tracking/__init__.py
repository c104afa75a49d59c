"""Tracking stage: experiments, runs, metrics, params, tags, artifacts and run capture."""

from __future__ import annotations

from steward.core.artifact_paths import clean_artifact_path

from ._capture import Environment, GitState, capture_environment, capture_git, captured_bytes
from ._logged_models import LoggedModelPage, LoggedModelService
from ._ports import (
    ArtifactInfo,
    AuditEvent,
    BlobStore,
    LoggedModelStore,
    RunPage,
    SecretGuard,
    TrackingStore,
)
from ._seed import seed_everything
from ._service import (
    RunCreation,
    RunEnding,
    TrackingService,
    check_run_id,
    now_ms,
)

__all__ = [
    "ArtifactInfo",
    "AuditEvent",
    "BlobStore",
    "Environment",
    "GitState",
    "LoggedModelPage",
    "LoggedModelService",
    "LoggedModelStore",
    "RunCreation",
    "RunEnding",
    "RunPage",
    "SecretGuard",
    "TrackingService",
    "TrackingStore",
    "capture_environment",
    "capture_git",
    "captured_bytes",
    "check_run_id",
    "clean_artifact_path",
    "now_ms",
    "seed_everything",
]
