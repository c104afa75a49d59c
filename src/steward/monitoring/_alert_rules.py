"""Alert rule files: YAML checked against :data:`ALERT_RULES_SCHEMA`, naming the line of every fault.

Example::

    rules:
      - name: drift-high
        deployment: fraud-api
        metric: drift.share             # see steward.core.alerts.METRIC_FORMS
        comparison: ">"                 # >, >=, <, <=
        threshold: 0.3
        window: 1h                      # the window the metric is computed over
        min_sample: 500                 # fewer rows: insufficient, never a breach
        for: 15m                        # how long the breach must hold before firing
        severity: critical              # info, warning, critical
        notify: [log, prometheus, webhook:ops]
        actions: [rollback, retrain]
    webhooks:
      ops: {url: "https://hooks.example.com/steward", secret: OPS_WEBHOOK}   # a stored secret's name
    retrain:
      command: [python, -m, train, --data-env]   # an argv list: no shell
      timeout: 30m
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from steward.core.alerts import (
    METRIC_FORMS,
    AlertRule,
    Comparison,
    is_known_metric,
    parse_duration_ms,
)
from steward.core.yaml_lines import YamlDocument, compose, schema_faults
from steward.errors import InvalidInputError

__all__ = [
    "ALERT_RULES_SCHEMA", "RetrainCommand", "RuleSet", "Webhook", "alert_rules_faults", "column_faults", "is_alert_rules", "parse_alert_rules",
]

_DURATION = {"type": "string", "pattern": r"^\d+(\.\d+)?(ms|s|m|h|d)$", "description": "A duration: 30s, 15m, 1h, 7d."}
_NAME = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{0,62}$"}

ALERT_RULES_SCHEMA: dict[str, Any] = {  # Any: JSON Schema
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Steward alert rules",
    "type": "object",
    "additionalProperties": False,
    "required": ["rules"],
    "properties": {
        "rules": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "metric", "comparison", "threshold"],
                "properties": {
                    "name": _NAME,
                    "deployment": _NAME,
                    "metric": {"type": "string", "minLength": 1, "maxLength": 200},
                    "comparison": {"enum": [c.value for c in Comparison]},
                    "threshold": {"type": "number"},
                    "window": {**_DURATION, "default": "1h"},
                    "min_sample": {"type": "integer", "minimum": 1, "default": 1},
                    "for": {**_DURATION, "default": "0s"},
                    "severity": {"enum": ["info", "warning", "critical"], "default": "warning"},
                    "notify": {
                        "type": "array",
                        "items": {"type": "string", "pattern": r"^(log|prometheus|webhook:[a-z0-9][a-z0-9-]{0,62})$"},
                        "default": ["log"],
                    },
                    "actions": {"type": "array", "items": {"enum": ["rollback", "retrain"]}, "uniqueItems": True},
                },
            },
        },
        "webhooks": {
            "type": "object",
            "propertyNames": {"pattern": r"^[a-z0-9][a-z0-9-]{0,62}$"},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["url"],
                "properties": {
                    "url": {"type": "string", "pattern": r"^https?://"},
                    "secret": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,127}$", "description": "The name of a stored secret (steward secrets set)."},
                    "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
                    "timeout": {**_DURATION, "default": "5s"},
                    "max_time": {**_DURATION, "default": "2m"},
                },
            },
        },
        "retrain": {
            "type": "object",
            "additionalProperties": False,
            "required": ["command"],
            "properties": {
                "command": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
                "timeout": {**_DURATION, "default": "1h"},
                "register_window": {"type": "boolean", "default": True},
            },
        },
    },
}


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where a ``webhook:<name>`` notification goes; ``secret`` names a stored secret."""

    name: str
    url: str
    secret: str | None = None
    max_attempts: int = 5
    timeout_s: float = 5.0
    max_time_s: float = 120.0


