"""Alert rule files: parsed into rules; every fault names its line; unknown metrics list the known."""

from __future__ import annotations

import pytest

from steward.core.alerts import Comparison
from steward.errors import InvalidInputError
from steward.monitoring._alert_rules import (
    alert_rules_faults,
    column_faults,
    is_alert_rules,
    parse_alert_rules,
)

GOOD = """\
rules:
  - name: drift-high
    deployment: fraud-api
    metric: drift.share
    comparison: ">"
    threshold: 0.3
    window: 1h
    min_sample: 500
    for: 15m
    severity: critical
    notify: [log, prometheus, "webhook:ops"]
    actions: [rollback, retrain]
  - name: amount-drift
    metric: drift.feature.amount.effect
    comparison: ">="
    threshold: 0.1
webhooks:
  ops: {url: "http://127.0.0.1:9/hook", secret: OPS_WEBHOOK, max_attempts: 3}
retrain:
  command: [python, -c, "print(1)"]
  timeout: 10m
"""


def test_a_rule_file_parses_into_rules_webhooks_and_the_retrain_command() -> None:
    rules = parse_alert_rules(GOOD)
    first, second = rules.rules
    assert (first.name, first.metric, first.comparison, first.threshold) == ("drift-high", "drift.share", Comparison.GT, 0.3)
    assert (first.window_ms, first.min_sample, first.for_ms, first.severity) == (3_600_000, 500, 900_000, "critical")
    assert first.notify == ("log", "prometheus", "webhook:ops") and first.actions == ("rollback", "retrain")
    assert (second.for_ms, second.min_sample, second.notify, second.actions) == (0, 1, ("log",), ())
    assert rules.webhooks["ops"].secret == "OPS_WEBHOOK" and rules.webhooks["ops"].max_attempts == 3
    assert rules.retrain is not None and rules.retrain.argv == ("python", "-c", "print(1)") and rules.retrain.timeout_s == 600
    assert is_alert_rules(GOOD) and not is_alert_rules("steps: [5, 100]")


def test_an_unknown_metric_is_refused_on_its_line_with_the_list_of_metrics() -> None:
    text = GOOD.replace("metric: drift.feature.amount.effect", "metric: drift.feature.amount.efect")
    [(line, message)] = alert_rules_faults(text)
    assert line == 14
    assert "unknown metric 'drift.feature.amount.efect'" in message and "health.p99_ms" in message and "quality.<metric>" in message


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("    for: 15m", "    for: fifteen minutes", 9, "not a duration"),
        ("    severity: critical", "    severity: loud", 10, "severity"),
        ("    min_sample: 500", "    min_sampel: 500", 8, "unknown key 'min_sampel'"),
        ('comparison: ">="', 'comparison: "=="', 15, "comparison"),
        ('"webhook:ops"', '"webhook:pager"', 11, "no webhook named 'pager'"),
        ("    deployment: fraud-api\n", "", 11, "set rules.0.deployment"),
        ("  - name: amount-drift", "  - name: drift-high", 13, "already the name of rules.0"),
        ("  timeout: 10m", "  timeout: 10m\n  shell: true", 22, "unknown key 'shell'"),
        ("threshold: 0.3", "threshold: high", 6, "threshold"),
    ],
)
def test_a_bad_rule_file_names_the_line_of_its_fault(old: str, new: str, line: int, words: str) -> None:
    text = GOOD.replace(old, new)
    assert text != GOOD
    faults = alert_rules_faults(text)
    assert any(ln == line and words in msg for ln, msg in faults), faults
    with pytest.raises(InvalidInputError, match=r"alert rules line \d+"):
        parse_alert_rules(text)


def test_yaml_syntax_errors_and_non_mappings_are_faults_with_lines() -> None:
    assert alert_rules_faults("rules:\n  - name: [unclosed\n")[0][0] >= 2
    assert alert_rules_faults("- just a list\n") == [(1, alert_rules_faults("- just a list\n")[0][1])]
    assert alert_rules_faults("")[0][0] == 1


def test_a_rule_on_a_column_the_data_does_not_have_is_refused_with_its_line_and_the_columns() -> None:
    rules = parse_alert_rules(GOOD)
    assert column_faults(rules, ["amount", "count"]) == []
    [(line, message)] = column_faults(rules, ["amt", "count"])
    assert line == 14 and "no column 'amount' in the monitored data; columns are: amt, count" in message
