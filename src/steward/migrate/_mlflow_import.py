"""Import an MLflow store: experiments, runs (params, tags, full metric history,
artifacts), registered models, their versions and aliases.

MLflow is never imported here. :func:`export_mlflow` runs the standalone exporter
(``_mlflow_export.py``) with a python that has MLflow; :func:`import_dump` reads its dump.

Idempotent: a run keeps its MLflow run id (both are 32 hex digits) and carries the tag
``mlflow.run_id``; a model carries ``mlflow.name``, a version ``mlflow.version``. What is
already there is skipped, so importing twice changes nothing.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.core import Metric, RunStatus
from steward.core.codec import float_in
from steward.core.limits import MAX_TAG_VALUE_LENGTH
from steward.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StewardError,
    StorageError,
)
from steward.registry import NewVersion, RegistryService, check_alias
from steward.tracking import AuditEvent, TrackingService, now_ms

__all__ = ["ImportSummary", "export_mlflow", "import_dump", "steward_model_name"]

JSON = dict[str, Any]  # Any: JSON values
EXPORTER = Path(__file__).with_name("_mlflow_export.py")
_BATCH = 5_000
_STATUS = {"FINISHED": RunStatus.FINISHED, "FAILED": RunStatus.FAILED, "KILLED": RunStatus.KILLED}
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
REGISTRY_EXPERIMENT = "mlflow-registry-import"


@dataclass(slots=True)
class ImportSummary:
    """What an import created and what it found already there."""

    experiments_created: int = 0
    runs_created: int = 0
    runs_existing: int = 0
    metric_points: int = 0
    artifacts: int = 0
    models_created: int = 0
    versions_created: int = 0
    versions_existing: int = 0
    aliases_set: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> JSON:
        return {k: getattr(self, k) for k in self.__slots__}


def export_mlflow(tracking_uri: str, out: Path, *, python: str | None = None, timeout: float = 3_600) -> JSON:
    """Dump an MLflow store into ``out`` with ``python`` (default: this interpreter).

    Raises:
        InvalidInputError: that python has no mlflow.
        StorageError: the exporter failed (its last error line is in the message).
    """
    exe = python or sys.executable
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    try:
        proc = subprocess.run(
            [exe, str(EXPORTER), tracking_uri, str(out)], capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StorageError(f"could not run the MLflow exporter with {exe[:200]!r}: {exc}") from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1][:400]
        if "No module named 'mlflow'" in proc.stderr:
            raise InvalidInputError(f"{exe[:200]} has no mlflow; pass --python with an interpreter that has it", field="python")
        raise StorageError(f"the MLflow export failed: {last}")
    lines = proc.stdout.strip().splitlines()
    summary: JSON = json.loads(lines[-1]) if lines else {}
    return summary


def steward_model_name(name: str) -> str:
    """MLflow's free-form model name as a Steward name: case kept (``ElasticnetWineModel``
    stays so), each run of characters a Steward name cannot hold as ``-``."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-._")
    return (text or "model")[:63]


def _float(value: object) -> float:
    if isinstance(value, str) and value not in ("NaN", "Infinity", "-Infinity"):
        return math.nan  # the exporter writes only those three; anything else is not a number
    return float_in(value)


def _tag(value: object, summary: ImportSummary, where: str) -> str:
    text = str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        summary.warnings.append(f"{where}: tag value truncated to {MAX_TAG_VALUE_LENGTH} characters")
        return text[: MAX_TAG_VALUE_LENGTH - 3] + "..."
    return text


def _records(dump: Path) -> Iterator[JSON]:
    path = dump / "dump.jsonl"
    if not path.is_file():
        raise NotFoundError(f"{str(path)[:300]!r} is not an MLflow export (no dump.jsonl)", field="dump")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                yield json.loads(line)
            except ValueError as exc:
                raise InvalidInputError(f"dump.jsonl line {number} is not JSON", field="dump") from exc


