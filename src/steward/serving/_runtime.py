"""What a serving process does besides answering requests: load versions, follow the
deployment's plan, report per-variant stats, run the rollout controller, own the log.

Everything here runs on background threads; the request path only reads the router.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from steward.core.predictions import PredictionSink
from steward.core.traffic import TrafficPlan
from steward.errors import StewardError
from steward.settings import Settings

from ._metrics import StatsWindow
from ._models import Router, ServedModel, load_served, single_model_plan

if TYPE_CHECKING:
    from steward.features import FeatureLookup
    from steward.serving._deployments import DeploymentService
    from steward.wiring import Services

__all__ = ["Runtime", "ServeTarget"]

log = logging.getLogger("steward.serving")

SERVING_ACTOR = "steward-serving"

Installer = Callable[[TrafficPlan, dict[str, ServedModel]], None]
FeatureSetter = Callable[["FeatureLookup | None"], None]


@dataclass(frozen=True, slots=True)
class ServeTarget:
    """What one ``steward serve`` serves: a model version (``fraud:3``) or a deployment."""

    model: str | None = None
    deployment: str | None = None
    trusted: bool = False


class Runtime:
    """The background side of one serving process.

    Args:
        target: the model reference or deployment name.
        settings: the process's settings.
        services: prebuilt services (tests share them); built from settings otherwise,
            except against a remote registry (models are then downloaded from the server).
    """

    def __init__(self, target: ServeTarget, settings: Settings, services: Services | None = None) -> None:
        self.target = target
        self.settings = settings
        self._own_services = services is None
        self.services = services
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._revision_failed: int | None = None
        self._features: list[str] = []
        self._on_features: FeatureSetter | None = None

    def _services(self) -> Services:
        if self.services is None:
            from steward.wiring import build_services

            self.services = build_services(self.settings)
        return self.services

    def load(self, ref: str) -> ServedModel:
        """Load ``ref`` from the registry (checked: hashes, retired versions refused)."""
        if self.settings.is_remote():
            import steward.models

            return load_served(steward.models.load(ref, settings=self.settings, trusted=self.target.trusted))
        return load_served(self._services().registry(SERVING_ACTOR).load(ref, trusted=self.target.trusted))

    def initial(self) -> tuple[TrafficPlan, dict[str, ServedModel]]:
        """The plan to start with and its loaded versions (blocking; at start-up)."""
        if self.target.deployment is None:
            assert self.target.model is not None
            model = self.load(self.target.model)
            return single_model_plan(model), {model.ref: model}
        plan = self._deployments().get_plan(self.target.deployment)
        return plan, {ref: self.load(ref) for ref in sorted({v.model for v in plan.variants})}

    def feature_lookup(self) -> FeatureLookup | None:
        """The online lookup of the deployment's declared features (None: it declares none).

        Raises:
            NotFoundError: a declared view no longer exists (named).
        """
        deployment = self.target.deployment
        if deployment is None:
            return None
        features = self._deployments().get_features(deployment)
        self._features = features
        if not features:
            return None
        from steward.features import FeatureLookup

        lookup = FeatureLookup(self._services().features(SERVING_ACTOR), features)
        lookup.join_keys()  # reads the views once: a view removed since fails here, not per request
        return lookup

    def refresh_features(self, deployment: str) -> bool:
        """Re-read the declared features; when they changed, hand the new lookup over. True if changed."""
        if self._on_features is None or self._deployments().get_features(deployment) == self._features:
            return False
        self._on_features(self.feature_lookup())
        log.info("deployment %s: now looking up features %s", deployment, ", ".join(self._features) or "(none)")
        return True

    def _deployments(self) -> DeploymentService:
        return self._services().deployments(SERVING_ACTOR)

    def sink(self) -> PredictionSink | None:
        """The prediction log of this process, when the store has one."""
        if self.settings.is_remote():
            return None
        services = self._services()
        make = getattr(services, "prediction_log", None)
        return make() if make is not None else None

    def start(self, install: Installer, window: StatsWindow, router: Router, on_features: FeatureSetter | None = None) -> None:
        """Follow the deployment (its plan and declared features), report its stats and run
        its controller (deployments only)."""
        deployment = self.target.deployment
        if deployment is None:
            return
        self._on_features = on_features
        self._spawn(f"plan-{deployment}", lambda: self._follow(deployment, install, router))
        self._spawn(f"stats-{deployment}", lambda: self._report(window))
        from steward.serving import _controller

        services = self._services()
        self._spawn(f"controller-{deployment}", lambda: _controller.run_controller(services, deployment, self._stop))

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _follow(self, deployment: str, install: Installer, router: Router) -> None:
        while not self._stop.wait(self.settings.serve_plan_interval):
            try:
                self.follow_once(deployment, install, router)
                self.refresh_features(deployment)
            except StewardError as exc:
                log.warning("deployment %s: cannot read the plan: %s", deployment, exc.message)
            except Exception:
                log.exception("deployment %s: following the plan failed", deployment)

    def follow_once(self, deployment: str, install: Installer, router: Router) -> bool:
        """Read the plan; when it changed, load its new versions, then switch. True if switched."""
        plan = self._deployments().get_plan(deployment)
        current = router.plan
        if current is not None and plan.revision == current.revision:
            return False
        if plan.revision == self._revision_failed:
            return False
        loaded: dict[str, ServedModel] = {}
        for ref in router.needed(plan):
            try:
                loaded[ref] = self.load(ref)
            except Exception as exc:  # noqa: BLE001 - stay on the current plan and say why
                why = exc.message if isinstance(exc, StewardError) else f"{type(exc).__name__}: {exc}"
                log.error("deployment %s: revision %d not applied: %s cannot be loaded: %s", deployment, plan.revision, ref, why)
                self._revision_failed = plan.revision
                return False
        install(plan, loaded)
        log.info("deployment %s: now serving revision %d", deployment, plan.revision)
        return True

    def _report(self, window: StatsWindow) -> None:
        while not self._stop.wait(self.settings.serve_stats_interval):
            self.report_once(window)

    def report_once(self, window: StatsWindow) -> None:
        stats = window.take()
        if not stats:
            return
        try:
            self._deployments().record_stats(stats)
        except StewardError as exc:
            log.warning("deployment %s: stats not recorded: %s", window.deployment, exc.message)

    def stop(self) -> None:
        """Stop the threads, flush the prediction log, close the store (graceful stop)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        if self.services is not None and self._own_services:
            self.services.close()  # closes (flushes) the prediction log first
