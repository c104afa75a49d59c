"""Registry use cases: validate, build the audit event, one store call each."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Protocol

from steward.core import Run, RunStatus
from steward.core.lifecycle import ModelState, parse_state
from steward.core.limits import validate_tag
from steward.core.permissions import new_project
from steward.errors import ConflictError, IntegrityError, InvalidInputError, NotFoundError
from steward.governance import check_separation_of_duties
from steward.tracking import ArtifactInfo, AuditEvent, check_run_id, now_ms

from ._loading import Predictor, load_model_dir
from ._mlflow_format import MLMODEL_FILE, mlflow_meta_from_text
from ._mlflow_stages import parse_stage, stage_path, states_of_stage
from ._packaging import (
    MODEL_FILE,
    temp_folder,
    write_bundle,
    write_version_files,
)
from ._ports import NewVersion, RegistryStore
from ._refs import ModelRef, check_alias, check_model_name, parse_ref
from ._types import ModelPage, ModelVersion, RegisteredModel, VersionFile, VersionPage

__all__ = ["PromotionGuard", "RegistryService", "RunReader"]

MAX_RESULTS_LIMIT = 10_000


class RunReader(Protocol):
    """The part of tracking the registry reads: runs and their artifacts."""

    def get_run(self, run_id: str) -> Run: ...
    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]: ...
    def read_artifact(self, run_id: str, path: str) -> bytes: ...
    def read_blob(self, digest: str) -> bytes: ...


class PromotionGuard(Protocol):
    """Consulted before a version enters production (the evaluation stage's gates)."""

    def check_promotion(self, name: str, version: int) -> None:
        """Raise :class:`~steward.errors.ConflictError` when ``name:version`` may not be promoted."""
        ...


class RetirementGuard(Protocol):
    """Consulted before a version is retired (a version that serves traffic is not)."""

    def check_retirement(self, name: str, version: int) -> None:
        """Raise :class:`~steward.errors.ConflictError` when ``name:version`` may not be retired."""
        ...


class RegistryService:
    """Registered models, versions, aliases, lifecycle states and approvals.

    Args:
        store: registry metadata storage.
        runs: tracking, to read the run a version comes from and its model files.
        actor: who is acting (recorded in the audit trail).
        require_approval: refuse production without a recorded approval.
        separation_of_duties: refuse approvals by a version's author (team mode).
        promotion_guard: asked before any move to production (a failed gate blocks it).
        retirement_guard: asked before any move to retired (a serving version is refused).
    """

    def __init__(
        self, store: RegistryStore, runs: RunReader, actor: str, *, require_approval: bool = True,
        separation_of_duties: bool = False, promotion_guard: PromotionGuard | None = None,
        retirement_guard: RetirementGuard | None = None,
    ) -> None:
        self.store = store
        self.runs = runs
        self.actor = actor
        self.require_approval = require_approval
        self.separation_of_duties = separation_of_duties
        self.promotion_guard = promotion_guard
        self.retirement_guard = retirement_guard

    def _event(self, action: str, target: str, details: dict[str, object] | None = None) -> AuditEvent:
        return AuditEvent(self.actor, action, target, now_ms(), details or {})

    # -- models -------------------------------------------------------------------------

    def create_model(
        self, name: str, *, description: str = "", tags: Mapping[str, object] | None = None, project: str | None = None
    ) -> RegisteredModel:
        """Register a model name (owned by the actor) in ``project`` (default: its own name).

        Raises:
            InvalidInputError: a malformed name or tag.
            AlreadyExistsError: the name is taken.
        """
        check_model_name(name)
        clean = {k: validate_tag(k, v) for k, v in (tags or {}).items()}
        owner = new_project(name, project)
        return self.store.create_model(
            name, _text(description, "description"), self.actor, clean, now_ms(),
            self._event("models.create", f"models:/{name}", {"project": owner}), owner,
        )

    def get_model(self, name: str) -> RegisteredModel:
        return self.store.get_model(check_model_name(name))

    def list_models(
        self, *, name_prefix: str | None = None, max_results: int = 100, page_token: str | None = None,
        projects: Collection[str] | None = None,
    ) -> ModelPage:
        """Registered models by name (of ``projects`` only, when given: what the caller may read)."""
        return self.store.list_models(name_prefix, _max_results(max_results), page_token, projects)

    def update_model(self, name: str, *, description: str) -> RegisteredModel:
        check_model_name(name)
        return self.store.update_model(
            name, _text(description, "description"), now_ms(), self._event("models.update", f"models:/{name}")
        )

    def set_model_tag(self, name: str, key: str, value: object) -> None:
        text = validate_tag(key, value)
        self.store.set_model_tag(check_model_name(name), key, text, self._event("models.set_tag", f"models:/{name}", {"key": key}))

    def delete_model_tag(self, name: str, key: str) -> None:
        self.store.delete_model_tag(check_model_name(name), key, self._event("models.delete_tag", f"models:/{name}", {"key": key}))

    def delete_model(self, name: str) -> None:
        """Delete a registered model with all its versions, when none was ever approved.

        The name may be registered again; its versions then count on from the deleted
        model's last number, so ``name:1`` never names two different models.

        Raises:
            NotFoundError: no such model.
            ConflictError: a version is past candidate (it stays on record; retire it).
        """
        check_model_name(name)
        self.store.delete_model(name, now_ms(), self._event("models.delete", f"models:/{name}"))

    # -- versions -----------------------------------------------------------------------

    def create_version(
        self, name: str, run_id: str, *, artifact_path: str | None = None, description: str = "", create_model: bool = True,
        project: str | None = None,
    ) -> ModelVersion:
        """Register the model a run logged as the next version of ``name``.

        The version records the run's dataset inputs, its latest metrics and the model's
        signature, requirements and flavor, as they are now.

        Raises:
            NotFoundError: unknown run, or no model logged at ``artifact_path``.
            ConflictError: the run failed, was killed or is deleted.
        """
        check_model_name(name)
        check_run_id(run_id)
        path = (artifact_path or f"models/{name}").strip("/")
        # One listing pins every file (one query: one consistent state of the run's paths);
        # the metadata is read from the pinned blobs, so it describes exactly what is pinned.
        return self._create_version(
            name, run_id, path, None, description=description, create_model=create_model, project=project
        )

    def create_version_from_files(
        self, name: str, run_id: str, files: Collection[VersionFile], *, logged_model_id: str, description: str = ""
    ) -> ModelVersion:
        """Register files already in the content-addressed store (an MLflow 3 logged model's,
        by digest) as the next version of an existing model; ``run_id`` is the run that
        logged them.

        Raises:
            NotFoundError: unknown model or run, or no model file among ``files``.
            ConflictError: the run failed, was killed or is deleted.
        """
        check_model_name(name)
        check_run_id(run_id)
        return self._create_version(
            name, run_id, f"logged-models/{logged_model_id}", tuple(files), description=description, create_model=False,
            project=None, logged_model_id=logged_model_id,
        )

    def _create_version(
        self, name: str, run_id: str, path: str, files: tuple[VersionFile, ...] | None, *, description: str,
        create_model: bool, project: str | None, logged_model_id: str = "",
    ) -> ModelVersion:
        run = self.runs.get_run(run_id)
        if run.status in (RunStatus.FAILED, RunStatus.KILLED) or run.lifecycle_stage != "active":
            state = run.status.value if run.lifecycle_stage == "active" else "deleted"
            raise ConflictError(f"run {run_id} is {state}; only running or finished runs can be registered", field="run_id")
        pinned = self.list_run_files(run_id, path) if files is None else files
        meta = self.model_meta(run_id, path, pinned)
        new = NewVersion(
            name=name,
            run_id=run_id,
            artifact_path=path,
            flavor=str(meta.get("flavor", "")),
            signature=dict(meta.get("signature") or {}),
            requirements=list(meta.get("requirements", [])),
            datasets=sorted({i.dataset for i in run.inputs}),
            metrics={k: m.value for k, m in run.metrics.items() if math.isfinite(m.value)},
            description=_text(description, "description"),
            created_by=self.actor,
            created_at=now_ms(),
            files=pinned,
            project=new_project(name, project),
            logged_model_id=logged_model_id,
        )
        details: dict[str, object] = {"run_id": run_id, "path": path}
        if logged_model_id:
            details["logged_model_id"] = logged_model_id
        return self.store.create_version(
            new, create_model=create_model, audit=self._event("models.create_version", f"models:/{name}", details)
        )

    def model_meta(self, run_id: str, path: str, files: Collection[VersionFile]) -> dict[str, Any]:  # Any: JSON
        """What the model folder says of itself, read from the pinned blobs: its
        ``steward-model.json``, or for an MLflow-format folder its ``MLmodel`` file.

        Raises:
            NotFoundError: the folder holds neither file.
            InvalidInputError: the file does not parse.
        """
        by_path = {f.path: f for f in files}
        if MODEL_FILE in by_path:
            try:
                meta: dict[str, Any] = json.loads(self.runs.read_blob(by_path[MODEL_FILE].digest))  # Any: JSON
            except ValueError as exc:
                raise InvalidInputError(f"{path}/{MODEL_FILE} is not valid JSON", field="artifact_path") from exc
            return meta
        if MLMODEL_FILE in by_path:
            requirements = by_path.get("requirements.txt")
            return mlflow_meta_from_text(
                self.runs.read_blob(by_path[MLMODEL_FILE].digest),
                self.runs.read_blob(requirements.digest) if requirements is not None else None,
            )
        raise NotFoundError(
            f"run {run_id} has no model at {path[:200]!r}; log one with run.log_model (or mlflow's log_model)",
            field="artifact_path",
        )

    def get_version(self, name: str, version: int) -> ModelVersion:
        return self.store.get_version(check_model_name(name), _version(version))

    def update_version(self, name: str, version: int, *, description: str) -> ModelVersion:
        """Change a version's description (its files and snapshots never change)."""
        v = _version(version)
        return self.store.update_version(
            check_model_name(name), v, _text(description, "description"), now_ms(),
            self._event("models.update_version", f"models:/{name}/{v}"),
        )

    def delete_version(self, name: str, version: int) -> None:
        """Delete a version that was never approved (its number is not reused).

        Raises:
            NotFoundError: no such model or version.
            ConflictError: the version is past candidate (it stays on record; retire it).
        """
        v = _version(version)
        self.store.delete_version(check_model_name(name), v, self._event("models.delete_version", f"models:/{name}/{v}"))

    def list_run_files(self, run_id: str, artifact_path: str) -> tuple[VersionFile, ...]:
        """The files under ``artifact_path`` of a run as they are now, as a version pins them
        (paths relative to the folder). One query: one consistent state of the run's paths."""
        prefix = artifact_path.strip("/") + "/"
        return tuple(VersionFile(i.path.removeprefix(prefix), i.digest, i.size) for i in self.runs.list_artifacts(run_id, artifact_path))

    def resolve(self, ref: str | ModelRef) -> ModelVersion:
        """The version a reference names: ``fraud:3``, ``fraud@champion``, ``fraud/production``,
        ``models:/fraud/3`` or just ``fraud`` (the latest version).

        Raises:
            InvalidInputError: a malformed reference.
            NotFoundError: no such model, version, alias, or no version in that state.
        """
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        if parsed.version is not None:
            return self.store.get_version(parsed.name, parsed.version)
        if parsed.alias is not None:
            return self.store.get_version_by_alias(parsed.name, parsed.alias)
        return self.store.get_latest_version(parsed.name, parsed.state)

    def resolve_for_use(self, ref: str | ModelRef, *, allow_retired: bool = False, purpose: str = "load") -> ModelVersion:
        """Resolve ``ref`` for loading; a retired version needs ``allow_retired`` and that use
        is written to the audit trail.

        Raises:
            ConflictError: the version is retired and ``allow_retired`` is False.
        """
        found = self.resolve(ref)
        if found.state is ModelState.RETIRED:
            if not allow_retired:
                raise ConflictError(
                    f"{found.name}:{found.version} is retired; pass allow_retired=True (audited) to {purpose} it anyway",
                    field="allow_retired",
                )
            self.store.record(self._event(f"models.{purpose}_retired", found.uri, {"ref": str(ref)}))
        return found

    def check_deployable(self, version: ModelVersion) -> None:
        """Refuse to deploy a retired version (the serving stage calls this).

        Raises:
            ConflictError: the version is retired.
        """
        if version.state is ModelState.RETIRED:
            raise ConflictError(f"{version.name}:{version.version} is retired and cannot be deployed", field="state")

    def list_versions(
        self, name: str, *, state: str | None = None, max_results: int = 100, page_token: str | None = None
    ) -> VersionPage:
        """Versions of one model, newest first."""
        self.store.get_model(check_model_name(name))
        return self.search_versions(name=name, state=state, max_results=max_results, page_token=page_token)

    def search_versions(
        self,
        *,
        name: str | None = None,
        name_prefix: str | None = None,
        state: str | None = None,
        run_id: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        projects: Collection[str] | None = None,
    ) -> VersionPage:
        """Versions across models, by exact name, name prefix, state and/or run (of models
        in ``projects`` only, when given)."""
        return self.store.search_versions(
            projects=projects,
            name=name,
            name_prefix=name_prefix,
            state=parse_state(state) if state else None,
            run_id=run_id,
            max_results=_max_results(max_results),
            page_token=page_token,
        )

    # -- aliases, tags, states, approvals -------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        """Point ``alias`` at ``version`` in one atomic step (it leaves any other version)."""
        check_model_name(name)
        check_alias(alias)
        v = _version(version)
        return self.store.set_alias(
            name, alias, v, self.actor, now_ms(), self._event("models.set_alias", f"models:/{name}@{alias}", {"version": v})
        )

    def delete_alias(self, name: str, alias: str) -> None:
        check_model_name(name)
        check_alias(alias)
        self.store.delete_alias(name, alias, self._event("models.delete_alias", f"models:/{name}@{alias}"))

    def set_version_tag(self, name: str, version: int, key: str, value: object) -> None:
        text = validate_tag(key, value)
        v = _version(version)
        self.store.set_version_tag(check_model_name(name), v, key, text, self._event("models.set_version_tag", f"models:/{name}/{v}", {"key": key}))

    def delete_version_tag(self, name: str, version: int, key: str) -> None:
        v = _version(version)
        self.store.delete_version_tag(check_model_name(name), v, key, self._event("models.delete_version_tag", f"models:/{name}/{v}", {"key": key}))

    def transition(self, name: str, version: int, state: str | ModelState, *, comment: str = "") -> ModelVersion:
        """Move a version to ``state`` along the lifecycle table.

        Raises:
            ConflictError: the table does not allow it (the message names the allowed
                states), or production without an approval while ``require_approval``.
        """
        target = state if isinstance(state, ModelState) else parse_state(state)
        v = _version(version)
        if target is ModelState.PRODUCTION and self.promotion_guard is not None:
            self.promotion_guard.check_promotion(check_model_name(name), v)
        if target is ModelState.RETIRED and self.retirement_guard is not None:
            self.retirement_guard.check_retirement(check_model_name(name), v)
        return self.store.transition(
            check_model_name(name),
            v,
            target,
            require_approval=self.require_approval,
            now=now_ms(),
            audit=self._event("models.transition", f"models:/{name}/{v}", {"comment": _text(comment, "comment")}),
        )

    def transition_stage(
        self, name: str, version: int, stage: str, *, archive_existing: bool = False, comment: str = ""
    ) -> ModelVersion:
        """Show ``name:version`` in MLflow's ``stage`` (``None``, ``Staging``, ``Production``,
        ``Archived``) by moving it through Steward's states, one audited transition each
        (see :mod:`steward.registry._mlflow_stages` for the mapping).

        ``archive_existing`` then archives the other versions shown in that stage
        (Staging or Production), as MLflow does.

        Raises:
            InvalidInputError: not an MLflow stage.
            ConflictError: Steward's lifecycle cannot get there (names the stages it can),
                or production needs an approval or a passed gate.
        """
        target = parse_stage(stage)
        current = self.get_version(name, version)
        for state in stage_path(current.state, target):
            current = self.transition(name, current.version, state, comment=comment)
        if archive_existing and target in ("Staging", "Production"):
            for state in states_of_stage(target):
                for other in self.search_versions(name=name, state=state.value, max_results=MAX_RESULTS_LIMIT).versions:
                    if other.version != current.version:
                        self.transition(name, other.version, ModelState.DEPRECATED, comment=f"archived by {name}:{current.version}")
        return current

    def retire(self, name: str, version: int, *, comment: str = "") -> ModelVersion:
        """Move a version to ``retired`` (final: it can no longer be deployed)."""
        return self.transition(name, version, ModelState.RETIRED, comment=comment)

    def approve(self, name: str, version: int, *, comment: str) -> ModelVersion:
        """Record the actor's approval (a candidate becomes approved).

        Raises:
            InvalidInputError: an empty comment: an approval says why.
            PermissionDeniedError: the actor wrote the version (separation of duties).
        """
        text = _text(comment, "comment")
        if not text.strip():
            raise InvalidInputError("an approval needs a comment saying why", field="comment")
        v = _version(version)
        if self.separation_of_duties:
            check_separation_of_duties(self.actor, self.store.get_version(check_model_name(name), v).created_by)
        return self.store.add_approval(
            check_model_name(name), v, self.actor, text, now_ms(), self._event("models.approve", f"models:/{name}/{v}")
        )

    # -- files ----------------------------------------------------------------------------

    def list_version_files(self, name: str, version: int) -> list[VersionFile]:
        """The files pinned when ``name:version`` was registered (path, sha256, size), by path.

        Empty for a version registered before manifests existed: it loads the run's files.

        Raises:
            NotFoundError: no such model or version.
        """
        return self.store.list_version_files(check_model_name(name), _version(version))

    def read_version_file(self, version: ModelVersion, file: VersionFile) -> bytes:
        """The bytes of one pinned file, checked against the digest recorded at registration.

        Raises:
            IntegrityError: the blob no longer matches that digest (tampered with); names the file.
            NotFoundError: the blob is gone from the artifact store; names the file.
        """
        where = f"{version.name}:{version.version}"
        try:
            data = self.runs.read_blob(file.digest)
        except IntegrityError:
            raise IntegrityError(
                f"file {file.path!r} of {where} does not match the sha256 recorded at registration "
                f"({file.digest[:12]}); the artifact store was changed, refusing to load it",
                field="path",
            ) from None
        except NotFoundError:
            raise NotFoundError(
                f"file {file.path!r} of {where} (sha256 {file.digest[:12]}) is missing from the artifact store", field="path"
            ) from None
        return data

    def get_version_file(self, name: str, version: int, path: str) -> tuple[VersionFile, bytes]:
        """One pinned file of ``name:version`` and its verified bytes (the REST download).

        Raises:
            NotFoundError: no such version, or no such file in it.
            IntegrityError: the stored bytes differ from the recorded digest.
        """
        found = self.get_version(name, version)
        for file in self.store.list_version_files(found.name, found.version):
            if file.path == path:
                return file, self.read_version_file(found, file)
        raise NotFoundError(f"{found.name}:{found.version} has no file {path[:200]!r}", field="path")

    def download(self, version: ModelVersion, dest: Path) -> Path:
        """Write the version's model files into the folder ``dest``: the blobs pinned at
        registration, each verified against its recorded digest.

        Raises:
            IntegrityError: a file's bytes differ from its recorded digest (named).
            NotFoundError: a file is missing (named).
        """
        files = self.store.list_version_files(version.name, version.version)
        return write_version_files(version, dest, files, self.read_version_file, self.runs.list_artifacts, self.runs.read_artifact)

    def load(self, ref: str, *, trusted: bool = False, allow_retired: bool = False) -> Predictor:
        """Load a registered version as a :class:`Predictor` (hashes checked first)."""
        found = self.resolve_for_use(ref, allow_retired=allow_retired)
        with temp_folder() as tmp:
            folder = self.download(found, Path(tmp))
            return load_model_dir(folder, trusted=trusted, source=found.uri)

    def package(self, ref: str, out: Path, *, allow_retired: bool = False) -> Path:
        """Write a self-contained bundle of a version to ``out`` (an empty or new folder)."""
        found = self.resolve_for_use(ref, allow_retired=allow_retired, purpose="package")
        with temp_folder() as tmp:
            folder = self.download(found, Path(tmp))
            return write_bundle(
                folder,
                out,
                {"uri": found.uri, "name": found.name, "version": found.version, "run_id": found.run_id, "state": found.state.value},
            )


def _version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        try:
            number = int(str(value))
        except ValueError:
            raise InvalidInputError("version must be a positive integer", field="version") from None
        if number < 1:
            raise InvalidInputError("version must be a positive integer", field="version")
        return number
    return value


def _max_results(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RESULTS_LIMIT:
        raise InvalidInputError(f"max_results must be between 1 and {MAX_RESULTS_LIMIT}", field="max_results")
    return value


def _text(value: object, field: str, limit: int = 20_000) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string", field=field)
    if len(value) > limit:
        raise InvalidInputError(f"{field} is {len(value)} characters; the maximum is {limit}", field=field)
    return value


