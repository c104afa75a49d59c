"""The UI's pages: each calls the service functions the REST routes call, after the same check."""

from __future__ import annotations

import json
import math
import urllib.parse
from dataclasses import dataclass
from typing import Any

from starlette.responses import RedirectResponse, Response, StreamingResponse

from steward.core import Run
from steward.errors import (
    AuthenticationError,
    FilterSyntaxError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    StewardError,
)
from steward.server._denials import record_denial

from ._access import Caller
from ._session import Session
from ._web import render

JSON = dict[str, Any]  # Any: JSON values

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
MAX_CHARTS = 12
MAX_COMPARE = 10
_TRAIL_MAX = 40


def _arg(caller: Caller, name: str, default: str = "", limit: int = 2000) -> str:
    return caller.request.query_params.get(name, default)[:limit]


def _form(caller: Caller, name: str) -> str:
    form: dict[str, list[str]] = getattr(caller.request.state, "form", {})
    return (form.get(name) or [""])[0]


# -- experiments ------------------------------------------------------------------------------


def experiments_page(caller: Caller) -> Response:
    readable = caller.check("GET", "/api/v1/experiments")
    svc = caller.services.tracking(caller.actor)
    items = svc.list_experiments(projects=readable)
    return render(caller, "experiments.html", title="Experiments", experiments=items)


# -- runs table -------------------------------------------------------------------------------


def _quote_key(key: str) -> str:
    if key and all(c.isalnum() or c in "_-." for c in key) and not key[0].isdigit():
        return key
    return "`" + key.replace("`", "") + "`"


@dataclass(frozen=True, slots=True)
class Column:
    kind: str  # "metrics" | "params" | "tags"
    key: str

    @property
    def ref(self) -> str:
        return f"{self.kind}.{self.key}"

    @property
    def order_ref(self) -> str:
        return f"{self.kind}.{_quote_key(self.key)}"

    def value(self, run: Run) -> object:
        if self.kind == "metrics":
            metric = run.metrics.get(self.key)
            return None if metric is None else metric.value
        if self.kind == "params":
            return run.params.get(self.key)
        return run.tags.get(self.key)


def _parse_columns(raw: list[str]) -> list[Column]:
    found: list[Column] = []
    for item in raw:
        for part in item.split(","):
            kind, sep, key = part.strip().partition(".")
            if sep and kind in ("metrics", "params", "tags") and key and len(key) <= 250:
                column = Column(kind, key)
                if column not in found:
                    found.append(column)
    return found[:100]


def _position_of(exc: FilterSyntaxError) -> int:
    return max(0, exc.position)


def runs_page(caller: Caller, experiment_id: str) -> Response:
    caller.check("GET", "/api/v1/experiments/{experiment_id}", experiment_id=experiment_id)
    svc = caller.services.tracking(caller.actor)
    experiment = svc.get_experiment(experiment_id)
    query = caller.request.query_params
    text = _arg(caller, "filter", limit=4000)
    order = _arg(caller, "order", "start_time DESC", limit=300)
    try:
        size = int(_arg(caller, "n", str(DEFAULT_PAGE_SIZE)))
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    token = _arg(caller, "page_token", limit=200) or None
    trail = [t for t in _arg(caller, "trail", limit=12_000).split(",") if t][-_TRAIL_MAX:]
    chosen = _parse_columns(query.getlist("cols"))
    error: str | None = None
    position: int | None = None
    runs: list[Run] = []
    next_token: str | None = None
    try:
        result = svc.search_runs(
            [experiment.experiment_id], filter=text or None, order_by=[order] if order else None,
            max_results=size, page_token=token,
        )
        runs, next_token = result.runs, result.next_page_token
    except FilterSyntaxError as exc:
        error, position = exc.message, _position_of(exc)
        if exc.field == "order_by":
            position = None
    except InvalidInputError as exc:
        error = exc.message
    # the column chooser offers every key of the page's runs (the page is the query)
    metric_keys = sorted({k for r in runs for k in r.metrics})
    param_keys = sorted({k for r in runs for k in r.params})
    if not query.getlist("cols"):
        chosen = [Column("metrics", k) for k in metric_keys[:6]] + [Column("params", k) for k in param_keys[:4]]
    offered = [Column("metrics", k) for k in metric_keys] + [Column("params", k) for k in param_keys]
    offered += [c for c in chosen if c not in offered]
    base: dict[str, str | list[str]] = {"filter": text, "order": order, "n": str(size), "cols": [c.ref for c in chosen]}

    def link(**changes: str | list[str] | None) -> str:
        params = {**base, **changes}
        pairs = [(k, x) for k, v in params.items() if v for x in (v if isinstance(v, list) else [v])]
        return f"/experiments/{experiment.experiment_id}?" + urllib.parse.urlencode(pairs)

    def sort_link(ref: str) -> str:
        current, _, direction = order.partition(" ")
        descending = not (current == ref and direction.upper() == "DESC")
        return link(order=f"{ref} {'DESC' if descending else 'ASC'}")

    nxt = link(page_token=next_token, trail=",".join([*trail, token or "-"])) if next_token else None
    return render(
        caller, "runs.html", title=experiment.name, experiment=experiment, runs=runs, columns=chosen, offered=offered,
        filter_text=text, order=order, size=size, sizes=PAGE_SIZES, error=error, position=position,
        previous=_previous_link(link, token, trail), next_link=nxt, page_number=len(trail) + 1 if token else 1,
        sort_link=sort_link, may_write=caller.may("DELETE", "/api/v1/experiments/{experiment_id}", experiment_id=experiment.experiment_id),
    )


