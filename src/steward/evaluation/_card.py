"""Model cards: one document from registry metadata, rendered as Markdown and as a
self-contained HTML page (inline CSS, no scripts, no external assets)."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from steward.core import AuditEntry, Run
from steward.registry import ModelVersion, RegisteredModel

from ._types import EvaluationRecord, GateRecord

__all__ = ["CARD_FIELDS", "CARD_TAG_PREFIX", "build_card", "render_html", "render_markdown"]

JSON = dict[str, Any]  # Any: JSON values
CARD_TAG_PREFIX = "card."
# The parts only the owner can write; stored as version tags card.<field>.
CARD_FIELDS = ("intended_use", "limitations", "ethical_considerations", "out_of_scope")
_UNSET = "Not filled in yet: steward models card {ref} --set {field}=\"...\""


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_card(
    model: RegisteredModel, version: ModelVersion, run: Run | None, evaluation: EvaluationRecord | None,
    gate: GateRecord | None, history: list[AuditEntry], *, experiment_name: str | None = None,
    metric_history: Mapping[str, Sequence[tuple[float, float]]] | None = None,
) -> JSON:
    """The card as one JSON document (what ``--json`` prints and both renderers read).

    ``training_metrics`` are the version's snapshot merged with the run's latest values (metrics
    logged after registration count too); ``metric_history`` holds ``[step, value]`` points of the
    run's metrics for the curves of the HTML card.
    """
    ref = f"{version.name}:{version.version}"
    metrics = dict(version.metrics)
    if run is not None:
        metrics.update({k: m.value for k, m in run.metrics.items() if isinstance(m.value, int | float) and math.isfinite(m.value)})
    fields = {f: version.tags.get(CARD_TAG_PREFIX + f) for f in CARD_FIELDS}
    report = evaluation.report if evaluation else None
    return {
        "model": version.name,
        "version": version.version,
        "uri": version.uri,
        "ref": ref,
        "state": version.state.value,
        "aliases": list(version.aliases),
        "owner": model.owner,
        "description": version.description or model.description,
        "flavor": version.flavor,
        "created_by": version.created_by,
        "created_at": _when(version.created_at),
        "fields": fields,
        "lineage": {
            "run_id": version.run_id,
            "run_name": run.name if run else None,
            "experiment_id": run.experiment_id if run else None,
            "experiment_name": experiment_name,
            "datasets": list(version.datasets),
        },
        "parameters": dict(sorted(run.params.items())) if run else {},
        "training_metrics": dict(sorted(metrics.items())),
        "metric_history": {k: [[float(a), float(b)] for a, b in pts] for k, pts in sorted((metric_history or {}).items())},
        "requirements": list(version.requirements),
        "evaluation": None if report is None or evaluation is None else {
            "id": evaluation.id,
            "dataset_ref": evaluation.dataset_ref,
            "dataset_hash": evaluation.dataset_hash,
            "task": report.get("task"),
            "rows": report.get("rows"),
            "metrics": report.get("metrics"),
            "confusion_matrix": report.get("confusion_matrix"),
            "slices": report.get("slices") or [],
            "fairness": report.get("fairness"),
            "stress": report.get("stress"),
            "latency": report.get("latency"),
            "explanation": report.get("explanation"),
            "created_at": _when(evaluation.created_at),
        },
        "gate": gate.to_dict() if gate else None,
        "approvals": [{"approver": a.approver, "comment": a.comment, "at": _when(a.created_at)} for a in version.approvals],
        "history": [
            {"at": _when(e.timestamp), "actor": e.actor, "action": e.action, "details": {k: v for k, v in e.details.items() if k in ("from", "to", "comment", "passed", "reason")}}
            for e in history
        ],
    }


def _fmt(value: Any) -> str:  # Any: a JSON scalar
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _experiment(lineage: JSON) -> str:
    """The experiment's name; its id only when the name is unknown."""
    if lineage.get("experiment_name"):
        return str(lineage["experiment_name"])
    return "unknown" if lineage.get("experiment_id") is None else f"experiment {lineage['experiment_id']} (name unknown)"


