"""``steward evaluate`` and ``steward gate``: evaluate a version, gate it against the champion.

``steward gate`` exits 1 when any gate fails (a check that ran and failed), like validation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from steward.errors import InvalidInputError, NotFoundError

from ._output import echo, format_value, note, print_json, print_table
from ._session import open_client

if TYPE_CHECKING:  # annotations only: the evaluation stage pulls in scikit-learn
    from steward.evaluation import EvaluationRecord, GateRecord
    from steward.sdk import EvaluationBackend

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of tables.")


@contextmanager
def open_evaluation() -> Iterator[EvaluationBackend]:
    """The client's evaluation backend for one command: the embedded service, or the
    server's (which evaluates; a local data file is uploaded as a dataset version first)."""
    with open_client() as client:
        yield client.evaluation


def _fmt(value: object) -> str:
    return format_value(float(value)) if isinstance(value, int | float) and not isinstance(value, bool) else ("-" if value is None else str(value))


def print_evaluation(record: EvaluationRecord) -> None:
    """Metric, slice, fairness, stress and latency tables of one stored evaluation."""
    report = record.report
    title = f"{record.name}:{record.version} on {record.dataset_ref} ({report['rows']} rows, {report['task']}, evaluation {record.id})"
    print_table(["metric", "value"], [[k, _fmt(v)] for k, v in report["metrics"].items()], title=title)
    if report.get("slices"):
        names = list(report["slices"][0]["metrics"])[:4]
        print_table(["column", "slice", "rows", *names], [[s["column"], s["slice"], str(s["count"]), *(_fmt(s["metrics"][n]) for n in names)] for s in report["slices"]], title="Slices")
    fair = report.get("fairness")
    if fair:
        rows = [[g["group"], str(g["count"]), _fmt(g["selection_rate"]), _fmt(g["tpr"]), _fmt(g["fpr"])] for g in fair["groups"]]
        print_table(["group", "rows", "selection_rate", "tpr", "fpr"], rows, title=f"Fairness across {fair['attribute']}")
        print_table(
            ["measure", "value"],
            [["demographic_parity_difference", _fmt(fair["demographic_parity_difference"])], ["equalized_odds_difference", _fmt(fair["equalized_odds_difference"])]],
            show_header=False,
        )
    stress = report.get("stress") or {}
    if stress.get("rare_classes"):
        print_table(["class", "support", "recall"], [[str(r["class"]), str(r["support"]), _fmt(r["recall"])] for r in stress["rare_classes"]], title="Rare classes")
    edges = stress.get("edge_inputs") or []
    failed = [e for e in edges if not e["passed"]]
    print_table(
        ["case", "column", "result"],
        [[e["case"], e["column"], "pass" if e["passed"] else f"FAIL {e['error']}"] for e in edges],
        title=f"Edge inputs: {len(edges) - len(failed)} of {len(edges)} passed",
        marked=[not e["passed"] for e in edges],
    )
    if report.get("latency"):
        print_table(["latency", "ms"], [[k, _fmt(v)] for k, v in report["latency"].items()], title="Latency")
    explanation = report.get("explanation") or {}
    perm = (explanation.get("permutation_importance") or {}).get("features") or []
    if perm:
        print_table(["feature", "importance"], [[str(p["feature"]), _fmt(p["importance"])] for p in perm[:10]], title="Permutation importance (top 10)")
    if explanation.get("note"):
        note(explanation["note"])


def print_gate(record: GateRecord) -> None:
    """One row per gate: passed, observed, threshold."""
    against = f" against {record.name}:{record.champion_version}" if record.champion_version else ""
    verdict = "PASSED" if record.passed else ("FAILED (overridden)" if record.overridden else "FAILED")
    print_table(
        ["gate", "result", "observed", "threshold", "detail"],
        [[c.gate, "pass" if c.passed else "FAIL", _fmt(c.observed), _fmt(c.threshold), c.detail] for c in record.checks],
        title=f"Gate {verdict}: {record.name}:{record.version} on {record.dataset_ref}{against}",
        marked=[not c.passed for c in record.checks],
    )


