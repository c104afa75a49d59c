"""Evaluation stage: metric sets, slices, fairness, stress tests, latency, explanations,
gate policies, promotion gates and model cards."""

from __future__ import annotations

from ._card import CARD_FIELDS, build_card, render_html, render_markdown
from ._evaluate import EvaluationOptions, evaluate_frame
from ._fairness import fairness
from ._gates import GateCheck, apply_policy
from ._guard import GateGuard
from ._metrics import KNOWN_METRICS, LOWER_IS_BETTER, classification_metrics, regression_metrics
from ._policy import POLICY_SCHEMA, GatePolicy, parse_policy, policy_faults
from ._ports import EvaluationStore
from ._service import EvaluationService
from ._types import EvaluationRecord, GateOverride, GateRecord

__all__ = [
    "CARD_FIELDS",
    "KNOWN_METRICS",
    "LOWER_IS_BETTER",
    "POLICY_SCHEMA",
    "EvaluationOptions",
    "EvaluationRecord",
    "EvaluationService",
    "EvaluationStore",
    "GateCheck",
    "GateGuard",
    "GateOverride",
    "GatePolicy",
    "GateRecord",
    "apply_policy",
    "build_card",
    "classification_metrics",
    "evaluate_frame",
    "fairness",
    "parse_policy",
    "policy_faults",
    "regression_metrics",
    "render_html",
    "render_markdown",
]
