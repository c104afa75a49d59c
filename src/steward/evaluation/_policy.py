"""Gate policies: a YAML file, checked against :data:`POLICY_SCHEMA`, naming the line of
every fault.

Example::

    min: {roc_auc: 0.85}            # each metric at least this
    max: {log_loss: 0.4}            # each metric at most this
    beat_champion: {metric: roc_auc, min_delta: 0.005}
    fairness: {attribute: sex, max_demographic_parity_difference: 0.1}
    rare_class_recall: {min: 0.5}
    latency: {p99_single_row_ms: 20}
    edge_inputs: required
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import yaml

from steward.core.yaml_lines import YamlDocument, compose, schema_faults
from steward.errors import InvalidInputError

from ._metrics import KNOWN_METRICS

__all__ = ["LATENCY_KEYS", "POLICY_SCHEMA", "GatePolicy", "parse_policy", "policy_faults"]

LATENCY_KEYS = ("p50_single_row_ms", "p99_single_row_ms", "p50_batch_1000_ms", "p99_batch_1000_ms")
_THRESHOLDS = {"type": "object", "additionalProperties": {"type": "number"}, "minProperties": 1}

POLICY_SCHEMA: dict[str, Any] = {  # Any: JSON Schema
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Steward gate policy",
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "min": {**_THRESHOLDS, "description": "Each metric must be at least this value."},
        "max": {**_THRESHOLDS, "description": "Each metric must be at most this value."},
        "beat_champion": {
            "type": "object",
            "additionalProperties": False,
            "required": ["metric"],
            "properties": {
                "metric": {"type": "string"},
                "min_delta": {"type": "number", "minimum": 0, "default": 0},
                "alias": {"type": "string", "default": "champion"},
            },
            "description": "Beat the model behind the alias on the same dataset version by min_delta.",
        },
        "fairness": {
            "type": "object",
            "additionalProperties": False,
            "required": ["attribute"],
            "minProperties": 2,
            "properties": {
                "attribute": {"type": "string", "minLength": 1},
                "max_demographic_parity_difference": {"type": "number", "minimum": 0, "maximum": 1},
                "max_equalized_odds_difference": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "rare_class_recall": {
            "type": "object",
            "additionalProperties": False,
            "required": ["min"],
            "properties": {"min": {"type": "number", "minimum": 0, "maximum": 1}},
        },
        "latency": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {k: {"type": "number", "exclusiveMinimum": 0} for k in LATENCY_KEYS},
        },
        "edge_inputs": {"enum": ["required", "optional"]},
    },
}


@dataclass(frozen=True, slots=True)
class GatePolicy:
    """A parsed policy; ``text`` is the YAML it came from and ``content_hash`` its sha256."""

    text: str
    minimums: dict[str, float] = field(default_factory=dict)
    maximums: dict[str, float] = field(default_factory=dict)
    beat_champion: dict[str, Any] | None = None  # Any: JSON
    fairness: dict[str, Any] | None = None  # Any: JSON
    rare_class_recall: float | None = None
    latency: dict[str, float] = field(default_factory=dict)
    edge_inputs_required: bool = False

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def fairness_attribute(self) -> str | None:
        return str(self.fairness["attribute"]) if self.fairness else None

    @property
    def champion_alias(self) -> str | None:
        return str(self.beat_champion.get("alias", "champion")) if self.beat_champion else None


def policy_faults(text: str) -> list[tuple[int, str]]:
    """Every fault of a policy document as (line, message), sorted by line; empty when valid.

    Besides the schema, every metric named must be one the evaluation computes.
    """
    doc = compose(text)
    if not isinstance(doc, YamlDocument):
        return [doc]
    document = doc.data
    if not isinstance(document, dict):
        return [(1, "a gate policy is a YAML mapping, e.g. `min: {roc_auc: 0.85}`")]
    faults = schema_faults(doc, POLICY_SCHEMA, root_name="policy")
    known = ", ".join(KNOWN_METRICS)
    for section in ("min", "max"):
        block = document.get(section)
        if isinstance(block, dict):
            for metric in block:
                if metric not in KNOWN_METRICS:
                    faults.add((doc.line([section, metric], key=True), f"{section}: unknown metric {str(metric)[:60]!r}; known metrics: {known}"))
    beat = document.get("beat_champion")
    if isinstance(beat, dict) and isinstance(beat.get("metric"), str) and beat["metric"] not in KNOWN_METRICS:
        faults.add((doc.line(["beat_champion", "metric"]), f"beat_champion.metric: unknown metric {beat['metric'][:60]!r}; known metrics: {known}"))
    return sorted(faults)


def parse_policy(text: str) -> GatePolicy:
    """Read a gate policy.

    Raises:
        InvalidInputError: naming the line of the first fault (and how many more there are).
    """
    faults = policy_faults(text)
    if faults:
        line, message = faults[0]
        more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
        raise InvalidInputError(f"gate policy line {line}: {message}{more}", field="policy")
    doc: dict[str, Any] = yaml.safe_load(text)  # Any: validated YAML
    beat = doc.get("beat_champion")
    return GatePolicy(
        text=text,
        minimums={k: float(v) for k, v in (doc.get("min") or {}).items()},
        maximums={k: float(v) for k, v in (doc.get("max") or {}).items()},
        beat_champion={"metric": beat["metric"], "min_delta": float(beat.get("min_delta", 0)), "alias": beat.get("alias", "champion")} if beat else None,
        fairness=dict(doc["fairness"]) if doc.get("fairness") else None,
        rare_class_recall=float(doc["rare_class_recall"]["min"]) if doc.get("rare_class_recall") else None,
        latency={k: float(v) for k, v in (doc.get("latency") or {}).items()},
        edge_inputs_required=doc.get("edge_inputs") == "required",
    )
