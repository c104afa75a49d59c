"""The UI's API tokens page: list, create (the secret shown once) and revoke tokens through
the governance service calls of ``POST /api/v1/tokens``, ``GET /api/v1/tokens`` and
``DELETE /api/v1/tokens/{token_id}``, after the same checks.

As over REST, everybody signed in manages their own tokens; only administrators see
everybody's and create or revoke tokens for others (the service refuses the rest: a viewer
asking for an administrator's token is refused, audited, and nothing is issued).
"""

from __future__ import annotations

import urllib.parse

from starlette.responses import RedirectResponse, Response

from steward.core.permissions import SCOPES
from steward.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from steward.server._denials import record_denial

from ._access import Caller
from ._pages import _arg, _form
from ._web import render

DEFAULT_DAYS = "90"


def _is_admin(caller: Caller) -> bool:
    # authentication off: the server's user acts, as the REST API without credentials does
    return caller.principal is None or caller.principal.is_admin


def tokens_page(
    caller: Caller, *, created: object = None, error: str | None = None, error_field: str | None = None,
    form: dict[str, object] | None = None, status: int = 200,
) -> Response:
    """``GET /api/v1/tokens``: the caller's tokens (everybody's for administrators)."""
    caller.check("GET", "/api/v1/tokens")
    admin = _is_admin(caller)
    governance = caller.services.governance(caller.actor)
    tokens = governance.list_tokens(None if admin else caller.actor)
    shown_form: dict[str, object] = {"user": caller.actor, "label": "", "scopes": ["read", "write"], "expires_in_days": DEFAULT_DAYS}
    shown_form |= form or {}
    return render(
        caller, "tokens.html", status=status, title="API tokens", tokens=tokens, admin=admin, created=created,
        error=error, error_field=error_field, form=shown_form, scope_names=list(SCOPES),
        notice=_arg(caller, "done", limit=200) or None,
        may_create=caller.may("POST", "/api/v1/tokens"),
    )


def _refused(caller: Caller, exc: PermissionDeniedError) -> None:
    """Audit a refusal the service made (the permission table allowed the operation)."""
    request = caller.request
    client = request.client.host if request.client else None
    record_denial(caller.services, caller.actor, request.method, request.url.path, exc.message, client)


def create_token(caller: Caller) -> Response:
    """``POST /api/v1/tokens``: the service issues it (and audits ``tokens.create``); the
    secret is in this one response, never in a URL, never stored."""
    caller.check("POST", "/api/v1/tokens")
    form_values: dict[str, list[str]] = getattr(caller.request.state, "form", {})
    user = _form(caller, "user").strip()[:64] or caller.actor
    label = _form(caller, "label")[:200]
    scopes = [s for s in form_values.get("scopes", []) if s][:3]
    days_text = _form(caller, "expires_in_days").strip()[:10]
    form: dict[str, object] = {"user": user, "label": label, "scopes": scopes, "expires_in_days": days_text}
    governance = caller.services.governance(caller.actor)
    try:
        if not scopes:
            raise InvalidInputError("choose at least one scope", field="scopes")
        if days_text and not days_text.isdigit():
            raise InvalidInputError("expires in days is a whole number of days (empty: never, administrators only)", field="expires_in_days")
        days = int(days_text) if days_text else None
        created = governance.create_token(user, label=label, scopes=scopes, expires_in_days=days, caller=caller.principal)
    except PermissionDeniedError as exc:
        _refused(caller, exc)
        return tokens_page(caller, error=exc.message, error_field=exc.field, form=form, status=403)
    except (InvalidInputError, ConflictError, NotFoundError) as exc:
        return tokens_page(caller, error=exc.message, error_field=exc.field, form=form, status=exc.status)
    return tokens_page(caller, created=created, status=201)


def revoke_token(caller: Caller) -> Response:
    """``DELETE /api/v1/tokens/{token_id}``: one's own, or anybody's for administrators."""
    token_id = _form(caller, "token_id")[:64]
    caller.check("DELETE", "/api/v1/tokens/{token_id}", token_id=token_id)
    try:
        caller.services.governance(caller.actor).revoke_token(token_id, caller=caller.principal)
    except PermissionDeniedError as exc:
        _refused(caller, exc)
        return tokens_page(caller, error=exc.message, status=403)
    except NotFoundError as exc:
        return tokens_page(caller, error=exc.message, status=404)
    return RedirectResponse("/tokens?done=" + urllib.parse.quote(f"revoked token {token_id}"), status_code=303)
