"""Applying a gate policy to evaluation reports: one check per gate, each with what was
observed and the threshold it was held to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._metrics import LOWER_IS_BETTER
from ._policy import GatePolicy

__all__ = ["GateCheck", "apply_policy"]

JSON = dict[str, Any]  # Any: JSON values


@dataclass(frozen=True, slots=True)
class GateCheck:
    """One gate's verdict.

    Attributes:
        gate: ``min.roc_auc``, ``beat_champion.roc_auc``, ``fairness.demographic_parity_difference``...
        passed: whether it held.
        observed: the candidate's value (for ``beat_champion``: candidate minus champion,
            sign-flipped for lower-is-better metrics so that more is always better).
        threshold: the bound from the policy.
        detail: a sentence for people (why a gate failed or was waived).
    """

    gate: str
    passed: bool
    observed: float | None
    threshold: float | str | None
    detail: str = ""

    def to_dict(self) -> JSON:
        return {"gate": self.gate, "passed": self.passed, "observed": self.observed, "threshold": self.threshold, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: JSON) -> GateCheck:
        return cls(str(data["gate"]), bool(data["passed"]), data.get("observed"), data.get("threshold"), str(data.get("detail", "")))


def _bound(gate: str, value: float | None, threshold: float, *, at_least: bool) -> GateCheck:
    if value is None:
        return GateCheck(gate, False, None, threshold, "not computed for this model and data")
    ok = value >= threshold if at_least else value <= threshold
    return GateCheck(gate, ok, value, threshold, "" if ok else f"{value:.6g} is {'below' if at_least else 'above'} {threshold:.6g}")


def apply_policy(policy: GatePolicy, candidate: JSON, champion: JSON | None, *, champion_ref: str | None = None) -> list[GateCheck]:
    """Every gate of ``policy`` on the candidate's report (and the champion's, evaluated
    on the same dataset version, for ``beat_champion``)."""
    metrics: JSON = candidate.get("metrics") or {}
    checks: list[GateCheck] = []
    for name, threshold in policy.minimums.items():
        checks.append(_bound(f"min.{name}", metrics.get(name), threshold, at_least=True))
    for name, threshold in policy.maximums.items():
        checks.append(_bound(f"max.{name}", metrics.get(name), threshold, at_least=False))
    if policy.beat_champion is not None:
        checks.append(_beat(policy.beat_champion, metrics, champion, champion_ref))
    if policy.fairness is not None:
        report = candidate.get("fairness")
        for key, value in policy.fairness.items():
            if key == "attribute":
                continue
            measure = key.removeprefix("max_")
            observed = report.get(measure) if report and report.get("attribute") == policy.fairness["attribute"] else None
            checks.append(_bound(f"fairness.{measure}", observed, float(value), at_least=False))
    if policy.rare_class_recall is not None:
        rare = (candidate.get("stress") or {}).get("rare_classes") or []
        worst = min((float(r["recall"]) for r in rare), default=None)
        check = _bound("rare_class_recall", worst, policy.rare_class_recall, at_least=True)
        if worst is not None and not check.passed:
            low = [str(r["class"]) for r in rare if float(r["recall"]) < policy.rare_class_recall]
            check = GateCheck(check.gate, False, worst, check.threshold, f"recall below {policy.rare_class_recall:g} on class(es) {', '.join(low)}")
        checks.append(check)
    latency = candidate.get("latency") or {}
    for key, threshold in policy.latency.items():
        checks.append(_bound(f"latency.{key}", latency.get(key), threshold, at_least=False))
    if policy.edge_inputs_required:
        cases = (candidate.get("stress") or {}).get("edge_inputs") or []
        failed = [f"{c['case']}({c['column']})" for c in cases if not c["passed"]]
        checks.append(
            GateCheck(
                "edge_inputs",
                not failed,
                float(len(cases) - len(failed)),
                "required",
                f"{len(failed)} of {len(cases)} edge cases failed: {', '.join(failed[:8])}" if failed else f"all {len(cases)} edge cases passed",
            )
        )
    return checks


def _beat(spec: JSON, metrics: JSON, champion: JSON | None, champion_ref: str | None) -> GateCheck:
    name = str(spec["metric"])
    delta = float(spec.get("min_delta", 0.0))
    gate = f"beat_champion.{name}"
    if champion is None:
        return GateCheck(gate, True, None, delta, f"no model has the alias {spec.get('alias', 'champion')!r}: nothing to beat")
    ours, theirs = metrics.get(name), (champion.get("metrics") or {}).get(name)
    if ours is None or theirs is None:
        return GateCheck(gate, False, None, delta, f"{name} is not computed for both models")
    gain = (theirs - ours) if name in LOWER_IS_BETTER else (ours - theirs)
    ok = gain >= delta
    against = f" ({champion_ref})" if champion_ref else ""
    detail = f"candidate {ours:.6g} vs champion{against} {theirs:.6g}"
    return GateCheck(gate, ok, gain, delta, detail if ok else f"{detail}: improvement {gain:.6g} is below {delta:.6g}")
