"""Request bodies of the tracking API (pydantic models live only at the edges)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, WithJsonSchema

# A metric value: a JSON number, or "NaN" / "Infinity" / "-Infinity".
MetricValue = StrictFloat | StrictInt | Literal["NaN", "Infinity", "-Infinity", "nan", "inf", "-inf"]
Str250 = Annotated[str, Field(min_length=1, max_length=250)]
# Steps and times are stored as 64-bit integers; a bigger number must be a 422, not a driver error.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
Int64 = Annotated[StrictInt, Field(ge=INT64_MIN, le=INT64_MAX)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExperimentCreate(_Body):
    name: Str250
    tags: dict[str, StrictStr] = Field(default_factory=dict)
    project: Annotated[str, Field(min_length=1, max_length=250)] | None = Field(
        None, description="The project the experiment belongs to (default: its name)."
    )


class RunCreate(_Body):
    experiment_id: StrictStr | StrictInt
    name: Str250 | None = None
    run_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")] | None = None
    start_time: Int64 | None = None
    params: dict[str, StrictStr | StrictInt | StrictFloat | bool] = Field(default_factory=dict)
    tags: dict[str, StrictStr | StrictInt | StrictFloat | bool] = Field(default_factory=dict)


class RunUpdate(_Body):
    status: Literal["running", "finished", "failed", "killed"] | None = None
    end_time: Int64 | None = None
    name: Str250 | None = None
    note: Annotated[str, Field(max_length=100_000)] | None = None
    failure: Annotated[str, Field(max_length=1_000_000)] | None = None


class MetricPoint(_Body):
    key: StrictStr
    value: MetricValue
    step: Int64 = 0
    timestamp: Int64 | None = None


class MetricColumns(_Body):
    """Columnar metrics: equally long lists (``step`` and ``timestamp`` may be left empty)."""

    key: list[StrictStr]
    value: list[MetricValue]
    step: list[Int64] = Field(default_factory=list, description="Empty: every step is 0.")
    timestamp: list[Int64] = Field(default_factory=list, description="Empty: the time of the request.")


class LogBatch(_Body):
    # Parsed by steward.server._metrics so that errors name the exact point
    # ("metrics[3].value") and 10,000 points skip a second validation pass; the OpenAPI
    # document still shows the two accepted shapes.
    metrics: Annotated[
        Any,  # Any: checked point by point in steward.server._metrics
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "array", "items": MetricPoint.model_json_schema()},
                    MetricColumns.model_json_schema(),
                ],
                "description": "A list of {key, value, step, timestamp} points, or columns "
                "{key: [...], value: [...], step: [...], timestamp: [...]}; value may be "
                '"NaN", "Infinity", "-Infinity".',
            }
        ),
    ] = Field(default_factory=list)
    params: dict[str, StrictStr | StrictInt | StrictFloat | bool] = Field(default_factory=dict)
    tags: dict[str, StrictStr | StrictInt | StrictFloat | bool] = Field(default_factory=dict)


class InlineArtifact(_Body):
    path: Annotated[str, Field(min_length=1, max_length=1000)]
    data: str = Field(description="The file's bytes, base64.")


class RunBatchCreate(_Body):
    name: Str250 | None = None
    start_time: Int64 | None = None
    params: dict[str, StrictStr | StrictInt | StrictFloat | bool] = Field(default_factory=dict)
    tags: dict[str, StrictStr | StrictInt | StrictFloat | bool] = Field(default_factory=dict)
    artifacts: list[InlineArtifact] = Field(
        default_factory=list, description="Recorded with the creation (the SDK's captured files)."
    )


class RunBatchEnd(_Body):
    status: Literal["finished", "failed", "killed"]
    end_time: Int64 | None = None
    failure: Annotated[str, Field(max_length=1_000_000)] | None = None


class RunBatch(LogBatch):
    """A run's calls in one request: create, log artifacts, params, tags, metrics, end."""

    run_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    experiment_id: StrictStr | StrictInt | None = Field(
        None, description="With `create`: the experiment the new run belongs to."
    )
    create: RunBatchCreate | None = None
    artifacts: list[InlineArtifact] = Field(default_factory=list, description="Logged after the creation, each audited.")
    end: RunBatchEnd | None = None


class RunSearch(_Body):
    experiments: list[StrictStr] | None = None
    filter: Annotated[str, Field(max_length=10_000)] | None = None
    order_by: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list)
    max_results: Annotated[int, Field(ge=1, le=10_000)] = 100
    page_token: Annotated[str, Field(max_length=1000)] | None = None
    include_deleted: bool = False


class InputRef(_Body):
    dataset: Annotated[str, Field(min_length=1, max_length=300)]
    role: Annotated[str, Field(min_length=1, max_length=40)] = "train"


class LogInputs(_Body):
    inputs: list[InputRef]