def import_dump(dump: Path, tracking: TrackingService, registry: RegistryService) -> ImportSummary:
    """Copy everything in an export folder into Steward; skip what is there already."""
    summary = ImportSummary()
    experiments: dict[str, str] = {}
    imported_runs: set[str] = set()
    models: dict[str, str] = {}
    for record in _records(dump):
        kind = record.get("type")
        if kind == "experiment":
            experiments[str(record["experiment_id"])] = _experiment(record, tracking, summary)
        elif kind == "run":
            if _run(record, dump, tracking, experiments, summary):
                imported_runs.add(str(record["run_id"]))
        elif kind == "model":
            models[str(record["name"])] = _model(record, registry, summary)
        elif kind == "model_version":
            _version(record, dump, tracking, registry, models, summary)
    for record in _records(dump):
        if record.get("type") == "model":
            _aliases(record, registry, models, summary)
    return summary


def _experiment(record: JSON, tracking: TrackingService, summary: ImportSummary) -> str:
    name = str(record["name"])
    found = tracking.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    tags = {k: _tag(v, summary, f"experiment {name}") for k, v in (record.get("tags") or {}).items()}
    tags["mlflow.experiment_id"] = str(record["experiment_id"])
    created = tracking.create_experiment(name, tags)
    summary.experiments_created += 1
    return created.experiment_id


def _run(record: JSON, dump: Path, tracking: TrackingService, experiments: dict[str, str], summary: ImportSummary) -> bool:
    rid = str(record["run_id"])
    if not _RUN_ID.match(rid):
        summary.warnings.append(f"run {rid[:40]!r}: not a 32-hex run id; skipped")
        return False
    try:
        existing = tracking.get_run(rid)
    except NotFoundError:
        existing = None
    if existing is not None:
        if existing.tags.get("mlflow.run_id") != rid:
            summary.warnings.append(f"run {rid}: a Steward run with this id exists and was not imported from MLflow; skipped")
        summary.runs_existing += 1
        return True
    experiment = experiments.get(str(record["experiment_id"]))
    if experiment is None:
        summary.warnings.append(f"run {rid}: its experiment was not exported; skipped")
        return False
    tags = {k: _tag(v, summary, f"run {rid}") for k, v in (record.get("tags") or {}).items() if k != "mlflow.runName"}
    tags["mlflow.run_id"] = rid
    name = record.get("run_name") or None
    tracking.create_run(
        experiment, name=name, params=record.get("params") or {}, tags=tags, start_time=int(record.get("start_time") or now_ms()),
        user=str(record.get("user_id") or "") or None, run_id=rid,
    )
    points = [
        Metric(key, _float(value), int(step), int(timestamp))
        for key, history in (record.get("metrics") or {}).items()
        for step, value, timestamp in history
    ]
    for start in range(0, len(points), _BATCH):
        tracking.log_batch(rid, metrics=points[start : start + _BATCH])
    summary.metric_points += len(points)
    folder = dump / "runs" / rid
    for rel in record.get("files") or []:
        tracking.log_artifact_file(rid, str(folder / rel), rel)
        summary.artifacts += 1
    status = _STATUS.get(str(record.get("status")))
    if status is not None:
        tracking.end_run(rid, status, end_time=record.get("end_time"))
    if record.get("lifecycle_stage") == "deleted":
        tracking.delete_run(rid)
    summary.runs_created += 1
    return True


def _model(record: JSON, registry: RegistryService, summary: ImportSummary) -> str:
    source = str(record["name"])
    name = steward_model_name(source)
    try:
        found = registry.get_model(name)
    except NotFoundError:
        found = None
    if found is not None:
        if found.tags.get("mlflow.name") != source:
            raise ConflictError(
                f"model {name!r} exists and was not imported from MLflow model {source[:64]!r}; rename one of them first",
                field="name",
            )
        return name
    tags = {k: _tag(v, summary, f"model {source}") for k, v in (record.get("tags") or {}).items()}
    tags["mlflow.name"] = source
    registry.create_model(name, description=str(record.get("description") or ""), tags=tags)
    summary.models_created += 1
    return name


