"""Request plumbing of the UI: the caller, templates, errors, CSRF and cookies."""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from steward.errors import AuthenticationError, NotFoundError, PermissionDeniedError, StewardError
from steward.server._auth import PRINCIPAL_KEY
from steward.wiring import Services

from ._access import Caller, principal_for
from ._session import COOKIE, MAX_AGE_S, Session, SessionSigner

__all__ = ["CSP", "Handler", "UiState", "form_of", "page", "render"]

# plotly.js sets inline styles on the elements it draws: allowed for styles only, never scripts
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(resources.files("steward.ui") / "templates")),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _when(ms: int | None) -> str:
    if not ms:
        return ""
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


_ENV.filters["fmt"] = _fmt
_ENV.filters["when"] = _when
_ENV.filters["urlq"] = lambda v: urllib.parse.quote(str(v), safe="")


class UiState:
    """What the UI keeps on ``app.state.ui``."""

    def __init__(self, signer: SessionSigner, secure_cookies: bool = False) -> None:
        self.signer = signer
        self.secure_cookies = secure_cookies


Handler = Callable[[Caller], Response]


def render(caller: Caller | None, template: str, status: int = 200, **context: Any) -> HTMLResponse:  # Any: template values
    body = _ENV.get_template(template).render(
        caller=caller,
        user=caller.principal.name if caller and caller.principal else None,
        auth_enabled=bool(caller and caller.auth_enabled),
        csrf=caller.csrf if caller else "",
        path=caller.request.url.path if caller else "/",
        nav_audit=bool(caller and caller.may("GET", "/api/v1/audit")),
        nav_admin=bool(caller and caller.may("GET", "/api/v1/users")),
        **context,
    )
    return HTMLResponse(body, status_code=status)


def _error_page(caller: Caller | None, status: int, title: str, message: str) -> HTMLResponse:
    return render(caller, "error.html", status=status, title=title, message=message)


def _set_cookie(response: Response, state: UiState, session: Session, request: Request) -> None:
    response.set_cookie(
        COOKIE, state.signer.dump(session), max_age=MAX_AGE_S, path="/", httponly=True, samesite="lax",
        secure=state.secure_cookies or request.url.scheme == "https",
    )


def _caller(request: Request) -> tuple[Caller | None, Session, bool]:
    """The caller (None: must log in), their session, and whether the cookie must be (re)set."""
    app = request.app
    services: Services = app.state.services
    state: UiState = app.state.ui
    session = state.signer.load(request.cookies.get(COOKIE))
    renew = session is None
    if session is None:
        session = Session.fresh()
    auth_enabled = bool(app.state.auth_enabled)
    principal = None
    actor: str = app.state.default_actor
    if auth_enabled:
        if not session.user:
            return None, session, renew
        try:
            principal = principal_for(services, session.user)
        except AuthenticationError:
            return None, Session.fresh(), True
        actor = principal.name
        request.scope[PRINCIPAL_KEY] = principal  # the refusal audit names the caller
    return Caller(request, services, state.signer, session, principal, actor, auth_enabled), session, renew


def form_of(body: bytes) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body (the UI's forms post nothing else)."""
    return urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=200)


def page(handler: Callable[[Caller], Response], *, public: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a (blocking) page handler: caller resolution, CSRF on POST, errors as pages."""

    async def endpoint(request: Request) -> Response:
        state: UiState = request.app.state.ui
        caller, session, renew = await run_in_threadpool(_caller, request)
        if caller is None and not public:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response: Response = RedirectResponse("/login?next=" + urllib.parse.quote(target, safe=""), status_code=303)
            if renew:
                _set_cookie(response, state, session, request)
            return response
        if request.method == "POST":
            body = await request.body()
            form = form_of(body)
            request.state.form = form
            token = (form.get("csrf_token") or [""])[0]
            if not state.signer.csrf_ok(session, token):
                response = _error_page(caller, 403, "Refused", "The form's CSRF token is missing or stale: reload the page and try again.")
                if renew:
                    _set_cookie(response, state, session, request)
                return response
        request.state.session = session
        try:
            if caller is None:
                # public pages (login) get a caller-less context
                anonymous = Caller(request, request.app.state.services, state.signer, session, None, "anonymous", True)
                response = await run_in_threadpool(handler, anonymous)
            else:
                response = await run_in_threadpool(handler, caller)
        except NotFoundError as exc:
            response = _error_page(caller, 404, "Not found", exc.message)
        except PermissionDeniedError as exc:
            response = _error_page(caller, 403, "Permission denied", exc.message)
        except StewardError as exc:
            response = _error_page(caller, exc.status if 400 <= exc.status < 600 else 400, "Error", exc.message)
        new_session = getattr(request.state, "new_session", None)
        if isinstance(new_session, Session):
            _set_cookie(response, state, new_session, request)
        elif renew:
            _set_cookie(response, state, session, request)
        response.headers["content-security-policy"] = CSP
        response.headers.setdefault("cache-control", "no-store")
        return response

    return endpoint


def not_found_page(request: Request) -> HTMLResponse:
    return render(None, "error.html", status=404, title="Not found", message=f"There is no page at {request.url.path[:200]}.")
