"""``steward alerts list|show|test``: alert rules' state and history, and a dry run of a rule file.

The state lives in the metadata store of the embedded store (monitors and the server write
it); ``test`` reads a rule file and says what each rule on a metric would do with a value,
storing, sending and doing nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from steward.errors import InvalidInputError, NotFoundError

from ._output import echo, print_json, print_table
from ._session import load_settings
from ._time import format_time

if TYPE_CHECKING:
    from steward.monitoring._alert_service import AlertService

app = typer.Typer(name="alerts", help="Alert rules: their state, history, and a dry run of a rule file.", no_args_is_help=True)

T = TypeVar("T")
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")


@contextmanager
def _alerts() -> Iterator[AlertService]:
    settings = load_settings()
    if settings.is_remote():
        raise InvalidInputError("steward alerts reads the embedded store; unset STEWARD_TRACKING_URI to use it", field="tracking_uri")
    from steward.wiring import build_services, default_actor

    services = build_services(settings)
    try:
        yield services.alerts(default_actor(settings))
    finally:
        services.close()


def _with_alerts(work: Callable[[AlertService], T]) -> T:
    with _alerts() as alerts:
        return work(alerts)


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


@app.command("list")
def list_alerts(as_json: bool = JSON_OPTION) -> None:
    """Every evaluated rule and its state (inactive, pending, firing)."""
    records = _with_alerts(lambda a: a.list_alerts())
    if as_json:
        print_json({"alerts": [r.to_dict() for r in records]})
        return
    rows = [[r.rule, r.state.status.value, format_time(r.state.since_ms), _value(r.state.value), r.metric, r.severity, r.deployment or "-"]
            for r in records]
    print_table(["RULE", "STATUS", "SINCE", "VALUE", "METRIC", "SEVERITY", "DEPLOYMENT"], rows, title="Alerts",
                marked=[r.state.status.value == "firing" for r in records])


@app.command("show")
def show_alert(
    name: str = typer.Argument(..., help="The rule's name."),
    max_events: int = typer.Option(20, "--max-events", min=1, max=1000, help="Newest events shown."),
    as_json: bool = JSON_OPTION,
) -> None:
    """A rule's state and its newest events (firings, resolutions, deliveries, actions)."""
    record, events = _with_alerts(lambda a: a.get_alert(name, max_events=max_events))
    if as_json:
        print_json({**record.to_dict(), "events": [e.to_dict() for e in events]})
        return
    s = record.state
    print_table(["", ""], [["status", s.status.value], ["since", format_time(s.since_ms)], ["last window", format_time(s.last_ms)],
                           ["value", _value(s.value)], ["metric", record.metric], ["severity", record.severity],
                           ["deployment", record.deployment or "-"]], title=f"Alert {record.rule}", show_header=False)
    rows = [[format_time(e.at_ms), e.kind, _summary(e.evidence)] for e in events]
    print_table(["WINDOW END", "EVENT", "EVIDENCE"], rows, title="Events (newest first)")


def _summary(evidence: dict[str, object]) -> str:
    keys = ("value", "sample", "threshold", "ok", "attempts", "status", "error", "primary", "dataset", "exit_code")
    return ", ".join(f"{k}={evidence[k]}" for k in keys if evidence.get(k) is not None)[:200]


@app.command("test")
def test_rules(
    file: Path = typer.Argument(..., help="An alert rule YAML file (steward check FILE validates it)."),  # noqa: B008 - typer idiom
    metric: str = typer.Option(..., "--metric", help="The metric observed, e.g. drift.share or health.p99_ms."),
    value: float = typer.Option(..., "--value", help="Its value."),
    sample: int | None = typer.Option(None, "--sample", min=0, help="Rows in the window (default: each rule's min_sample)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Dry run: what each rule on METRIC would do with VALUE now, from its stored state.
    Nothing is stored, sent or done. Exit 1 when a rule would fire (or keeps firing)."""
    from steward.monitoring._alert_rules import parse_alert_rules

    if not file.is_file():
        raise NotFoundError(f"no file at {str(file)[:300]!r}", field="file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {str(file)[:300]!r}: {exc}", field="file") from exc
    rules = parse_alert_rules(text)
    outcomes = _with_alerts(lambda a: a.dry_run(rules, metric, value, sample=sample))
    if as_json:
        print_json({"metric": metric, "value": value, "outcomes": [o.to_dict() for o in outcomes]})
    else:
        rows = [[o.rule, rules.rule(o.rule).describe(), o.previous.status.value, o.state.status.value,
                 ", ".join(e.kind.value for e in o.events) or "-"] for o in outcomes]
        print_table(["RULE", "CONDITION", "FROM", "TO", "EVENTS"], rows, title=f"{metric} = {value:g}")
        for o in outcomes:
            if o.state.status.value == "pending":
                echo(f"{o.rule}: pending; fires once the condition has held for {rules.rule(o.rule).for_ms / 1000:g} s")
    if any(o.state.status.value == "firing" for o in outcomes):
        raise typer.Exit(1)