def _previous_link(link: Any, token: str | None, trail: list[str]) -> str | None:  # Any: the link builder
    """The link to the page before: the trail holds the tokens of the pages before this one
    ("-" for the first page)."""
    if not token:
        return None
    if not trail:
        return str(link())
    before = trail[-1]
    rest = ",".join(trail[:-1]) or None
    return str(link(page_token=None if before == "-" else before, trail=rest))


# -- one run ----------------------------------------------------------------------------------


def run_page(caller: Caller, run_id: str) -> Response:
    caller.check("GET", "/api/v1/runs/{run_id}", run_id=run_id)
    svc = caller.services.tracking(caller.actor)
    run = svc.get_run(run_id)
    experiment = svc.get_experiment(run.experiment_id)
    artifacts = svc.list_artifacts(run_id)
    keys = sorted(run.metrics)
    charted = keys[:MAX_CHARTS]
    chosen = caller.request.query_params.getlist("chart")
    if chosen:
        charted = [k for k in chosen if k in run.metrics][:MAX_CHARTS]
    series: JSON = {}
    for key in charted:
        points = svc.get_metric_history(run_id, key)
        series[key] = [{"name": run.name or run.run_id[:8], "x": [p.step for p in points], "y": [_num(p.value) for p in points]}]
    return render(
        caller, "run.html", title=run.name or run.run_id, run=run, experiment=experiment, artifacts=artifacts,
        metric_keys=keys, charted=charted, charts_json=_script_json(series),
        may_write=caller.may("DELETE", "/api/v1/runs/{run_id}", run_id=run_id),
    )