@dataclass(frozen=True, slots=True)
class RetrainCommand:
    """The argv started by the ``retrain`` action (no shell), with a time limit."""

    argv: tuple[str, ...]
    timeout_s: float = 3600.0
    register_window: bool = True


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A parsed rule file."""

    rules: tuple[AlertRule, ...]
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    retrain: RetrainCommand | None = None
    text: str = ""

    def rule(self, name: str) -> AlertRule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise InvalidInputError(f"no rule named {name[:63]!r} in the rule set", field="rule")


def is_alert_rules(text: str) -> bool:
    """True when ``text`` looks like an alert rule file (a mapping with ``rules``), for ``steward check``."""
    doc = compose(text)
    return isinstance(doc, YamlDocument) and isinstance(doc.data, dict) and "rules" in doc.data


def _semantic_faults(doc: YamlDocument, data: dict[str, Any]) -> set[tuple[int, str]]:  # Any: YAML
    faults: set[tuple[int, str]] = set()
    rules = data.get("rules")
    webhooks = data.get("webhooks") if isinstance(data.get("webhooks"), dict) else {}
    seen: dict[str, int] = {}
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        metric = rule.get("metric")
        if isinstance(metric, str) and not is_known_metric(metric):
            faults.add((doc.line(("rules", i, "metric")), f"rules.{i}.metric: unknown metric {metric[:60]!r}; metrics are: {', '.join(METRIC_FORMS)}"))
        name = rule.get("name")
        if isinstance(name, str):
            if name in seen:
                faults.add((doc.line(("rules", i, "name")), f"rules.{i}.name: {name!r} is already the name of rules.{seen[name]}"))
            seen.setdefault(name, i)
        for j, channel in enumerate(rule.get("notify") or []):
            if isinstance(channel, str) and channel.startswith("webhook:") and channel[8:] not in (webhooks or {}):
                faults.add((doc.line(("rules", i, "notify", j)), f"rules.{i}.notify.{j}: no webhook named {channel[8:]!r} under webhooks"))
        actions = rule.get("actions") or []
        if isinstance(actions, list):
            if "retrain" in actions and not isinstance(data.get("retrain"), dict):
                faults.add((doc.line(("rules", i, "actions")), f"rules.{i}.actions: retrain needs a retrain section with its command"))
            if ("rollback" in actions or "retrain" in actions) and not rule.get("deployment"):
                faults.add((doc.line(("rules", i, "actions")), f"rules.{i}.actions: rollback and retrain act on a deployment; set rules.{i}.deployment"))
    return faults


def alert_rules_faults(text: str) -> list[tuple[int, str]]:
    """Every fault of a rule file as (line, message), sorted by line; empty when valid.

    Besides the schema: every metric must be a known one (the message lists them), rule
    names unique, webhooks named in ``notify`` defined, and actions given what they need.
    """
    doc = compose(text)
    if not isinstance(doc, YamlDocument):
        return [doc]
    if not isinstance(doc.data, dict):
        return [(1, "an alert rule file is a YAML mapping with a list of rules, e.g. `rules: [{name: drift, metric: drift.share, ...}]`")]
    faults = schema_faults(doc, ALERT_RULES_SCHEMA, root_name="rules file") | _semantic_faults(doc, doc.data)
    return sorted(faults)


def parse_alert_rules(text: str) -> RuleSet:
    """Read a rule file.

    Raises:
        InvalidInputError: naming the line of the first fault (and how many more there are).

    Example:
        >>> rules = parse_alert_rules("rules: [{name: d, metric: drift.share, comparison: '>', threshold: 0.3}]")
        >>> rules.rules[0].describe()
        'drift.share > 0.3'
    """
    faults = alert_rules_faults(text)
    if faults:
        line, message = faults[0]
        more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
        raise InvalidInputError(f"alert rules line {line}: {message}{more}", field="rules")
    doc = compose(text)
    assert isinstance(doc, YamlDocument) and isinstance(doc.data, dict)  # checked above
    data: dict[str, Any] = doc.data  # Any: validated YAML
    rules = tuple(
        AlertRule(
            name=r["name"], metric=r["metric"], comparison=Comparison(r["comparison"]), threshold=float(r["threshold"]),
            window_ms=parse_duration_ms(r.get("window", "1h")), min_sample=int(r.get("min_sample", 1)),
            for_ms=parse_duration_ms(r.get("for", "0s")), severity=r.get("severity", "warning"), deployment=r.get("deployment"),
            notify=tuple(r.get("notify", ["log"])), actions=tuple(r.get("actions", [])),
        )
        for r in data["rules"]
    )
    webhooks = {
        name: Webhook(
            name, w["url"], w.get("secret"), int(w.get("max_attempts", 5)), parse_duration_ms(w.get("timeout", "5s")) / 1000,
            parse_duration_ms(w.get("max_time", "2m")) / 1000,
        )
        for name, w in (data.get("webhooks") or {}).items()
    }
    retrain = data.get("retrain")
    command = (
        RetrainCommand(tuple(retrain["command"]), parse_duration_ms(retrain.get("timeout", "1h")) / 1000, bool(retrain.get("register_window", True)))
        if retrain else None
    )
    return RuleSet(rules, webhooks, command, text)


_COLUMN_METRIC = ("drift.feature.", (".effect", ".p_value", ".missing_share_change"))


def column_faults(rule_set: RuleSet, columns: Iterable[str]) -> list[tuple[int, str]]:
    """Rules on ``drift.feature.<column>...`` whose column the monitored data does not have,
    as (line, message) with the columns it has; empty when every column exists."""
    have = sorted(set(columns))
    doc = compose(rule_set.text)
    faults = []
    prefix, suffixes = _COLUMN_METRIC
    for i, rule in enumerate(rule_set.rules):
        if not rule.metric.startswith(prefix):
            continue
        column = next((rule.metric[len(prefix):-len(s)] for s in suffixes if rule.metric.endswith(s)), None)
        if column is not None and column not in have:
            line = doc.line(("rules", i, "metric")) if isinstance(doc, YamlDocument) else 1
            shown = ", ".join(have[:50]) + (" ..." if len(have) > 50 else "")
            faults.append((line, f"rules.{i}.metric: no column {column[:60]!r} in the monitored data; columns are: {shown or '(none)'}"))
    return faults
