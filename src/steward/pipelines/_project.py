"""Pipelines declared in ``steward.yaml``'s ``pipelines:`` section, checked against a JSON
Schema (every fault names its line) and built into the same :class:`Pipeline` a Python file
declares, so both executors, the cache and the run records are the same.

.. code-block:: yaml

    pipelines:
      fraud:
        params: {c: 1.0}                  # the pipeline's parameters and their defaults (--param)
        datasets: {data: transactions:1}  # parameters that are dataset versions (looked up)
        steps:
          prepare:
            function: steps:prepare       # module:function, imported next to steward.yaml
            params: {data: $data}         # an argument: a value, or $name of a pipeline parameter
          train:
            function: steps:train
            inputs: {rows: prepare}       # an argument: the output of another step (a dependency)
            params: {c: $c}
            timeout: 5m                   # and isolate, retries, retry_backoff as on @steward.step
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from steward.core.yaml_lines import YamlDocument, compose, schema_faults
from steward.errors import InvalidInputError, NotFoundError

from ._isolate import StepOptions
from ._pipeline import Pipeline, Step

__all__ = ["PROJECT_FILE", "PROJECT_SCHEMA", "is_project_file", "load_project_pipeline", "project_faults"]

PROJECT_FILE = "steward.yaml"
_NAME = "^[a-z0-9][a-z0-9_-]{0,62}$"
_DURATION = r"^\d+(\.\d+)?(ms|s|m|h|d)$"
_OPTIONS = ("isolate", "timeout", "retries", "retry_backoff")

PROJECT_SCHEMA: dict[str, Any] = {  # Any: JSON Schema
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "steward.yaml (pipelines and retrain sections)",
    "type": "object",
    "properties": {
        "pipelines": {
            "type": "object",
            "propertyNames": {"pattern": _NAME},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["steps"],
                "properties": {
                    "description": {"type": "string"},
                    "params": {"type": "object", "propertyNames": {"pattern": r"^[A-Za-z_]\w*$"}},
                    "datasets": {
                        "type": "object", "propertyNames": {"pattern": r"^[A-Za-z_]\w*$"}, "additionalProperties": {"type": "string"},
                    },
                    "steps": {
                        "type": "object",
                        "minProperties": 1,
                        "propertyNames": {"pattern": _NAME},
                        "additionalProperties": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["function"],
                            "properties": {
                                "function": {"type": "string", "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"},
                                "params": {"type": "object", "propertyNames": {"pattern": r"^[A-Za-z_]\w*$"}},
                                "inputs": {
                                    "type": "object", "propertyNames": {"pattern": r"^[A-Za-z_]\w*$"},
                                    "additionalProperties": {"type": "string"},
                                },
                                "isolate": {"type": "boolean"},
                                "timeout": {"type": "string", "pattern": _DURATION},
                                "retries": {"type": "integer", "minimum": 0},
                                "retry_backoff": {"type": "string", "pattern": _DURATION},
                            },
                        },
                    },
                },
            },
        },
        "retrain": {  # `steward retrain MODEL`'s specification, one entry per model (docs/lifecycle.md)
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "train": {"type": "string", "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"},
                    "data": {"type": "string", "minLength": 1},
                    "eval_data": {"type": "string", "minLength": 1},
                    "target": {"type": "string", "minLength": 1},
                    "suite": {"type": "string", "minLength": 1},
                    "gate": {"type": "string", "minLength": 1},
                    "deployment": {"type": "string", "minLength": 1},
                    "rollout": {"type": "string", "minLength": 1},
                    "params": {"type": "object"},
                    "timeout": {"type": "number", "exclusiveMinimum": 0},
                    # the training step's time limit (seconds, or a duration: pattern applies to strings only) and retries
                    "train_timeout": {"type": ["number", "string"], "exclusiveMinimum": 0, "pattern": _DURATION},
                    "train_retries": {"type": "integer", "minimum": 0},
                },
            },
        },
    },
}


def is_project_file(path: Path, text: str) -> bool:
    """``steward.yaml`` by name, or a YAML document with a top-level ``pipelines:`` or ``retrain:`` key."""
    return path.name in (PROJECT_FILE, "steward.yml") or re.search(r"^(pipelines|retrain)\s*:", text, re.MULTILINE) is not None


def _semantic_faults(doc: YamlDocument) -> set[tuple[int, str]]:
    faults: set[tuple[int, str]] = set()
    pipelines = doc.data.get("pipelines") if isinstance(doc.data, dict) else None
    if not isinstance(pipelines, dict):
        return faults
    for name, spec in pipelines.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("steps"), dict):
            continue
        declared = set(spec.get("params") or {}) | set(spec.get("datasets") or {})
        both = set(spec.get("params") or {}) & set(spec.get("datasets") or {})
        for twice in sorted(both):
            faults.add((doc.line(("pipelines", name, "datasets", twice), key=True), f"pipelines.{name}: {twice!r} is both a param and a dataset"))
        steps = spec["steps"]
        for step_name, step in steps.items():
            if not isinstance(step, dict):
                continue
            where = ("pipelines", name, "steps", step_name)
            for arg, upstream in (step.get("inputs") or {}).items():
                if isinstance(upstream, str) and upstream not in steps:
                    faults.add((doc.line((*where, "inputs", arg)), f"pipelines.{name}.steps.{step_name}.inputs.{arg}: no step {upstream!r} in this pipeline; steps are: {', '.join(steps)}"))
                if arg in (step.get("params") or {}):
                    faults.add((doc.line((*where, "inputs", arg), key=True), f"pipelines.{name}.steps.{step_name}: {arg!r} is both an input and a param"))
            for arg, value in (step.get("params") or {}).items():
                if isinstance(value, str) and value.startswith("$") and value[1:] not in declared:
                    faults.add((doc.line((*where, "params", arg)), f"pipelines.{name}.steps.{step_name}.params.{arg}: {value!r} names no pipeline param or dataset; declared: {', '.join(sorted(declared)) or 'none'}"))
        cycle = _cycle({s: [u for u in (v.get("inputs") or {}).values() if u in steps] for s, v in steps.items() if isinstance(v, dict)})
        if cycle:
            faults.add((doc.line(("pipelines", name, "steps", cycle[0]), key=True), f"pipelines.{name}: the steps' inputs form a cycle: {' -> '.join(cycle)}"))
    return faults


def _cycle(graph: Mapping[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def project_faults(text: str) -> list[tuple[int, str]]:
    """Every fault of a project file's ``pipelines:`` and ``retrain:`` sections as (line, message), by line."""
    doc = compose(text)
    if isinstance(doc, tuple):
        return [doc]
    if doc.data is None:
        return []
    faults = schema_faults(doc, PROJECT_SCHEMA, root_name="steward.yaml", durations="30s, 5m, 1h or 500ms")
    if not faults:
        faults |= _semantic_faults(doc)
    return sorted(faults)


