"""The rollout controller: one per deployment, however many serving processes run it.

Every serving worker or replica may call :func:`run_controller`; they compete for the
deployment's lease row in the metadata store (holder id and expiry, renewed each look),
and only the holder ticks the rollout. A holder that dies stops renewing, and another
takes over once the lease expires (three intervals). Each change the holder applies is
checked against the lease and the plan revision in the same transaction, so even a
holder that lost its lease without noticing cannot act twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import TYPE_CHECKING

from steward.core.rollout import Decision
from steward.errors import StewardError
from steward.tracking import now_ms

if TYPE_CHECKING:
    from steward.wiring import Services

__all__ = ["CONTROLLER_ACTOR", "RolloutController", "run_controller"]

log = logging.getLogger("steward.serving.controller")

CONTROLLER_ACTOR = "steward-controller"  # who the history and the audit trail name for automatic changes
_LEASE_INTERVALS = 3


class RolloutController:
    """Looks after one deployment's rollout while it holds the lease.

    Args:
        services: the process's services.
        deployment: the deployment's name.
        holder: this controller's id in the lease row (default host:pid:random).
    """

    def __init__(self, services: Services, deployment: str, holder: str | None = None) -> None:
        self.services = services
        self.deployment = deployment
        self.holder = holder or f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.holding = False

    def interval(self) -> float:
        """Seconds until the next look: the running rollout's policy interval, else the setting."""
        fallback = float(self.services.settings.rollout_interval)
        try:
            rollout = self.services.deployments(CONTROLLER_ACTOR).get_deployment(self.deployment).rollout
        except StewardError:
            return fallback
        if rollout and rollout.get("state") == "running" and rollout.get("interval_s"):
            return min(fallback, float(rollout["interval_s"]))
        return fallback

    def step(self, interval: float) -> Decision | None:
        """Renew or take the lease; when held, tick the rollout once.

        Returns:
            The decision taken (None: not the holder, or no rollout running).
        """
        service = self.services.deployments(CONTROLLER_ACTOR)
        store = service.store
        ttl_ms = int(max(interval * _LEASE_INTERVALS, 1.0) * 1000)
        self.holding = store.acquire_lease(self.deployment, self.holder, now_ms(), ttl_ms)
        if not self.holding:
            return None
        decision = service.tick_rollout(self.deployment, self.holder)
        if decision is not None and decision.action.value != "hold":
            log.info("deployment %s: %s", self.deployment, decision.reason)
        return decision

    def release(self) -> None:
        """Give the lease up (a graceful stop), so another replica takes over at once."""
        if self.holding:
            try:
                self.services.deployments(CONTROLLER_ACTOR).store.release_lease(self.deployment, self.holder)
            except StewardError as exc:
                log.warning("deployment %s: could not release the controller lease: %s", self.deployment, exc.message)
            self.holding = False


def run_controller(services: Services, deployment: str, stop: threading.Event) -> None:
    """Run the rollout controller of ``deployment`` until ``stop`` is set.

    Any number of serving workers or replicas may call this at once: exactly one holds
    the deployment's lease at a time and acts; the others wait to take over. The holder
    looks every ``STEWARD_ROLLOUT_INTERVAL`` seconds (or the policy's ``interval``) and
    advances, promotes or rolls back, recording the evidence. Store errors are logged and
    retried at the next look; the function returns only when ``stop`` is set.

    Example:
        >>> stop = threading.Event()  # doctest: +SKIP
        >>> threading.Thread(target=run_controller, args=(services, "fraud-api", stop), daemon=True).start()  # doctest: +SKIP
    """
    controller = RolloutController(services, deployment)
    try:
        while not stop.is_set():
            interval = controller.interval()
            try:
                controller.step(interval)
            except StewardError as exc:  # the store is down or the plan changed meanwhile: look again next time
                log.warning("deployment %s: controller look failed: %s", deployment, exc.message)
            stop.wait(interval)
    finally:
        controller.release()
