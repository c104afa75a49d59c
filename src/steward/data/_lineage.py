"""Lineage of a dataset version: the runs (and, later, models) that used it."""

from __future__ import annotations

from dataclasses import dataclass

from steward.errors import InvalidInputError

from ._ports import InputUse
from ._versions import DatasetVersion

__all__ = ["ROLES", "Lineage", "validate_role"]

ROLES = ("train", "validation", "test")


def validate_role(role: str) -> str:
    """Check an input role.

    Raises:
        InvalidInputError: ``role`` is not ``train``, ``validation`` or ``test``.
    """
    if role not in ROLES:
        raise InvalidInputError(f"role {str(role)[:40]!r} is invalid; use one of {', '.join(ROLES)}", field="role")
    return role


@dataclass(frozen=True, slots=True)
class Lineage:
    """Who used a dataset version.

    Attributes:
        version: the dataset version.
        runs: runs that logged it as an input, oldest first, with their role.
        models: model versions trained on it (filled once the registry follows runs).
    """

    version: DatasetVersion
    runs: tuple[InputUse, ...]
    models: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "dataset": self.version.ref,
            "content_hash": self.version.content_hash,
            "runs": [
                {
                    "run_id": u.run_id,
                    "experiment_id": u.experiment_id,
                    "run_name": u.run_name,
                    "status": u.status,
                    "start_time": u.start_time,
                    "role": u.role,
                    "logged_as": u.dataset,
                }
                for u in self.runs
            ],
            "models": list(self.models),
        }