def _order(steps: Mapping[str, Mapping[str, Any]]) -> list[str]:  # Any: YAML values
    done: list[str] = []
    while len(done) < len(steps):
        for name, step in steps.items():
            if name not in done and all(u in done for u in (step.get("inputs") or {}).values()):
                done.append(name)
    return done


def _import(ref: str, base: Path) -> Callable[..., Any]:  # Any: the user's function
    module_name, _, attribute = ref.partition(":")
    if str(base) not in sys.path:
        sys.path.insert(0, str(base))  # the user's modules next to steward.yaml, as `python -m` finds them
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any error importing the user's module
        raise InvalidInputError(f"cannot import {module_name!r}: {type(exc).__name__}: {exc}", field="function") from None
    fn: object = getattr(module, attribute, None)
    if not callable(fn):
        raise InvalidInputError(f"{module_name} has no function {attribute!r}", field="function")
    found: Callable[..., Any] = fn  # Any: the user's function
    return found


def _build(name: str, spec: Mapping[str, Any], base: Path) -> Pipeline[..., Any]:  # Any: YAML values
    steps: dict[str, Mapping[str, Any]] = spec["steps"]
    built: dict[str, Step[..., Any]] = {}
    for step_name, step in steps.items():
        fn = _import(step["function"], base)
        declared = fn.options if isinstance(fn, Step) else StepOptions()
        raw = fn.fn if isinstance(fn, Step) else fn
        given = {k: step[k] for k in _OPTIONS if k in step}
        options = StepOptions.of(
            isolate=given.get("isolate", declared.isolate), timeout=given.get("timeout", declared.timeout),
            retries=given.get("retries", declared.retries), retry_backoff=given.get("retry_backoff", declared.retry_backoff),
        )
        built[step_name] = Step(raw, step_name, options)
    order = _order(steps)

    def compose_steps(**values: Any) -> Any:  # Any: the pipeline's parameters and its last step's output
        outputs: dict[str, Any] = {}
        for step_name in order:
            step = steps[step_name]
            kwargs: dict[str, Any] = {}
            for arg, value in (step.get("params") or {}).items():
                kwargs[arg] = values[value[1:]] if isinstance(value, str) and value.startswith("$") else value
            for arg, upstream in (step.get("inputs") or {}).items():
                kwargs[arg] = outputs[upstream]
            outputs[step_name] = built[step_name](**kwargs)
        consumed = {u for s in steps.values() for u in (s.get("inputs") or {}).values()}
        last = [s for s in order if s not in consumed]
        return outputs[last[0]] if len(last) == 1 else {s: outputs[s] for s in last}

    parameters = [
        inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, default=v) for p, v in (spec.get("params") or {}).items()
    ] + [
        inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, default=v, annotation="DatasetVersion")
        for p, v in (spec.get("datasets") or {}).items()
    ]
    compose_steps.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    compose_steps.__name__ = name.replace("-", "_")
    return Pipeline(compose_steps, name)


def load_project_pipeline(path: str | Path | None = None, name: str | None = None) -> Pipeline[..., Any]:
    """The pipeline ``name`` of a project file (``./steward.yaml`` by default; the only one
    when it declares one).

    Raises:
        NotFoundError: no such file, or no pipeline of that name in it.
        InvalidInputError: the file has faults (each with its line), several pipelines and no
            name, or a step's function cannot be imported.
    """
    file = Path(path) if path is not None else Path(PROJECT_FILE)
    if not file.is_file():
        raise NotFoundError(f"no such file: {file}" + (" (give a pipeline file, or run where steward.yaml is)" if path is None else ""), field="file")
    text = file.read_text(encoding="utf-8")
    faults = project_faults(text)
    if faults:
        shown = "; ".join(f"{file}:{line}: {message}" for line, message in faults[:5])
        raise InvalidInputError(shown + (f" (and {len(faults) - 5} more)" if len(faults) > 5 else ""), field="file")
    doc = compose(text)
    data = doc.data if isinstance(doc, YamlDocument) and isinstance(doc.data, dict) else {}
    found: dict[str, Any] = data.get("pipelines") or {}  # Any: YAML values
    if name is not None:
        if name not in found:
            raise NotFoundError(f"no pipeline {name!r} in {file} (found: {', '.join(sorted(found)) or 'none'})", field="name")
    elif len(found) != 1:
        raise InvalidInputError(f"{file} declares {len(found)} pipelines ({', '.join(sorted(found)) or 'none'}); name one with --name", field="name")
    else:
        name = next(iter(found))
    return _build(name, found[name], file.resolve().parent)
