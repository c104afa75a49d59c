"""Demo chapter, registry: evaluate both demo models, gate the challenger against the
champion on the same holdout version, promote the winner and write its model card."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from steward import Client, Settings
from steward.core.lifecycle import ModelState
from steward.evaluation import EvaluationOptions, render_html, render_markdown
from steward.wiring import build_services

from ._progress import bars
from .tracking import EXPERIMENT

MODEL = "breast-cancer"
POLICY = """\
# A challenger ships only when it earns it.
min: {roc_auc: 0.95, recall: 0.9}
beat_champion: {metric: log_loss, min_delta: 0.0}
rare_class_recall: {min: 0.8}
latency: {p99_single_row_ms: 250}  # generous: demo machines vary
"""


@dataclass(frozen=True, slots=True)
class Release:
    """The chapter's outcome: the champion's version, and this run's other version (the
    challenger the serving chapter canaries)."""

    champion: int
    challenger: int


def evaluate_and_promote(console: Console, settings: Settings, client: Client, data: dict[str, Any]) -> Release:  # Any: frames
    """Register a holdout version and two models, evaluate, gate, promote, write the card."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    console.rule("[bold]Registry[/bold]: evaluation, gates, promotion, model card")
    x_train, x_test, y_train, y_test = data["x_train"], data["x_test"], data["y_train"], data["y_test"]
    services = build_services(settings)
    try:
        train = services.data().register("breast-cancer-train", x_train.assign(target=y_train.to_numpy()))
        holdout = services.data().register("breast-cancer-holdout", x_test.assign(target=y_test.to_numpy()))
        console.print(f"Holdout: {holdout.ref} ({holdout.short_hash}, {holdout.num_rows} rows)")
        versions = {}
        candidates = (
            ("logistic", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))),
            ("gbm", GradientBoostingClassifier(n_estimators=150, max_depth=3, random_state=42)),
        )
        # one step per model fitted and registered, then per model evaluated on the holdout
        with bars(console) as progress:
            task = progress.add_task("Registry", total=2 * len(candidates), unit="steps")
            for label, estimator in candidates:
                progress.update(task, description=f"Fitting and registering {label}")
                estimator.fit(x_train, y_train)
                with client.start_run(EXPERIMENT, name=f"{label}-for-registry", params={"model": label}) as run:
                    run.log_input(train.ref, role="train")  # the card's data lineage
                    logged = run.log_model(estimator, MODEL, input_example=x_train.head(5), registered_model_name=MODEL)
                assert logged.registered is not None  # registered_model_name was given
                versions[label] = logged.registered.version
                progress.advance(task)
            registry = services.registry()
            champion = _champion(registry)
            if champion is None:
                # the boosted trees ship first; the logistic model then challenges them
                registry.approve(MODEL, versions["gbm"], comment="demo: first model, reviewed by hand")
                registry.transition(MODEL, versions["gbm"], ModelState.PRODUCTION, comment="demo: first champion")
                registry.set_alias(MODEL, "champion", versions["gbm"])
                champion = versions["gbm"]
            evaluation = services.evaluation()
            reports = {}
            for label, number in versions.items():
                progress.update(task, description=f"Evaluating {MODEL}:{number} ({label}) on the holdout")
                reports[label] = evaluation.evaluate(f"{MODEL}:{number}", holdout.ref, EvaluationOptions("target", slices=("mean radius",)))
                progress.advance(task)
        table = Table(title=f"Evaluation on {holdout.ref}")
        table.add_column("model", no_wrap=True)
        # three decimals keep the table inside an 80-column terminal
        metric_names = ("roc_auc", "pr_auc", "log_loss", "brier", "recall", "f1")
        for name in (*metric_names, "p99 1-row ms"):
            table.add_column(name, justify="right")
        for label, record in reports.items():
            m, lat = record.report["metrics"], record.report["latency"] or {}
            table.add_row(f"v{versions[label]} {label}", *(f"{m[k]:.3f}" for k in metric_names), f"{lat.get('p99_single_row_ms', 0):.2f}")
        console.print(table)

        challenger = versions["logistic"] if champion != versions["logistic"] else versions["gbm"]
        gate = evaluation.gate(f"{MODEL}:{challenger}", holdout.ref, POLICY, target="target")
        gates = Table(title=f"Gate: {MODEL}:{challenger} vs champion {MODEL}:{gate.champion_version or '-'} -> {'PASSED' if gate.passed else 'FAILED'}")
        for col in ("gate", "result", "observed", "threshold"):
            gates.add_column(col)
        for c in gate.checks:
            gates.add_row(c.gate, "pass" if c.passed else "[red]FAIL[/red]", "-" if c.observed is None else f"{c.observed:.4g}", str(c.threshold))
        console.print(gates)
        winner = champion
        if gate.passed:
            registry.approve(MODEL, challenger, comment="demo: passed its gate")
            registry.transition(MODEL, challenger, ModelState.PRODUCTION, comment="demo: beat the champion")
            old = registry.get_version(MODEL, champion)
            if old.state is ModelState.PRODUCTION:
                registry.transition(MODEL, champion, ModelState.DEPRECATED, comment="demo: replaced by the challenger")
            registry.set_alias(MODEL, "champion", challenger)
            winner = challenger
            console.print(f"Promoted [bold]{MODEL}:{challenger}[/bold] to production; it is the new champion.")
        else:
            console.print(f"The challenger failed its gate: [bold]{MODEL}:{champion}[/bold] stays champion (production is blocked for {MODEL}:{challenger}).")
        evaluation.set_card_fields(
            f"{MODEL}:{winner}",
            {
                "intended_use": "Demonstration: flag breast-tissue samples as malignant or benign for a second opinion.",
                "limitations": "Trained on 426 samples of one public data set; not for clinical use.",
            },
        )
        card = evaluation.card(f"{MODEL}:{winner}")
        out = Path(settings.resolved_home()) / "cards" / f"{MODEL}-{winner}"
        out.mkdir(parents=True, exist_ok=True)
        (out / "MODEL_CARD.md").write_text(render_markdown(card), encoding="utf-8")
        (out / "model_card.html").write_text(render_html(card), encoding="utf-8")
        console.print(f"Model card: {out / 'model_card.html'} (and MODEL_CARD.md)")
        console.print(f"Next: [bold]steward models show {MODEL}[/bold], [bold]steward models card {MODEL}@champion[/bold]")
        # this run's other version challenges the champion again, on live traffic
        return Release(winner, versions["gbm"] if winner != versions["gbm"] else versions["logistic"])
    finally:
        services.close()


def _champion(registry: Any) -> int | None:  # Any: RegistryService
    from steward.errors import NotFoundError

    try:
        return int(registry.resolve(f"{MODEL}@champion").version)
    except NotFoundError:
        return None