def _script_json(value: JSON) -> str:
    """JSON safe inside a ``<script type="application/json">`` element (no ``</script>``)."""
    text = json.dumps(value, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _num(value: float) -> float | None:
    return value if math.isfinite(value) else None


def run_in_experiment(caller: Caller, experiment_id: str, run_id: str) -> Response:
    """MLflow's ``#/experiments/<id>/runs/<run>`` links, kept as a path: the run's page."""
    return RedirectResponse(f"/runs/{urllib.parse.quote(run_id, safe='')}", status_code=307)


def artifact_download(caller: Caller, run_id: str, path: str) -> Response:
    caller.check("GET", "/api/v1/runs/{run_id}/artifacts/{path}", run_id=run_id)
    svc = caller.services.tracking(caller.actor)
    info, stream = svc.open_artifact(run_id, path)

    def chunks() -> Any:  # Any: an iterator of bytes
        with stream:
            while block := stream.read(1 << 16):
                yield block

    name = info.path.rsplit("/", 1)[-1]
    return StreamingResponse(
        chunks(), media_type="application/octet-stream",
        headers={"content-disposition": f"attachment; filename*=UTF-8''{urllib.parse.quote(name)}", "content-length": str(info.size)},
    )


def delete_run(caller: Caller, run_id: str) -> Response:
    caller.check("DELETE", "/api/v1/runs/{run_id}", run_id=run_id)
    caller.services.tracking(caller.actor).delete_run(run_id)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


def restore_run(caller: Caller, run_id: str) -> Response:
    caller.check("DELETE", "/api/v1/runs/{run_id}", run_id=run_id)
    caller.services.tracking(caller.actor).restore_run(run_id)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


# -- compare ----------------------------------------------------------------------------------


def compare_page(caller: Caller) -> Response:
    ids: list[str] = []
    for item in caller.request.query_params.getlist("run"):
        for part in item.split(","):
            if part.strip() and part.strip() not in ids:
                ids.append(part.strip()[:64])
    if not ids:
        raise InvalidInputError("choose runs to compare: /compare?run=ID&run=ID", field="run")
    if len(ids) > MAX_COMPARE:
        raise InvalidInputError(f"compare at most {MAX_COMPARE} runs at once", field="run")
    svc = caller.services.tracking(caller.actor)
    runs: list[Run] = []
    for run_id in ids:
        caller.check("GET", "/api/v1/runs/{run_id}", run_id=run_id)
        runs.append(svc.get_run(run_id))
    param_keys = sorted({k for r in runs for k in r.params})
    metric_keys = sorted({k for r in runs for k in r.metrics})
    differing = {k for k in param_keys if len({r.params.get(k) for r in runs}) > 1}
    only_diff = caller.request.query_params.get("diff") == "1"
    shown_params = [k for k in param_keys if k in differing] if only_diff else param_keys
    series: JSON = {}
    for key in metric_keys[:MAX_CHARTS]:
        lines = []
        for run in runs:
            if key in run.metrics:
                points = svc.get_metric_history(run.run_id, key)
                lines.append({"name": run.name or run.run_id[:8], "x": [p.step for p in points], "y": [_num(p.value) for p in points]})
        series[key] = lines
    return render(
        caller, "compare.html", title="Compare runs", runs=runs, param_keys=shown_params, differing=differing,
        metric_keys=metric_keys, only_diff=only_diff, charts_json=_script_json(series),
        ids=ids, charted=list(series),
    )


# -- login ------------------------------------------------------------------------------------


def _safe_next(target: str) -> str:
    if not target.startswith("/") or target.startswith("//") or "\\" in target or len(target) > 2000:
        return "/"
    return target


def login_page(caller: Caller) -> Response:
    if not caller.auth_enabled or caller.principal is not None:
        return RedirectResponse(_safe_next(_arg(caller, "next", "/")), status_code=303)
    return render(caller, "login.html", title="Log in", next=_safe_next(_arg(caller, "next", "/")), name="", error=None)


def login_submit(caller: Caller) -> Response:
    target = _safe_next(_form(caller, "next") or "/")
    if not caller.auth_enabled:
        return RedirectResponse(target, status_code=303)
    name, password = _form(caller, "user")[:200], _form(caller, "password")
    request = caller.request
    client = request.client.host if request.client else "unknown"
    limiter = getattr(request.app.state, "auth_limiter", None)
    governance = caller.services.governance("auth")
    try:
        if not name or not password:
            raise AuthenticationError("enter your user name and password")
        if limiter is not None:
            limiter.check_password(name, client)
        principal = governance.authenticate_password(name, password)
    except RateLimitedError as exc:
        return render(caller, "login.html", status=429, title="Log in", next=target, name=name, error=exc.message)
    except AuthenticationError as exc:
        if limiter is not None and name and password:
            limiter.failure(client, name)
        record_denial(caller.services, "anonymous", "POST", request.url.path, exc.message, client)
        return render(caller, "login.html", status=401, title="Log in", next=target, name=name, error=exc.message)
    except StewardError as exc:
        return render(caller, "login.html", status=exc.status, title="Log in", next=target, name=name, error=exc.message)
    # a fresh nonce: a token seen before logging in is worthless after
    request.state.new_session = Session.fresh(principal.name)
    return RedirectResponse(target, status_code=303)


def logout_submit(caller: Caller) -> Response:
    caller.request.state.new_session = Session.fresh()
    return RedirectResponse("/login" if caller.auth_enabled else "/", status_code=303)


def not_found(caller: Caller) -> Response:
    raise NotFoundError(f"there is no page at {caller.request.url.path[:200]}")


# -- audit trail ------------------------------------------------------------------------------

AUDIT_PAGE_SIZES = (50, 100, 200, 500)
AUDIT_DEFAULT_PAGE = 100


def _since_ms(text: str, field: str = "since") -> int | None:
    import datetime as dt

    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"{field} must be an ISO-8601 date or time, such as 2026-01-31, not {text[:40]!r}", field=field) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def _entry_id(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 19 else None


def audit_page(caller: Caller) -> Response:
    """The audit trail, newest first, a page at a time: the service call ``GET /api/v1/audit``
    makes (``AuditChainService.list_entries``), paged by entry id in both directions."""
    caller.check("GET", "/api/v1/audit")
    target = _arg(caller, "target", limit=1000).strip()
    actor = _arg(caller, "actor", limit=250).strip()
    action = _arg(caller, "action", limit=100).strip()
    since_text = _arg(caller, "since", limit=40).strip()
    until_text = _arg(caller, "until", limit=40).strip()
    try:
        size = int(_arg(caller, "n", str(AUDIT_DEFAULT_PAGE), limit=6))
    except ValueError:
        size = AUDIT_DEFAULT_PAGE
    size = size if size in AUDIT_PAGE_SIZES else AUDIT_DEFAULT_PAGE
    # before=N: the page of entries older than N (the next page); after=N: newer than N (the previous one)
    before, after = _entry_id(_arg(caller, "before", limit=20)), _entry_id(_arg(caller, "after", limit=20))
    audit = caller.services.audit()
    error, field = None, None
    entries: list[Any] = []  # Any: AuditEntry
    older = newer = None
    try:
        field = "since"
        since = _since_ms(since_text)
        field = "until"
        until = _since_ms(until_text, "until")
        field = None
        filters: JSON = {"target": target or None, "actor": actor or None, "action": action or None, "since": since, "until": until}
        if after is not None:
            page = audit.list_entries(**filters, cursor=after, newest_first=False, max_results=size)
            entries = list(reversed(page.entries))
            newer = entries[0].entry_id if page.next_cursor is not None and entries else None
            older = entries[-1].entry_id if entries else after + 1
        else:
            page = audit.list_entries(**filters, cursor=before, newest_first=True, max_results=size)
            entries = page.entries
            older = page.next_cursor
            newer = entries[0].entry_id if before is not None and entries else (before - 1 if before is not None else None)
    except InvalidInputError as exc:
        error = exc.message
    head = audit.head()
    report = None
    if caller.request.query_params.get("verify") == "1":
        caller.check("GET", "/api/v1/audit/verify")
        from steward.server._routes_audit import report_to_dict

        report = report_to_dict(audit.verify())
    base: dict[str, str] = {"target": target, "actor": actor, "action": action, "since": since_text, "until": until_text, "n": str(size)}

    def link(**changes: str | None) -> str:
        params = {**base, **changes}
        return "/audit?" + urllib.parse.urlencode([(k, v) for k, v in params.items() if v])

    return render(
        caller, "audit.html", title="Audit trail", entries=entries, target=target, actor=actor, action=action,
        since=since_text, until=until_text, error=error, error_field=field, report=report, head=head,
        size=size, sizes=AUDIT_PAGE_SIZES,
        older_link=link(before=str(older)) if older is not None else None,
        newer_link=link(after=str(newer)) if newer is not None else None,
        newest_link=link() if (before is not None or after is not None) else None,
        verify_link=link(verify="1"), may_verify=caller.may("GET", "/api/v1/audit/verify"),
    )


# -- administration ---------------------------------------------------------------------------


def admin_page(caller: Caller, notice: str | None = None, error: str | None = None, status: int = 200) -> Response:
    caller.check("GET", "/api/v1/users")
    governance = caller.services.governance(caller.actor)
    from steward.core.permissions import Role

    return render(
        caller, "admin.html", status=status, title="Administration", users=governance.list_users(),
        roles=governance.list_roles(), tokens=governance.list_tokens(None), role_names=[r.value for r in Role],
        notice=notice or _arg(caller, "done", limit=200) or None, error=error, form={k: _form(caller, k) for k in ("user", "project", "role")},
    )


def _admin_action(caller: Caller, method: str, template: str, act: Any) -> Response:  # Any: the service call
    caller.check(method, template)
    try:
        notice = act(caller.services.governance(caller.actor))
    except InvalidInputError as exc:
        return admin_page(caller, error=exc.message, status=400)
    except StewardError as exc:
        if isinstance(exc, NotFoundError):
            return admin_page(caller, error=exc.message, status=404)
        raise
    caller.request.state.notice = notice
    return RedirectResponse("/admin?done=" + urllib.parse.quote(str(notice)[:200]), status_code=303)


def grant_role(caller: Caller) -> Response:
    user, project, role = _form(caller, "user").strip(), _form(caller, "project").strip(), _form(caller, "role").strip()
    if not user or not project or not role:
        return admin_page(caller, error="user, project and role are all required", status=400)
    return _admin_action(
        caller, "POST", "/api/v1/roles",
        lambda g: (g.grant_role(user, project, role), f"granted {role} on {project} to {user}")[1],
    )


def revoke_role(caller: Caller) -> Response:
    user, project, role = _form(caller, "user"), _form(caller, "project"), _form(caller, "role")
    return _admin_action(
        caller, "DELETE", "/api/v1/roles",
        lambda g: (g.revoke_role(user, project, role), f"revoked {role} on {project} from {user}")[1],
    )


def disable_user(caller: Caller) -> Response:
    name = _form(caller, "user")
    return _admin_action(
        caller, "POST", "/api/v1/users/{name}/disable", lambda g: (g.disable_user(name), f"disabled {name}")[1]
    )


def revoke_token(caller: Caller) -> Response:
    token_id = _form(caller, "token_id")
    return _admin_action(
        caller, "DELETE", "/api/v1/tokens/{token_id}",
        lambda g: (g.revoke_token(token_id, caller=caller.principal), f"revoked token {token_id}")[1],
    )
