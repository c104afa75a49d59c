"""Who is calling the UI and what they may do: the REST API's permission table, reused.

Every page and action names the REST operation it stands for (``("GET",
"/api/v1/runs/{run_id}")``) and the objects it touches; the check is the one the API's
:func:`steward.server._auth.authorize` runs: the governance service decides from
:data:`steward.core.permissions.OPERATIONS`. Refusals are audited like the API's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from steward.core.permissions import OPERATIONS, SCOPES
from steward.errors import AuthenticationError, PermissionDeniedError, StewardError
from steward.governance import Principal
from steward.server._denials import record_denial
from steward.wiring import Services

from ._session import Session, SessionSigner

__all__ = ["Caller", "principal_for"]


def principal_for(services: Services, name: str) -> Principal:
    """The principal of a logged-in user, read afresh (a disabled user's session ends).

    A password login carries every scope (as HTTP basic does); the roles are the user's.
    """
    governance = services.governance("ui")
    try:
        user = governance.get_user(name)
    except StewardError:
        raise AuthenticationError(f"user {name!r} no longer exists") from None
    if user.disabled:
        raise AuthenticationError(f"user {name!r} is disabled")
    bindings = tuple((b.project, b.role) for b in governance.list_roles(name))
    return Principal(name, user.is_admin, tuple(SCOPES), bindings, None)


@dataclass
class Caller:
    """One UI request's caller: services acting for them and their permission checks."""

    request: Request
    services: Services
    signer: SessionSigner
    session: Session
    principal: Principal | None  # None: authentication is off
    actor: str
    auth_enabled: bool
    _cache: dict[tuple[Any, ...], bool] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        return self.signer.csrf_token(self.session)

    def check(self, method: str, template: str, **values: str | list[str]) -> frozenset[str] | None:
        """Raise unless the caller may run the REST operation on these objects.

        Returns the projects a listing may show (None: all)."""
        principal = self.principal
        if principal is None:
            return None
        operation = OPERATIONS[(method, template)]
        governance = self.services.governance(principal.name)
        checks = []
        for ref in operation.refs:
            for name in ref.fields:
                raw = values.get(name)
                items = raw if isinstance(raw, list) else [raw] if raw else []
                for value in items:
                    checks.append((ref.permission or operation.permission, governance.project_of(ref.kind, value)))
        try:
            governance.authorize(principal, operation, checks)
        except PermissionDeniedError as exc:
            client = self.request.client.host if self.request.client else None
            record_denial(self.services, principal.name, self.request.method, self.request.url.path, exc.message, client)
            raise
        if operation.listing:
            return governance.readable_projects(principal, operation.permission)
        return None

    def may(self, method: str, template: str, **values: str) -> bool:
        """Whether to offer an action (a button): the same check, without auditing."""
        principal = self.principal
        if principal is None:
            return True
        key = (method, template, tuple(sorted(values.items())))
        if key not in self._cache:
            operation = OPERATIONS[(method, template)]
            governance = self.services.governance(principal.name)
            checks = [
                (ref.permission or operation.permission, governance.project_of(ref.kind, values[name]))
                for ref in operation.refs
                for name in ref.fields
                if values.get(name)
            ]
            try:
                governance.authorize(principal, operation, checks)
                self._cache[key] = True
            except PermissionDeniedError:
                self._cache[key] = False
        return self._cache[key]
