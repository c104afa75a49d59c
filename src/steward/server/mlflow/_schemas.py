"""Request bodies of MLflow's REST tracking API (protobuf JSON mapping).

Unknown fields are ignored, as protobuf parsers in MLflow's server ignore them, because
newer clients send fields older servers do not know (``model_id``, ``dataset_digest``).
int64 fields arrive as numbers or as decimal strings; pydantic's lax mode takes both.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

Scalar = str | int | float | bool
Id = Annotated[str | int, Field(union_mode="left_to_right")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class KeyValue(_Body):
    key: str
    value: Scalar | None = ""

    @property
    def text(self) -> str:
        if self.value is None:
            return ""
        return self.value if isinstance(self.value, str) else str(self.value)


def as_dict(items: list[KeyValue]) -> dict[str, str]:
    """Key/value pairs as a dict; the last value of a repeated key wins."""
    return {kv.key: kv.text for kv in items}


class CreateExperimentBody(_Body):
    name: str | None = None
    artifact_location: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class ExperimentIdBody(_Body):
    experiment_id: Id | None = None


class UpdateExperimentBody(_Body):
    experiment_id: Id | None = None
    new_name: str | None = None


class SetExperimentTagBody(_Body):
    experiment_id: Id | None = None
    key: str | None = None
    value: Scalar | None = ""


class SearchExperimentsBody(_Body):
    max_results: int | None = None
    page_token: str | None = None
    filter: str | None = None
    order_by: list[str] = Field(default_factory=list)
    view_type: str | int | None = None


class CreateRunBody(_Body):
    experiment_id: Id | None = None
    user_id: str | None = None
    run_name: str | None = None
    start_time: int | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class RunIdBody(_Body):
    run_id: str | None = None
    run_uuid: str | None = None


class UpdateRunBody(RunIdBody):
    status: str | int | None = None
    end_time: int | None = None
    run_name: str | None = None


class LogMetricBody(RunIdBody):
    key: str | None = None
    value: Any = None  # Any: a number or "NaN"/"Infinity"; parsed by the batch parser
    timestamp: Any = None  # Any: int64 as number or string
    step: Any = None  # Any: int64 as number or string


class SetKeyValueBody(RunIdBody):
    key: str | None = None
    value: Scalar | None = ""


class DeleteTagBody(RunIdBody):
    key: str | None = None


class LogBatchBody(RunIdBody):
    metrics: list[dict[str, Any]] = Field(default_factory=list)  # Any: parsed by the batch parser
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class DatasetBody(_Body):
    name: str = ""
    digest: str = ""


class DatasetInputBody(_Body):
    tags: list[KeyValue] = Field(default_factory=list)
    dataset: DatasetBody = Field(default_factory=DatasetBody)


class LogInputsBody(RunIdBody):
    datasets: list[DatasetInputBody] = Field(default_factory=list)


class SearchRunsBody(_Body):
    experiment_ids: list[Id] = Field(default_factory=list)
    filter: str | None = None
    run_view_type: str | int | None = None
    max_results: int | None = None
    order_by: list[str] = Field(default_factory=list)
    page_token: str | None = None


# -- logged models (MLflow 3) --------------------------------------------------------------


class CreateLoggedModelBody(_Body):
    experiment_id: Id | None = None
    name: str | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class FinalizeLoggedModelBody(_Body):
    status: str | int | None = None


class LoggedModelKeyValuesBody(_Body):
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class SearchDatasetBody(_Body):
    dataset_name: str = ""
    dataset_digest: str | None = None


class SearchOrderBody(_Body):
    field_name: str = ""
    ascending: bool | None = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


class SearchLoggedModelsBody(_Body):
    experiment_ids: list[Id] = Field(default_factory=list)
    filter: str | None = None
    datasets: list[SearchDatasetBody] = Field(default_factory=list)
    max_results: int | None = None
    order_by: list[SearchOrderBody] = Field(default_factory=list)
    page_token: str | None = None


class ModelOutputBody(_Body):
    model_id: str = ""
    step: int | None = 0


class LogOutputsBody(_Body):
    run_id: str | None = None
    models: list[ModelOutputBody] = Field(default_factory=list)


class LogModelBody(_Body):
    run_id: str | None = None
    model_json: str | None = None
