"""Governance policies that other stages apply at their decision points."""

from __future__ import annotations

from steward.errors import PermissionDeniedError

__all__ = ["check_separation_of_duties"]


def check_separation_of_duties(actor: str, author: str, *, enabled: bool = True) -> None:
    """Refuse an approval by the author of what is being approved.

    Args:
        actor: who approves.
        author: who created the model version.
        enabled: the policy is on (team mode by default).

    Raises:
        PermissionDeniedError: ``actor`` is ``author`` while the policy is on.
    """
    if enabled and actor == author:
        raise PermissionDeniedError(
            "separation of duties: the author of a model version cannot approve it", field="approver"
        )
