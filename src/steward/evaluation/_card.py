"""Model cards: one document from registry metadata, rendered as Markdown and as a
self-contained HTML page (inline CSS, no scripts, no external assets)."""

from __future__ import annotations

import html
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
    gate: GateRecord | None, history: list[AuditEntry],
) -> JSON:
    """The card as one JSON document (what ``--json`` prints and both renderers read)."""
    ref = f"{version.name}:{version.version}"
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
            "datasets": list(version.datasets),
        },
        "parameters": dict(sorted(run.params.items())) if run else {},
        "training_metrics": dict(sorted(version.metrics.items())),
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


def _sections(card: JSON) -> list[tuple[str, list[str] | None, list[list[str]] | str]]:
    """(title, headers or None, rows or a paragraph) in card order; both renderers walk this."""
    ref = card["ref"]
    out: list[tuple[str, list[str] | None, list[list[str]] | str]] = []
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
        [["Training run", f"{lineage['run_id']} ({lineage['run_name'] or '?'})"], ["Experiment", str(lineage["experiment_id"])],
         ["Dataset versions", ", ".join(lineage["datasets"]) or "none recorded"]],
    ))
    out.append(("Training parameters", ["parameter", "value"], [[k, v] for k, v in card["parameters"].items()] or "No parameters recorded."))
    out.append(("Training metrics", ["metric", "value"], [[k, _fmt(v)] for k, v in card["training_metrics"].items()] or "No metrics recorded."))
    ev = card["evaluation"]
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
            out.append(("Edge inputs", ["case", "column", "result"], [[e["case"], e["column"], "pass" if e["passed"] else f"FAIL: {e['error']}"] for e in edges]))
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
        rows = [[c["gate"], "pass" if c["passed"] else "FAIL", _fmt(c["observed"]), _fmt(c["threshold"]), c["detail"]] for c in gate["checks"]]
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


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d2327;line-height:1.45}
h1{font-size:1.6rem;border-bottom:2px solid #2c6e49;padding-bottom:.3rem}h2{font-size:1.15rem;margin-top:1.8rem;color:#2c6e49}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f6f4}td.k{width:28%;font-weight:600;background:#fafbfa}.fail{color:#b42318;font-weight:600}.pass{color:#2c6e49}
p.note{color:#57606a;font-style:italic}footer{margin-top:2rem;color:#57606a;font-size:.8rem}
"""


def _cell(text: str) -> str:
    escaped = html.escape(text)
    if text == "pass" or text == "PASSED":
        return f'<td class="pass">{escaped}</td>'
    if text.startswith("FAIL"):
        return f'<td class="fail">{escaped}</td>'
    return f"<td>{escaped}</td>"


def render_html(card: JSON) -> str:
    """The card as one self-contained HTML page: inline CSS, nothing fetched from anywhere."""
    title = html.escape(f"Model card: {card['ref']}")
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{title}</title>", f"<style>{_CSS}</style></head><body>", f"<h1>{title}</h1>"]
    for section, headers, body in _sections(card):
        parts.append(f"<h2>{html.escape(section)}</h2>")
        if isinstance(body, str):
            parts.append(f'<p class="note">{html.escape(body)}</p>' if body.startswith(("Not ", "No ")) else f"<p>{html.escape(body)}</p>")
            continue
        parts.append("<table>")
        if headers:
            parts.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>")
            parts += ["<tr>" + "".join(_cell(str(c)) for c in row) + "</tr>" for row in body]
        else:
            parts += [f'<tr><td class="k">{html.escape(str(row[0]))}</td>{_cell(str(row[1]))}</tr>' for row in body]
        parts.append("</table>")
    parts.append(f"<footer>Generated by Steward from registry metadata for {html.escape(card['uri'])}.</footer></body></html>")
    return "\n".join(parts)