_URL = re.compile(r"\bhttps?://")


def _one_line(error: object) -> str:
    """An error as one readable line: its first line, without links, at most 200 characters."""
    text = _URL.sub("", str(error or "failed")).strip()
    first = text.splitlines()[0] if text else "failed"
    return first if len(first) <= 200 else first[:199] + "…"


def _attention(card: JSON) -> list[list[str]]:
    """What failed, one line each: gate checks, edge inputs, owner's fields left empty."""
    rows: list[list[str]] = []
    gate = card["gate"]
    if gate is not None:
        rows += [["gate", f"FAIL: {c['gate']} observed {_fmt(c['observed'])}, threshold {_fmt(c['threshold'])}"] for c in gate["checks"] if not c["passed"]]
    ev = card["evaluation"] or {}
    for e in (ev.get("stress") or {}).get("edge_inputs") or []:
        if not e["passed"]:
            rows.append(["edge input", f"FAIL: {_one_line(e.get('error'))} (input: {e.get('input') or e['case'] + ' in ' + e['column']})"])
    return rows


def _sections(card: JSON) -> list[tuple[str, list[str] | None, list[list[str]] | str]]:
    """(title, headers or None, rows or a paragraph) in card order; both renderers walk this."""
    ref = card["ref"]
    out: list[tuple[str, list[str] | None, list[list[str]] | str]] = []
    attention = _attention(card)
    if attention:
        out.append((f"Needs attention ({len(attention)})", ["what", "finding"], attention))
    overview = [
        ["Model", card["uri"]], ["State", card["state"]], ["Aliases", ", ".join(card["aliases"]) or "–"],
        ["Owner", card["owner"]], ["Registered by", f"{card['created_by']} at {card['created_at']}"], ["Flavor", card["flavor"]],
    ]
    if card["description"]:
        overview.append(["Description", card["description"]])
    out.append(("Overview", None, overview))
    for field in CARD_FIELDS:
        text = card["fields"].get(field) or _UNSET.format(ref=ref, field=field)
        out.append((field.replace("_", " ").capitalize(), None, text))
    lineage = card["lineage"]
    out.append((
        "Data lineage", None,
        [["Training run", f"{lineage['run_name'] or '?'} ({lineage['run_id']})"], ["Experiment", _experiment(lineage)],
         ["Dataset versions", ", ".join(lineage["datasets"]) or "none recorded"]],
    ))
    out.append(("Training parameters", ["parameter", "value"], [[k, v] for k, v in card["parameters"].items()] or "No parameters recorded."))
    ev = card["evaluation"]
    no_training = "No metrics were logged on the training run." + (" The evaluation metrics are under Evaluation." if ev and ev["metrics"] else "")
    out.append(("Training metrics", ["metric", "value"], [[k, _fmt(v)] for k, v in card["training_metrics"].items()] or no_training))
    if ev is None:
        out.append(("Evaluation", None, f"Not evaluated yet: steward evaluate {ref} --data ... --target ..."))
    else:
        out.append((f"Evaluation on {ev['dataset_ref']} ({ev['rows']} rows)", ["metric", "value"], [[k, _fmt(v)] for k, v in (ev["metrics"] or {}).items()]))
        if ev["slices"]:
            names = list(ev["slices"][0]["metrics"])[:5]
            out.append(("Slices", ["column", "slice", "rows", *names], [[s["column"], s["slice"], str(s["count"]), *(_fmt(s["metrics"].get(n)) for n in names)] for s in ev["slices"]]))
        fair = ev["fairness"]
        if fair:
            rows = [[g["group"], str(g["count"]), _fmt(g["selection_rate"]), _fmt(g["tpr"]), _fmt(g["fpr"])] for g in fair["groups"]]
            rows.append(["demographic parity difference", "", _fmt(fair["demographic_parity_difference"]), "", ""])
            rows.append(["equalised odds difference", "", "", _fmt(fair["equalized_odds_difference"]), ""])
            out.append((f"Fairness across {fair['attribute']}", ["group", "rows", "selection rate", "TPR", "FPR"], rows))
        stress = ev["stress"] or {}
        rare = stress.get("rare_classes") or []
        if rare:
            out.append(("Rare classes", ["class", "support", "share", "recall"], [[str(r["class"]), str(r["support"]), _fmt(r["share"]), _fmt(r["recall"])] for r in rare]))
        edges = stress.get("edge_inputs") or []
        if edges:
            ordered = sorted(edges, key=lambda e: bool(e["passed"]))
            out.append(("Edge inputs", ["case", "column", "result"], [[e["case"], e["column"], "pass" if e["passed"] else f"FAIL: {_one_line(e.get('error'))}"] for e in ordered]))
        if ev["latency"]:
            out.append(("Latency", ["measure", "ms"], [[k, _fmt(v)] for k, v in ev["latency"].items()]))
        explanation = ev["explanation"] or {}
        perm = (explanation.get("permutation_importance") or {}).get("features") or []
        if perm:
            out.append(("Explanation: permutation importance", ["feature", "importance", "std"], [[str(p["feature"]), _fmt(p["importance"]), _fmt(p["std"])] for p in perm[:20]]))
        if explanation.get("shap"):
            out.append(("Explanation: mean |SHAP|", ["feature", "mean |SHAP|"], [[str(p["feature"]), _fmt(p["mean_abs_shap"])] for p in explanation["shap"][:20]]))
    gate = card["gate"]
    if gate is None:
        out.append(("Gate", None, f"No gate run yet: steward gate {ref} --policy gate.yaml --data ... --target ..."))
    else:
        verdict = "PASSED" if gate["passed"] else ("FAILED, overridden" if gate["overridden"] else "FAILED")
        title = f"Gate: {verdict} on {gate['dataset_ref']}" + (f" against version {gate['champion_version']}" if gate["champion_version"] else "")
        checks = sorted(gate["checks"], key=lambda c: bool(c["passed"]))
        rows = [[c["gate"], "pass" if c["passed"] else "FAIL", _fmt(c["observed"]), _fmt(c["threshold"]), c["detail"]] for c in checks]
        rows += [["override", "", "", "", f"{o['actor']}: {o['reason']}"] for o in gate["overrides"]]
        out.append((title, ["gate", "result", "observed", "threshold", "detail"], rows))
    if card["approvals"]:
        out.append(("Approvals", ["approver", "at", "comment"], [[a["approver"], a["at"], a["comment"]] for a in card["approvals"]]))
    history = [[h["at"], h["actor"], h["action"], ", ".join(f"{k}={v}" for k, v in h["details"].items())] for h in card["history"]]
    out.append(("History", ["at", "actor", "action", "details"], history or "No recorded changes."))
    return out


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(card: JSON) -> str:
    """The card as Markdown."""
    lines = [f"# Model card: {card['ref']}", ""]
    for title, headers, body in _sections(card):
        lines += [f"## {title}", ""]
        if isinstance(body, str):
            lines += [body, ""]
            continue
        head = headers or ["", ""]
        lines.append("| " + " | ".join(_md_cell(h) for h in head) + " |")
        lines.append("|" + "---|" * len(head))
        lines += ["| " + " | ".join(_md_cell(str(c)) for c in row) + " |" for row in body]
        lines.append("")
    return "\n".join(lines)


