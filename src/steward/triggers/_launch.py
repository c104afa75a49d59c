"""Running a trigger's pipeline with the pipelines stage's public functions, and registering
an alert's production window (labels joined) as the dataset version it is given."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from steward.errors import CheckFailedError, InvalidInputError

from ._ports import LaunchOutcome, PipelineLauncher
from ._service import WindowRegistrar

if TYPE_CHECKING:
    from steward.data import DataService
    from steward.predictions import PredictionService
    from steward.settings import Settings

__all__ = ["in_process_launcher", "window_registrar"]


def in_process_launcher(settings: Settings) -> PipelineLauncher:
    """Run a pipeline file in this process on the embedded store of ``settings``, as ``actor``
    (its runs are recorded as the trigger's creator's).

    A pipeline whose step fails ends ``failed`` with the step's error; a file that does not
    load or a parameter the pipeline does not take raises (the start records it).
    """

    def launch(pipeline: Mapping[str, object], params: Mapping[str, object], actor: str) -> LaunchOutcome:
        if pipeline.get("retrain"):
            return _retrain(settings, pipeline, params, actor)
        from steward.pipelines import load_pipeline, run_pipeline
        from steward.sdk import Client

        name = pipeline.get("name")
        pipe = load_pipeline(str(pipeline["file"]), name if isinstance(name, str) else None)
        client = Client(settings.model_copy(update={"user": actor, "tracking_uri": None}))
        try:
            result = run_pipeline(pipe, client, params)
        except CheckFailedError as exc:  # a step failed: its message names it
            return LaunchOutcome("failed", None, exc.message)
        finally:
            client.close()
        return LaunchOutcome("finished", result.run_id)

    return launch


def _retrain(settings: Settings, pipeline: Mapping[str, object], params: Mapping[str, object], actor: str) -> LaunchOutcome:
    """``retrain:<model>``: the standard lifecycle pipeline (what ``steward retrain <model>``
    runs) with the trigger's params as its options and the event's input as its data.

    An alert's window (logged predictions, ``input.<feature>`` columns, the ``label`` joined)
    is first made a training frame: the features under their own names and the label, the
    rows without one left out, registered as the next version of ``<window dataset>-labeled``.
    """
    from pathlib import Path

    from steward.stewardship.lifecycle import load_spec, retrain
    from steward.wiring import build_services

    options = dict(params)
    project_file = options.pop("project_file", None)
    services = build_services(settings.model_copy(update={"user": actor, "tracking_uri": None}))
    try:
        data = options.get("data")
        if isinstance(data, str) and data:
            options["data"] = _labeled_frame(services.data(actor), data)
        spec = load_spec(
            str(pipeline["retrain"]), Path(str(project_file)) if project_file else None,
            trigger=str(pipeline.get("trigger") or "trigger"), **options,
        )
        result = retrain(services, spec, actor=actor)
    finally:
        services.close()
    run_id = next((str(s["run_id"]) for s in result.stages if s.get("stage") == "train" and s.get("run_id")), None)
    if result.ok:
        return LaunchOutcome("finished", run_id)
    return LaunchOutcome("failed", run_id, f"{result.status}: {result.reason}")


def _labeled_frame(data: DataService, ref: str) -> str:
    """``ref`` itself, or for a window of logged predictions its labelled training frame."""
    import polars as pl

    version = data.get(ref)
    frame = data.load(version)
    inputs = [n for n in frame.columns if n.startswith("input.")]
    if not inputs or "label" not in frame.columns:
        return ref
    frame = frame.filter(pl.col("label").is_not_null()).select(
        *[pl.col(n).alias(n[len("input."):]) for n in inputs], pl.col("label")
    )
    if frame.height == 0:
        raise InvalidInputError(f"{ref} holds no labelled predictions yet", field="data")
    # in the window's project (the trigger's), so whoever may read the window may read its training frame
    project = next((d.project for d in data.list_datasets() if d.name == version.name), "") or None
    made = data.register(
        f"{version.name}-labeled", frame, description=f"training frame of {version.name}:{version.version}: its logged inputs and their labels",
        project=project,
    )
    return f"{made.name}:{made.version}"


def window_registrar(predictions: Callable[[], PredictionService], data: Callable[[], DataService]) -> WindowRegistrar:
    """Register the logged predictions of a deployment in ``[start, end)``, their delayed
    labels joined (``label``, ``labeled_at``), as the next version of a dataset."""

    def register(deployment: str, start_ms: int, end_ms: int, name: str, project: str) -> str:
        table = predictions().read(deployment, start_ms, end_ms)
        if table.num_rows == 0:
            raise InvalidInputError(f"the alert's window of {deployment} holds no logged predictions", field="window")
        # columns with no value at all (labels not yet arrived) carry no type to store
        table = table.select([n for n in table.column_names if table.column(n).null_count < table.num_rows])
        span = f"{datetime.fromtimestamp(start_ms / 1000, UTC):%Y-%m-%dT%H:%M:%SZ} to {datetime.fromtimestamp(end_ms / 1000, UTC):%Y-%m-%dT%H:%M:%SZ}"
        version = data().register(name, table, description=f"production window of {deployment} that fired an alert: {span}", project=project)
        return f"{version.name}:{version.version}"

    return register
