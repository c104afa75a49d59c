"""The promotion guard the registry consults before a version enters production."""

from __future__ import annotations

from steward.errors import ConflictError

from ._ports import EvaluationStore

__all__ = ["GateGuard"]


class GateGuard:
    """Refuses production for a version whose latest gate failed, unless an administrator
    overrode that outcome. A version never gated is not blocked: gates are opt-in per team.

    Implements :class:`steward.registry.PromotionGuard`.
    """

    def __init__(self, store: EvaluationStore) -> None:
        self.store = store

    def check_promotion(self, name: str, version: int) -> None:
        """Raises:
        ConflictError: the latest gate outcome failed and was not overridden (names the gates).
        """
        latest = self.store.latest_gate_result(name, version)
        if latest is None or latest.passed or latest.overridden:
            return
        failed = ", ".join(c.gate for c in latest.checks if not c.passed)
        raise ConflictError(
            f"{name}:{version} failed its gate ({failed}); fix it and run `steward gate` again, or an administrator "
            f"overrides with `steward gate override {name}:{version} --reason ...`",
            field="gate",
        )