def _e(text: object) -> str:
    """Escaped text with link schemes dropped: the card links to nothing."""
    return html.escape(_URL.sub("", str(text)))


def _cell(text: str) -> str:
    if text in ("pass", "PASSED"):
        return f'<td class="pass">{_e(text)}</td>'
    if text.startswith("FAIL"):
        return f'<td class="fail">{_e(text)}</td>'
    return f"<td>{_e(text)}</td>"


def _grid(headers: list[str] | None, body: list[list[str]]) -> str:
    if headers:
        head = "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in headers) + "</tr></thead>"
        rows = "".join("<tr>" + "".join(_cell(str(c)) for c in row) + "</tr>" for row in body)
        return f"<table>{head}<tbody>{rows}</tbody></table>"
    return "<table>" + "".join(f'<tr><td class="k">{_e(row[0])}</td>{_cell(str(row[1]))}</tr>' for row in body) + "</table>"


def _edge_html(edges: list[JSON]) -> str:
    """Failed edge inputs as one line each (error, the input), the traceback folded; passes folded."""
    from steward._report_style import badge, folded

    parts = []
    for e in (e for e in edges if not e["passed"]):
        detail = str(e.get("traceback") or e.get("error") or "")
        given = e.get("input") or f"{e['case']} in {e['column']}"
        parts.append(
            f'<div class="card error"><p>{badge("FAIL", "fail")} <b>{_e(_one_line(e.get("error")))}</b></p>'
            f'<p class="meta">input: {_e(given)}</p>'
            + (folded("Full error and traceback", f"<pre>{_e(detail)}</pre>") if detail else "")
            + "</div>"
        )
    passed = [[e["case"], e["column"], "pass"] for e in edges if e["passed"]]
    if passed:
        parts.append(folded(f"{len(passed)} edge inputs passed", _grid(["case", "column", "result"], passed)))
    return "".join(parts)


