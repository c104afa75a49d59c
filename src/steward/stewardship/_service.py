"""Model stewardship use cases: owners and on-call contacts, retirement, rollback drills.

Each mutation is one store call that writes its audit entry in the same transaction, with a
target the model's timeline reads (``models:/fraud``, ``models:/fraud/2``,
``deployments:/fraud-api``).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from steward.core.lifecycle import ModelState
from steward.errors import ConflictError, InvalidInputError, NotFoundError
from steward.tracking import AuditEvent, now_ms

from ._ports import StewardshipStore
from ._types import RETRAIN_ACTIONS, Drill, ModelSteward, Retirement

if TYPE_CHECKING:
    from steward.registry import RegistryService
    from steward.serving import Deployment, DeploymentService

__all__ = ["RETENTION_POLICIES", "StewardshipService"]

RETENTION_POLICIES = ("keep", "archive")
_CONTACT = re.compile(r"[^\x00-\x1f\x7f]{1,500}")
_USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,249}")


def _user(value: object, field: str) -> str:
    text = str(value or "").strip()
    if not _USER.fullmatch(text):
        raise InvalidInputError(f"{field} must be a user name (letters, digits, . _ @ + -, at most 250)", field=field)
    return text


def _contact(value: object) -> str:
    text = str(value or "").strip()
    if text and not _CONTACT.fullmatch(text):
        raise InvalidInputError("on_call must be one line of at most 500 characters", field="on_call")
    return text


def _serves(deployment: Deployment, label: str) -> list[str]:
    """The variants of ``deployment`` through which ``label`` takes live or mirrored traffic."""
    return [v.name for v in deployment.plan.variants if v.model == label and (v.weight > 0 or v.shadow)]


class StewardshipService:
    """Owners, retirement and rollback drills of registered models.

    Args:
        store: where owners, retirements and drills are kept.
        registry: the registry, acting as the same actor.
        deployments: the deployments, acting as the same actor.
        actor: who acts (recorded in the audit trail).
        retention: what retiring does with a version's files: ``keep`` or ``archive``.
        archive_dir: where ``archive`` writes a version's bundle.
    """

    def __init__(
        self, store: StewardshipStore, registry: RegistryService, deployments: DeploymentService, actor: str, *,
        retention: str = "keep", archive_dir: Path | None = None,
    ) -> None:
        if retention not in RETENTION_POLICIES:
            raise InvalidInputError(f"retention must be one of {', '.join(RETENTION_POLICIES)}", field="retention")
        self.store = store
        self.registry = registry
        self.deployments = deployments
        self.actor = actor
        self.retention = retention
        self.archive_dir = archive_dir

    def _event(self, action: str, target: str, details: dict[str, object] | None = None) -> AuditEvent:
        return AuditEvent(self.actor, action, target, now_ms(), details or {})

    # -- owners ----------------------------------------------------------------------------

    def set_owner(self, name: str, *, owner: str | None = None, on_call: str | None = None) -> ModelSteward:
        """Set a model's owner and/or on-call contact (what is not given stays).

        Raises:
            NotFoundError: no such model.
            InvalidInputError: a malformed owner or contact.
        """
        model = self.registry.get_model(name)
        current = self.get_owner(model.name)
        who = _user(owner, "owner") if owner is not None else current.owner
        contact = _contact(on_call) if on_call is not None else current.on_call
        steward = ModelSteward(model.name, who, contact, now_ms(), self.actor)
        return self.store.set_steward(
            steward, self._event("models.set_owner", f"models:/{model.name}", {"owner": who, "on_call": contact})
        )

    def get_owner(self, name: str) -> ModelSteward:
        """The model's owner and on-call contact; the user who registered it until one is set.

        Raises:
            NotFoundError: no such model.
        """
        model = self.registry.get_model(name)
        found = self.store.get_steward(model.name)
        return found if found is not None else ModelSteward(model.name, model.owner, "", model.created_at, model.owner)

    def contacts_for_deployment(self, deployment: str) -> dict[str, str]:
        """Whom an alert on ``deployment`` names: its primary model's owner and on-call (empty
        when the deployment or the model is gone)."""
        try:
            primary = self.deployments.get_deployment(deployment).variant("primary")
            if primary is None:
                return {}
            steward = self.get_owner(primary.model.split(":", 1)[0])
        except NotFoundError:
            return {}
        return {"model": steward.name, "owner": steward.owner, "on_call": steward.on_call}

    # -- retirement -----------------------------------------------------------------------

    def serving(self, name: str, version: int) -> dict[str, list[str]]:
        """Deployment -> the variants through which ``name:version`` takes traffic now."""
        label = f"{name}:{version}"
        found: dict[str, list[str]] = {}
        for d in self.deployments.list_deployments():
            variants = _serves(d, label)
            if variants:
                found[d.name] = variants
        return found

    def retire(self, name: str, version: int, *, drain: bool = False, comment: str = "") -> Retirement:
        """Retire ``name:version``: refused while it serves traffic unless ``drain`` (its
        traffic goes to the champion first); its files are kept or archived by the retention
        policy; its state becomes ``retired`` (its card says so); what served it when is kept.

        Raises:
            NotFoundError: no such version.
            ConflictError: it serves traffic (the message names the deployments), it is the
                champion a drain would move traffic to, or it is already retired.
        """
        found = self.registry.get_version(name, version)
        if found.state is ModelState.RETIRED:
            raise ConflictError(f"{found.name}:{found.version} is already retired", field="version")
        label = f"{found.name}:{found.version}"
        serving = self.serving(found.name, found.version)
        if serving and not drain:
            names = ", ".join(f"{d} ({'/'.join(v)})" for d, v in sorted(serving.items()))
            raise ConflictError(
                f"{label} serves traffic on deployment {names}; drain it first (--drain moves its traffic to the champion)",
                field="version",
            )
        drained = [self._drain(d, label, found.name) for d in sorted(serving)]
        served = self._served(label)
        archive, digest = self._archive(label) if self.retention == "archive" else ("", "")
        self.registry.retire(found.name, found.version, comment=comment or "retired")
        retirement = Retirement(
            found.name, found.version, now_ms(), self.actor, self.retention, archive, digest, drained, served, comment,
        )
        details: dict[str, object] = {
            "retention": self.retention, "archive": archive, "archive_sha256": digest, "drained": drained,
            "served": served, "comment": comment,
        }
        return self.store.add_retirement(retirement, self._event("model_version.retire", f"models:/{found.name}/{found.version}", details))

    def _drain(self, deployment: str, label: str, name: str) -> str:
        current = self.deployments.get_deployment(deployment)
        why = f"draining {label} before retiring it"
        if any(v.model == label and v.name in ("candidate", "shadow") for v in current.plan.variants):
            current = self.deployments.rollback(deployment, reason=why)  # drops the candidate or shadow
        primary = current.variant("primary")
        if primary is not None and primary.model == label:
            try:
                champion = self.registry.resolve(f"{name}@champion")
            except NotFoundError:
                raise ConflictError(f"{label} is the primary of {deployment} and {name} has no @champion to drain to", field="version") from None
            if f"{champion.name}:{champion.version}" == label:
                raise ConflictError(
                    f"{label} is the champion serving {deployment}; promote another version first", field="version"
                )
            if any(v.name in ("candidate", "shadow") for v in current.plan.variants):
                current = self.deployments.rollback(deployment, reason=why)
            self.deployments.switch(deployment, f"{champion.name}:{champion.version}", reason=why)
        return deployment

    def _served(self, label: str) -> list[dict[str, object]]:
        """Every stretch a deployment sent ``label`` traffic, from the deployments' history."""
        stretches: list[dict[str, object]] = []
        for d in self.deployments.list_deployments():
            history = sorted(self.deployments.list_history(d.name, max_results=10_000), key=lambda h: h.id)
            open_since: dict[str, int] = {}
            for h in history:
                now_in = {v.name for v in h.variants if v.model == label and (v.weight > 0 or v.shadow)}
                for variant in list(open_since):
                    if variant not in now_in:
                        stretches.append({"deployment": d.name, "variant": variant, "from_ms": open_since.pop(variant), "to_ms": h.created_at})
                for variant in now_in:
                    open_since.setdefault(variant, h.created_at)
            for variant, since in open_since.items():
                stretches.append({"deployment": d.name, "variant": variant, "from_ms": since, "to_ms": None})
        return stretches

    def _archive(self, label: str) -> tuple[str, str]:
        if self.archive_dir is None:
            raise InvalidInputError("the archive retention policy needs an archive folder", field="retention")
        name, _, version = label.partition(":")
        folder = self.archive_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        path = self.registry.package(label, folder / f"{name}-{version}", allow_retired=True)
        digest = hashlib.sha256()  # over every file's path and bytes, in path order
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(path).as_posix().encode() if path.is_dir() else file.name.encode())
            digest.update(file.read_bytes())
        return str(path), digest.hexdigest()

    def get_retirement(self, name: str, version: int) -> Retirement:
        """How ``name:version`` was retired. Raises NotFoundError when it was not (through here)."""
        found = self.store.get_retirement(name, int(version))
        if found is None:
            raise NotFoundError(f"{name}:{version} has no retirement record")
        return found

    # -- rollback drills ----------------------------------------------------------------------

    def record_drill(self, drill: Drill) -> Drill:
        """Store a drill's outcome (audited on the deployment, so its models' timelines show it)."""
        self.deployments.get_deployment(drill.deployment)
        stored = Drill(
            drill.deployment, drill.started_at, self.actor, drill.serving, drill.rehearsed, int(drill.rollback_ms),
            int(drill.restore_ms), int(drill.requests), int(drill.failed), bool(drill.passed),
        )
        details: dict[str, object] = {k: v for k, v in stored.to_dict().items() if k not in ("id", "deployment", "actor")}
        return self.store.add_drill(stored, self._event("deployments.drill", f"deployments:/{drill.deployment}", details))

    def last_drill(self, deployment: str) -> Drill | None:
        """When the deployment's rollback plan was last tested, and how it went."""
        self.deployments.get_deployment(deployment)
        return self.store.last_drill(deployment)

    def record_stage(self, name: str, action: str, details: dict[str, object], *, version: int | None = None) -> None:
        """Audit one stage of a lifecycle run on the model (or one version) so its timeline shows it.

        Raises:
            InvalidInputError: ``action`` is not one of :data:`RETRAIN_ACTIONS`.
            NotFoundError: no such model or version.
        """
        if action not in RETRAIN_ACTIONS:
            raise InvalidInputError(f"action must be one of {', '.join(RETRAIN_ACTIONS)}", field="action")
        if version is None:
            self.registry.get_model(name)
        else:
            self.registry.get_version(name, version)
        target = f"models:/{name}" if version is None else f"models:/{name}/{version}"
        self.store.record(self._event(action, target, details))