def _version(record: JSON, dump: Path, tracking: TrackingService, registry: RegistryService, models: dict[str, str], summary: ImportSummary) -> None:
    source_name = str(record["name"])
    name = models.get(source_name)
    number = str(record["version"])
    if name is None:
        summary.warnings.append(f"{source_name} v{number}: its model was not exported; skipped")
        return
    existing = {v.tags.get("mlflow.version") for v in registry.list_versions(name, max_results=10_000).versions}
    if number in existing:
        summary.versions_existing += 1
        return
    rid = _version_run(record, tracking, summary)
    path = f"mlflow-models/{name}/v{number}"
    folder = dump / "model_versions" / str(record["folder"])
    requirements: list[str] = []
    for rel in record.get("files") or []:
        tracking.log_artifact_file(rid, str(folder / rel), f"{path}/{rel}")
        if rel == "requirements.txt":
            requirements = [ln.strip() for ln in (folder / rel).read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    if record.get("download_error"):
        summary.warnings.append(f"{source_name} v{number}: files not copied ({record['download_error'][:200]})")
    run = tracking.get_run(rid)
    files = registry.list_run_files(rid, path)
    try:
        meta = registry.model_meta(rid, path, files)
    except StewardError:
        meta = {}  # no MLmodel exported (or not one): kept as files, loading names the problem
    signature = meta.get("signature") or {}
    requirements = list(meta.get("requirements") or requirements)
    new = NewVersion(
        name=name, run_id=rid, artifact_path=path, flavor="mlflow", signature=signature, requirements=requirements,
        datasets=sorted({i.dataset for i in run.inputs}), metrics={k: m.value for k, m in run.metrics.items() if math.isfinite(m.value)},
        description=str(record.get("description") or ""), created_by=registry.actor, created_at=int(record.get("creation_timestamp") or now_ms()),
        files=files,  # pinned, as create_version pins Steward's own models
    )
    # Written through the store to keep MLflow's creation time and version numbering apart
    # from create_version's checks of the run (still audited); the MLmodel file describes it.
    audit = AuditEvent(registry.actor, "models.import_version", f"models:/{name}", now_ms(), {"run_id": rid, "mlflow_version": number})
    try:
        created = registry.store.create_version(new, create_model=False, audit=audit)
    except ConflictError as exc:
        summary.warnings.append(f"{source_name} v{number}: {exc.message}; skipped")
        return
    tags = {k: _tag(v, summary, f"{source_name} v{number}") for k, v in (record.get("tags") or {}).items()}
    tags.update({"mlflow.version": number, "mlflow.source": _tag(record.get("source") or "", summary, "source"), "mlflow.stage": str(record.get("stage") or "None")})
    for key, value in tags.items():
        registry.set_version_tag(name, created.version, key, value)
    summary.versions_created += 1


def _version_run(record: JSON, tracking: TrackingService, summary: ImportSummary) -> str:
    rid = str(record.get("run_id") or "")
    if rid:
        try:
            run = tracking.get_run(rid)
            if run.status not in (RunStatus.FAILED, RunStatus.KILLED) and run.lifecycle_stage == "active":
                return rid
        except NotFoundError:
            pass
    # no usable run (none recorded, not exported, failed or deleted): one placeholder run holds the files
    experiment = tracking.get_or_create_experiment(REGISTRY_EXPERIMENT)
    run = tracking.create_run(
        experiment.experiment_id, name=f"{steward_model_name(str(record['name']))}-v{record['version']}",
        tags={"mlflow.model_version_run": str(record.get("run_id") or "none")},
    )
    tracking.end_run(run.run_id)
    summary.warnings.append(f"{record['name']} v{record['version']}: no usable run; files kept in run {run.run_id}")
    return run.run_id


def _aliases(record: JSON, registry: RegistryService, models: dict[str, str], summary: ImportSummary) -> None:
    name = models.get(str(record["name"]))
    if name is None:
        return
    by_mlflow = {v.tags.get("mlflow.version"): v.version for v in registry.list_versions(name, max_results=10_000).versions}
    current = registry.get_model(name).aliases
    for alias, mlflow_version in (record.get("aliases") or {}).items():
        target = by_mlflow.get(str(mlflow_version))
        try:
            clean = check_alias(str(alias).lower())
        except InvalidInputError:
            summary.warnings.append(f"{name}@{alias}: not a valid Steward alias; skipped")
            continue
        if target is None or current.get(clean) == target:
            continue
        try:
            registry.set_alias(name, clean, target)
        except StewardError as exc:
            summary.warnings.append(f"{name}@{clean}: {exc.message}")
            continue
        summary.aliases_set += 1