def _charts(card: JSON) -> str:
    """Evaluation metrics as bars and the run's metric curves over steps."""
    from steward._report_style import bars_svg, line_svg

    out = []
    ev = card["evaluation"] or {}
    scores = [(k, float(v)) for k, v in (ev.get("metrics") or {}).items() if isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1]
    if scores:
        out.append(bars_svg(scores, caption="evaluation metrics between 0 and 1", fmt=".3f"))
    for key, pts in list((card.get("metric_history") or {}).items())[:12]:
        if len(pts) > 1:
            out.append(line_svg([(key, [(float(a), float(b)) for a, b in pts])], caption=f"{key} over steps (training run)"))
    return f'<div class="charts">{"".join(out)}</div>' if out else ""


def render_html(card: JSON) -> str:
    """The card as one self-contained HTML page: inline CSS and SVG, nothing fetched from anywhere.

    What failed leads (gate checks, edge inputs); an edge input's traceback is folded.
    """
    from steward._report_style import badge, page

    gate = card["gate"]
    verdict = "" if gate is None else (badge("gate passed", "pass") if gate["passed"] else badge("gate failed", "fail"))
    parts = [f"<h1>Model card: {_e(card['ref'])} {verdict}</h1>",
             f'<div class="meta">{_e(card["state"])} · owner {_e(card["owner"])} · experiment {_e(_experiment(card["lineage"]))}</div>']
    for section, headers, body in _sections(card):
        parts.append(f"<h2>{_e(section)}</h2>")
        if section == "Edge inputs" and card["evaluation"]:
            parts.append(_edge_html(list((card["evaluation"]["stress"] or {}).get("edge_inputs") or [])))
            continue
        if isinstance(body, str):
            parts.append(f'<p class="note">{_e(body)}</p>' if body.startswith(("Not ", "No ")) else f"<p>{_e(body)}</p>")
        else:
            parts.append(_grid(headers, body))
        if section.startswith("Evaluation on ") or (section == "Training metrics" and card.get("metric_history")):
            charts = _charts(card) if section.startswith("Evaluation on ") or not card["evaluation"] else ""
            parts.append(charts)
    parts.append(f"<footer>Generated by Steward from registry metadata for {_e(card['uri'])}.</footer>")
    return page(f"Model card: {card['ref']}", "\n".join(parts))
