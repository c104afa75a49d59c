"""The UI's model pages: registered models, a model's versions, gates, card, evaluation and
timeline, and the approve / transition / alias actions (each the REST route's service call,
after the REST route's permission check)."""

from __future__ import annotations

import urllib.parse
from typing import Any

from starlette.responses import RedirectResponse, Response

from steward.core.lifecycle import allowed_transitions
from steward.errors import ConflictError, InvalidInputError, NotFoundError, StewardError

from ._access import Caller
from ._pages import _arg, _form, _num, _script_json
from ._web import render

JSON = dict[str, Any]  # Any: JSON values
_V = "/api/v1/models/{name}/versions/{version}"
TIMELINE_SHOWN = 200


def _version_number(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 10**9:
        raise NotFoundError(f"there is no version {text[:40]!r}")
    return int(text)


def models_page(caller: Caller) -> Response:
    readable = caller.check("GET", "/api/v1/models")
    prefix = _arg(caller, "prefix", limit=64).strip()
    page = caller.services.registry(caller.actor).list_models(name_prefix=prefix or None, max_results=500, projects=readable)
    return render(caller, "models.html", title="Models", models=page.models, prefix=prefix, more=bool(page.next_page_token))


def model_page(caller: Caller, name: str, *, error: str | None = None, form: dict[str, str] | None = None, status: int = 200) -> Response:
    caller.check("GET", "/api/v1/models/{name}", name=name)
    registry = caller.services.registry(caller.actor)
    model = registry.get_model(name)
    versions = registry.list_versions(name, max_results=200).versions
    wanted = (form or {}).get("version") or _arg(caller, "version", limit=12)
    selected = None
    if wanted:
        selected = next((v for v in versions if str(v.version) == wanted), None)
        if selected is None:
            raise NotFoundError(f"model {name!r} has no version {wanted[:12]!r}")
    elif versions:
        selected = versions[0]
    evaluation: JSON | None = None
    evaluations: list[Any] = []  # Any: EvaluationRecord
    gates: list[JSON] = []
    card: JSON | None = None
    experiment_name: str | None = None
    if selected is not None:
        ref = f"models:/{name}/{selected.version}"
        ev = caller.services.evaluation(caller.actor)
        caller.check("GET", f"{_V}/evaluations", name=name)
        evaluations = ev.list_evaluations(ref, limit=50)
        chosen_id = _arg(caller, "evaluation", limit=12)
        chosen = next((e for e in evaluations if str(e.id) == chosen_id), None) if chosen_id else (evaluations[0] if evaluations else None)
        if chosen_id and chosen is None:
            raise NotFoundError(f"version {selected.version} has no evaluation {chosen_id!r}")
        evaluation = chosen.to_dict() if chosen else None
        caller.check("GET", f"{_V}/gates", name=name)
        gates = [g.to_dict() for g in ev.list_gates(ref, limit=20)]
        caller.check("GET", f"{_V}/card", name=name)
        card = ev.card(ref)
        experiment_id = (card.get("lineage") or {}).get("experiment_id")
        if experiment_id and caller.may("GET", "/api/v1/experiments/{experiment_id}", experiment_id=str(experiment_id)):
            try:
                experiment_name = caller.services.tracking(caller.actor).get_experiment(str(experiment_id)).name
            except StewardError:
                experiment_name = None
    caller.check("GET", "/api/v1/models/{name}/timeline", name=name)
    events = list(caller.services.timeline().get_timeline(name, max_results=1000).events)
    events = events[-TIMELINE_SHOWN:]
    events.reverse()  # newest first
    metric_names = sorted({k for s in (evaluation or {}).get("slices") or [] for k in (s.get("metrics") or {})})[:8]
    chart: JSON = {}
    if evaluation and evaluation.get("metrics"):
        metrics = {k: v for k, v in evaluation["metrics"].items() if isinstance(v, int | float) and not isinstance(v, bool)}
        chart["eval-metrics"] = {
            "traces": [{"type": "bar", "x": list(metrics), "y": [_num(float(v)) for v in metrics.values()]}],
            "layout": {"yaxis": {"title": {"text": "value"}}},
        }
    version_no = str(selected.version) if selected else ""
    done = _arg(caller, "done", limit=200)
    return render(
        caller, "model.html", status=status, title=f"Model {name}", model=model, versions=versions, selected=selected,
        evaluation=evaluation, evaluations=evaluations, gates=gates, card=card, experiment_name=experiment_name, events=events,
        slice_metrics=metric_names, charts_json=_script_json(chart), error=error, notice=done or None,
        form={k: "" for k in ("action", "comment", "state", "alias", "alias_version", "version")} | (form or {}), transitions=[s.value for s in allowed_transitions(selected.state)] if selected else [],
        may_approve=bool(selected) and caller.may("POST", f"{_V}/approvals", name=name),
        may_transition=bool(selected) and caller.may("POST", f"{_V}/transitions", name=name),
        may_alias=caller.may("PUT", "/api/v1/models/{name}/aliases/{alias}", name=name), version_no=version_no,
    )


def _back(name: str, version: int, done: str) -> Response:
    target = f"/models/{urllib.parse.quote(name, safe='')}?version={version}&done={urllib.parse.quote(done)}"
    return RedirectResponse(target, status_code=303)


def _refused(caller: Caller, name: str, exc: StewardError, form: dict[str, str]) -> Response:
    """A refused action: the model page again, the error above the form, what was typed kept."""
    status = 409 if isinstance(exc, ConflictError) else exc.status if 400 <= exc.status < 500 else 400
    return model_page(caller, name, error=exc.message, form=form, status=status)


def approve_version(caller: Caller, name: str, version: str) -> Response:
    number = _version_number(version)
    caller.check("POST", f"{_V}/approvals", name=name)
    comment = _form(caller, "comment").strip()
    form = {"version": str(number), "action": "approve", "comment": _form(caller, "comment")}
    try:
        if not comment:
            raise InvalidInputError("an approval needs a comment: say what you checked", field="comment")
        caller.services.registry(caller.actor).approve(name, number, comment=comment[:20_000])
    except (InvalidInputError, ConflictError) as exc:
        return _refused(caller, name, exc, form)
    return _back(name, number, f"approved version {number}")


def transition_version(caller: Caller, name: str, version: str) -> Response:
    number = _version_number(version)
    caller.check("POST", f"{_V}/transitions", name=name)
    state, comment = _form(caller, "state").strip(), _form(caller, "comment")
    form = {"version": str(number), "action": "transition", "state": state, "comment": comment}
    try:
        if not state:
            raise InvalidInputError("choose the state to move the version to", field="state")
        caller.services.registry(caller.actor).transition(name, number, state[:20], comment=comment[:20_000])
    except (InvalidInputError, ConflictError) as exc:
        return _refused(caller, name, exc, form)
    return _back(name, number, f"version {number} moved to {state}")


def set_alias(caller: Caller, name: str) -> Response:
    alias, raw = _form(caller, "alias").strip(), _form(caller, "alias_version").strip()
    caller.check("PUT", "/api/v1/models/{name}/aliases/{alias}", name=name)
    form = {"action": "alias", "alias": _form(caller, "alias"), "alias_version": raw, "version": _form(caller, "version")}
    try:
        if not alias:
            raise InvalidInputError("enter an alias name, such as champion", field="alias")
        if not raw.isdigit() or int(raw) < 1:
            raise InvalidInputError(f"the alias must point at a version number, not {raw[:20]!r}", field="alias_version")
        caller.services.registry(caller.actor).set_alias(name, alias[:64], int(raw))
    except (InvalidInputError, ConflictError, NotFoundError) as exc:
        if isinstance(exc, NotFoundError):
            caller.services.registry(caller.actor).get_model(name)  # an unknown model is the 404 page
        return _refused(caller, name, exc, form)
    return _back(name, int(raw), f"{alias} now points at version {raw}")
