"""What the standard lifecycle pipeline (:mod:`.lifecycle`) asks of Steward, on the embedded
store or through a Steward server: the same steps, two ways of doing each.

Embedded, every step is a service call acting as the retraining user, and ``steward retrain``
also runs a rollout controller (it competes for the deployment's lease with the serving
processes'). Through a server, every step is the REST call the matching command makes, acting
as the token's user with its roles; the rollout is advanced by the deployment's serving
processes, and ``steward retrain`` watches it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from steward.core.lifecycle import ModelState

if TYPE_CHECKING:
    import pandas as pd

    from steward.evaluation import GateRecord
    from steward.registry import ModelVersion
    from steward.sdk import Client
    from steward.serving import Deployment
    from steward.wiring import Services

__all__ = ["EmbeddedLifecycle", "LifecycleOps", "RemoteLifecycle"]



class Stepper(Protocol):
    def step(self, interval: float) -> object: ...


class LifecycleOps(Protocol):
    """Each step of a lifecycle run, on the embedded store or through a server."""

    require_approval: bool
    rollout_interval: float

    def model_exists(self, name: str) -> None: ...
    def champion(self, name: str) -> int | None: ...
    def get_version(self, name: str, version: int) -> ModelVersion: ...
    def transition(self, name: str, version: int, state: ModelState, comment: str) -> None: ...
    def set_alias(self, name: str, alias: str, version: int) -> None: ...
    def dataset_ref(self, ref: str) -> str: ...
    def load_frame(self, ref: str) -> pd.DataFrame: ...
    def validate(self, ref: str, suite: str) -> tuple[bool, list[str]]: ...
    def gate(self, label: str, data: str, policy: str, target: str) -> GateRecord: ...
    def get_deployment(self, name: str) -> Deployment: ...
    def start_rollout(self, name: str, label: str, policy: str, reason: str) -> Deployment: ...
    def last_reason(self, name: str) -> str: ...
    def controller(self, deployment: str, holder: str) -> AbstractContextManager[Stepper | None]: ...
    def tracking_client(self) -> AbstractContextManager[Client]: ...
    def record_stage(self, model: str, action: str, details: dict[str, object], version: int | None) -> None: ...


class _RegistrySteps:
    """The registry's steps: the same calls on the service and on the SDK's HTTP registry."""

    registry: Any  # Any: RegistryService or the SDK's RegistryBackend, the same methods

    def champion(self, name: str) -> int | None:
        from steward.errors import NotFoundError

        try:
            return int(self.registry.resolve(f"{name}@champion").version)
        except NotFoundError:
            return None

    def model_exists(self, name: str) -> None:
        self.registry.get_model(name)

    def get_version(self, name: str, version: int) -> ModelVersion:
        found: ModelVersion = self.registry.get_version(name, version)
        return found

    def transition(self, name: str, version: int, state: ModelState, comment: str) -> None:
        self.registry.transition(name, version, state, comment=comment)

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self.registry.set_alias(name, alias, version)


class EmbeddedLifecycle(_RegistrySteps):
    """The steps as service calls on the embedded store, acting as ``actor``."""

    def __init__(self, services: Services, actor: str) -> None:
        self.services = services
        self.actor = actor
        self.registry = services.registry(actor)
        self.require_approval = bool(services.settings.require_approval)
        self.rollout_interval = float(services.settings.rollout_interval)

    def dataset_ref(self, ref: str) -> str:
        return self.services.data(self.actor).get(ref).ref

    def load_frame(self, ref: str) -> pd.DataFrame:
        data = self.services.data(self.actor)
        return data.load(data.get(ref)).to_pandas()

    def validate(self, ref: str, suite: str) -> tuple[bool, list[str]]:
        checked = self.services.validation(self.actor).validate_version(ref, suite)
        return bool(checked.passed), [c.name for c in checked.failures]

    def gate(self, label: str, data: str, policy: str, target: str) -> GateRecord:
        return self.services.evaluation(self.actor).gate(label, data, policy, target=target, measure_latency=False)

    def get_deployment(self, name: str) -> Deployment:
        return self.services.deployments(self.actor).get_deployment(name)

    def start_rollout(self, name: str, label: str, policy: str, reason: str) -> Deployment:
        return self.services.deployments(self.actor).start_rollout(name, label, policy, reason=reason)

    def last_reason(self, name: str) -> str:
        last = self.services.deployments(self.actor).list_history(name, max_results=1)
        return str(last[0].reason) if last else ""

    def controller(self, deployment: str, holder: str) -> AbstractContextManager[Stepper | None]:
        from contextlib import contextmanager

        from steward.serving._controller import RolloutController

        @contextmanager
        def running() -> Any:  # Any: the generator contextmanager wraps
            found = RolloutController(self.services, deployment, holder=holder)
            try:
                yield found
            finally:
                found.release()

        return running()

    def tracking_client(self) -> AbstractContextManager[Client]:
        from contextlib import closing

        from steward.sdk import Client

        return closing(Client(self.services.settings.model_copy(update={"user": self.actor})))

    def record_stage(self, model: str, action: str, details: dict[str, object], version: int | None) -> None:
        self.services.stewardship(self.actor).record_stage(model, action, details, version=version)


class RemoteLifecycle(_RegistrySteps):
    """The steps as REST calls to the server ``client`` talks to, as its token's user."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.http: Any = client.backend  # Any: the SDK's HttpBackend
        self.registry = client.registry
        self.require_approval = bool(client.settings.require_approval)
        self.rollout_interval = float(client.settings.rollout_interval)

    def _deployment(self, name: str, suffix: str = "") -> str:
        return f"/deployments/{quote(name, safe='')}{suffix}"

    def dataset_ref(self, ref: str) -> str:
        return str(self.client.data.get(ref).ref)

    def load_frame(self, ref: str) -> pd.DataFrame:
        return self.client.data.load(ref).to_pandas()

    def validate(self, ref: str, suite: str) -> tuple[bool, list[str]]:
        checked = self.client.validation.validate(ref, suite)
        return bool(checked.passed), [c.name for c in checked.failures]

    def gate(self, label: str, data: str, policy: str, target: str) -> GateRecord:
        return self.client.evaluation.gate(label, data, policy, target=target)

    def get_deployment(self, name: str) -> Deployment:
        from steward.serving._ports import deployment_from_dict

        return deployment_from_dict(self.http._call("GET", self._deployment(name)))

    def start_rollout(self, name: str, label: str, policy: str, reason: str) -> Deployment:
        from steward.serving._ports import deployment_from_dict

        body = {"model": label, "policy": policy, "reason": reason}
        return deployment_from_dict(self.http._call("POST", self._deployment(name, "/rollout"), body=body))

    def last_reason(self, name: str) -> str:
        history = self.http._call("GET", self._deployment(name, "/history"), params={"max_results": 1})["history"]
        return str(history[0].get("reason") or "") if history else ""

    def controller(self, deployment: str, holder: str) -> AbstractContextManager[Stepper | None]:
        return nullcontext(None)  # the deployment's serving processes advance the rollout

    def tracking_client(self) -> AbstractContextManager[Client]:
        return nullcontext(self.client)

    def record_stage(self, model: str, action: str, details: dict[str, object], version: int | None) -> None:
        body = {"action": action, "details": details, "version": version}
        self.http._call("POST", f"/models/{quote(model, safe='')}/lifecycle-stages", body=body)
