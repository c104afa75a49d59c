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
