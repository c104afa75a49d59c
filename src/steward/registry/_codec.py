"""JSON-ready dicts for registry entities, shared by the server and the HTTP client."""

from __future__ import annotations

from typing import Any

from steward.core.lifecycle import ModelState

from ._types import Approval, ModelVersion, RegisteredModel

__all__ = ["model_from_dict", "model_to_dict", "version_from_dict", "version_to_dict"]


def model_to_dict(m: RegisteredModel) -> dict[str, Any]:  # Any: JSON
    return {
        "name": m.name,
        "description": m.description,
        "owner": m.owner,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "latest_version": m.latest_version,
        "tags": dict(m.tags),
        "aliases": dict(m.aliases),
        "project": m.project,
    }


def model_from_dict(d: dict[str, Any]) -> RegisteredModel:  # Any: JSON
    return RegisteredModel(
        d["name"], d["description"], d["owner"], d["created_at"], d["updated_at"], d["latest_version"], dict(d["tags"]), dict(d["aliases"]),
        str(d.get("project") or d["name"]),
    )


def version_to_dict(v: ModelVersion) -> dict[str, Any]:  # Any: JSON
    return {
        "name": v.name,
        "version": v.version,
        "uri": v.uri,
        "run_id": v.run_id,
        "artifact_path": v.artifact_path,
        "state": v.state.value,
        "flavor": v.flavor,
        "created_by": v.created_by,
        "created_at": v.created_at,
        "updated_at": v.updated_at,
        "description": v.description,
        "signature": v.signature,
        "requirements": list(v.requirements),
        "datasets": list(v.datasets),
        "metrics": dict(v.metrics),
        "tags": dict(v.tags),
        "aliases": list(v.aliases),
        "approvals": [{"approver": a.approver, "comment": a.comment, "created_at": a.created_at} for a in v.approvals],
        "logged_model_id": v.logged_model_id or None,
    }


def version_from_dict(d: dict[str, Any]) -> ModelVersion:  # Any: JSON
    return ModelVersion(
        d["name"],
        int(d["version"]),
        d["run_id"],
        d["artifact_path"],
        ModelState(d["state"]),
        d["flavor"],
        d["created_by"],
        d["created_at"],
        d["updated_at"],
        d.get("description", ""),
        dict(d.get("signature") or {}),
        list(d.get("requirements", [])),
        list(d.get("datasets", [])),
        dict(d.get("metrics", {})),
        dict(d.get("tags", {})),
        list(d.get("aliases", [])),
        [Approval(a["approver"], a["comment"], a["created_at"]) for a in d.get("approvals", [])],
        str(d.get("logged_model_id") or ""),
    )
