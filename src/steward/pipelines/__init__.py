"""Pipelines: steps as plain Python functions, cached by a key over their code, parameters
and inputs, each recorded as a run linked to the pipeline's run (in-process execution)."""

from __future__ import annotations

from ._isolate import StepOptions
from ._keys import code_hash, step_key, value_hash
from ._loading import load_pipeline
from ._pipeline import Pipeline, PipelineResult, Step, StepReport, pipeline, run_pipeline, step
from ._project import PROJECT_SCHEMA, load_project_pipeline, project_faults
from ._reproduce import ReproduceReport, reproduce_run

__all__ = [
    "PROJECT_SCHEMA",
    "Pipeline",
    "PipelineResult",
    "ReproduceReport",
    "Step",
    "StepOptions",
    "StepReport",
    "code_hash",
    "load_pipeline",
    "load_project_pipeline",
    "pipeline",
    "project_faults",
    "reproduce_run",
    "run_pipeline",
    "step",
    "step_key",
    "value_hash",
]
