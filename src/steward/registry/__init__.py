"""Registry stage: model flavors, logging and packaging models, registered models,
versions, aliases, lifecycle states and approvals."""

from __future__ import annotations

from ._codec import model_from_dict, model_to_dict, version_from_dict, version_to_dict
from ._loading import Predictor, load_model_dir
from ._logging import LoggedModel, log_model, model_artifact_path
from ._mlflow_format import ModelSource, parse_source
from ._mlflow_stages import MLFLOW_STAGES, mlflow_stage, parse_stage, states_of_stage
from ._packaging import SavedModel, save_model_dir, verify_manifest, write_bundle
from ._ports import NewVersion, RegistryStore
from ._refs import ModelRef, check_alias, check_model_name, parse_ref
from ._service import PromotionGuard, RegistryService, RunReader
from ._timeline import Timeline, TimelineEvent, TimelineService
from ._types import Approval, ModelPage, ModelVersion, RegisteredModel, VersionFile, VersionPage
from .signature import ColumnSpec, Signature, infer_signature

__all__ = [
    "MLFLOW_STAGES",
    "Approval",
    "ColumnSpec",
    "LoggedModel",
    "ModelPage",
    "ModelRef",
    "ModelSource",
    "ModelVersion",
    "NewVersion",
    "Predictor",
    "PromotionGuard",
    "RegisteredModel",
    "RegistryService",
    "RegistryStore",
    "RunReader",
    "SavedModel",
    "Signature",
    "Timeline",
    "TimelineEvent",
    "TimelineService",
    "VersionFile",
    "VersionPage",
    "check_alias",
    "check_model_name",
    "infer_signature",
    "load_model_dir",
    "log_model",
    "mlflow_stage",
    "model_artifact_path",
    "model_from_dict",
    "model_to_dict",
    "parse_ref",
    "parse_source",
    "parse_stage",
    "save_model_dir",
    "states_of_stage",
    "verify_manifest",
    "version_from_dict",
    "version_to_dict",
    "write_bundle",
]