def register(app: typer.Typer) -> None:
    """Add the top-level evaluation commands to the root app."""

    @app.command("evaluate")
    def evaluate(
        ref: str = typer.Argument(..., help="The version: fraud:4, fraud@champion, models:/fraud/4."),
        data: str = typer.Option(..., "--data", help="Dataset version (holdout:2, datasets:/holdout/2, holdout@<hash>) or a Parquet/CSV file."),
        target: str = typer.Option(..., "--target", help="Column of true labels or values."),
        slices: list[str] = typer.Option([], "--slice", help="Column to slice metrics by (repeatable)."),  # noqa: B008 - typer idiom
        sensitive: str | None = typer.Option(None, "--sensitive", help="Column to measure fairness across (binary classification)."),
        task: str | None = typer.Option(None, "--task", help="classification or regression (default: inferred)."),
        no_latency: bool = typer.Option(False, "--no-latency", help="Skip the latency measurement."),
        trusted: bool = typer.Option(False, "--trusted", help="Allow model files that can run code when read (pickle)."),
        out: Path | None = typer.Option(None, "--out", help="Also write the report as evaluation.json into this folder."),  # noqa: B008
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Evaluate a model version on a dataset version; the report is stored with the version."""
        from steward.evaluation import EvaluationOptions

        if task not in (None, "classification", "regression"):
            raise InvalidInputError("--task must be classification or regression", field="--task")
        options = EvaluationOptions(target=target, task=task, slices=tuple(slices), sensitive=sensitive, measure_latency=not no_latency)  # type: ignore[arg-type]
        with open_evaluation() as service:
            record = service.evaluate(ref, data, options, trusted=trusted)
        if out is not None:
            import json

            out.mkdir(parents=True, exist_ok=True)
            (out / "evaluation.json").write_text(json.dumps(record.to_dict(), indent=2), encoding="utf-8")
        if as_json:
            print_json(record.to_dict())
            return
        print_evaluation(record)

    @app.command("gate")
    def gate(
        ref: str = typer.Argument(..., help="The candidate version: fraud:4."),
        policy: Path | None = typer.Option(None, "--policy", help="Gate policy YAML."),  # noqa: B008
        data: str | None = typer.Option(None, "--data", help="Dataset version or file both models are evaluated on."),
        target: str | None = typer.Option(None, "--target", help="Column of true labels or values."),
        slices: list[str] = typer.Option([], "--slice", help="Column to slice metrics by (repeatable)."),  # noqa: B008
        task: str | None = typer.Option(None, "--task", help="classification or regression (default: inferred)."),
        trusted: bool = typer.Option(False, "--trusted", help="Allow model files that can run code when read (pickle)."),
        override: bool = typer.Option(False, "--override", help="Administrators: waive the latest failed gate (needs --reason; audited)."),
        reason: str | None = typer.Option(None, "--reason", help="Why the failed gate is waived (with --override)."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Evaluate the candidate and the champion on the same data, apply the policy, store
        the outcome. Exit 1 when any gate fails. With --override, waive a failed gate instead."""
        if override:
            if not reason:
                raise InvalidInputError("--override needs --reason saying why the failed gate is waived", field="--reason")
            with open_evaluation() as service:
                waived = service.override(ref, reason)
            if as_json:
                print_json(waived.to_dict())
            else:
                echo(f"gate result {waived.gate_result_id} overridden by {waived.actor}: {waived.reason}")
            return
        if policy is None or data is None or target is None:
            raise InvalidInputError("steward gate needs --policy, --data and --target (or --override --reason)", field="--policy")
        if not policy.is_file():
            raise NotFoundError(f"no policy file at {str(policy)[:300]!r}", field="--policy")
        try:
            text = policy.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"cannot read {str(policy)[:300]!r}: {exc}", field="--policy") from exc
        with open_evaluation() as service:
            record = service.gate(ref, data, text, target=target, task=task, slices=tuple(slices), trusted=trusted)
        if as_json:
            print_json(record.to_dict())
        else:
            print_gate(record)
        if not record.passed:
            raise typer.Exit(1)
