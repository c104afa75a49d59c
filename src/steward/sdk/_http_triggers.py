"""Triggers through the server's REST API, with the same results and errors as
:class:`~steward.triggers.TriggerService` (which the embedded client uses)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import quote

from steward.triggers._ports import Trigger, TriggerStart

from ._http import HttpBackend

__all__ = ["HttpTriggers", "TriggersBackend", "start_from_dict", "trigger_from_dict"]


class TriggersBackend(Protocol):
    """Where triggers live: the embedded service or the server."""

    def create_trigger(
        self, name: str, kind: str, pipeline: str, *, pipeline_name: str | None = None,
        params: Mapping[str, object] | None = None, input_param: str | None = "", schedule: str | None = None,
        timezone: str = "UTC", dataset: str | None = None, alert: str | None = None, model: str | None = None,
        events: Sequence[str] | None = None, project: str | None = None, monitor: str | None = None,
    ) -> Trigger: ...

    def get_trigger(self, name: str) -> Trigger: ...

    def list_triggers(self, project: str | None = None) -> list[Trigger]: ...

    def delete_trigger(self, name: str) -> None: ...

    def history(self, name: str, max_results: int = 50) -> list[TriggerStart]: ...

    def fire(self, name: str, *, params: Mapping[str, object] | None = None) -> TriggerStart: ...

    def run_due(self) -> list[TriggerStart]: ...


def trigger_from_dict(doc: Mapping[str, Any]) -> Trigger:  # Any: JSON
    """The :class:`Trigger` a server sent (the inverse of ``Trigger.to_dict``)."""
    nxt = doc.get("next_fire_at")
    return Trigger(
        str(doc["name"]), str(doc["project"]), str(doc["kind"]), dict(doc.get("source") or {}), dict(doc.get("pipeline") or {}),
        dict(doc.get("cursor") or {}), None if nxt is None else int(nxt), int(doc["created_at"]), str(doc["created_by"]),
    )


def start_from_dict(doc: Mapping[str, Any]) -> TriggerStart:  # Any: JSON
    """The :class:`TriggerStart` a server sent (the inverse of ``TriggerStart.to_dict``)."""
    fin = doc.get("finished_at")
    return TriggerStart(
        int(doc["id"]), str(doc["trigger"]), str(doc["event_key"]), dict(doc.get("event") or {}), dict(doc.get("params") or {}),
        str(doc["status"]), doc.get("run_id"), doc.get("error"), int(doc["started_at"]), None if fin is None else int(fin),
        str(doc.get("started_by") or ""),
    )


class HttpTriggers:
    """:class:`TriggersBackend` over a server.

    Example:
        >>> Client().triggers.fire("nightly").status  # doctest: +SKIP
        'finished'
    """

    def __init__(self, http: HttpBackend) -> None:
        self.http = http

    @staticmethod
    def _path(name: str, suffix: str = "") -> str:
        return f"/triggers/{quote(name, safe='')}{suffix}"

    def create_trigger(
        self, name: str, kind: str, pipeline: str, *, pipeline_name: str | None = None,
        params: Mapping[str, object] | None = None, input_param: str | None = "", schedule: str | None = None,
        timezone: str = "UTC", dataset: str | None = None, alert: str | None = None, model: str | None = None,
        events: Sequence[str] | None = None, project: str | None = None, monitor: str | None = None,
    ) -> Trigger:
        body: dict[str, object] = {
            "name": name, "kind": kind, "pipeline": pipeline, "params": dict(params or {}), "input": input_param,
            "timezone": timezone,
        }
        for key, value in (("pipeline_name", pipeline_name), ("schedule", schedule), ("dataset", dataset), ("alert", alert),
                           ("model", model), ("project", project), ("monitor", monitor)):
            if value is not None:
                body[key] = value
        if events is not None:
            body["events"] = list(events)
        return trigger_from_dict(self.http._call("POST", "/triggers", body=body))

    def get_trigger(self, name: str) -> Trigger:
        return trigger_from_dict(self.http._call("GET", self._path(name)))

    def list_triggers(self, project: str | None = None) -> list[Trigger]:
        params = {"project": project} if project is not None else None
        return [trigger_from_dict(t) for t in self.http._call("GET", "/triggers", params=params)["triggers"]]

    def delete_trigger(self, name: str) -> None:
        self.http._call("DELETE", self._path(name))

    def history(self, name: str, max_results: int = 50) -> list[TriggerStart]:
        doc = self.http._call("GET", self._path(name, "/history"), params={"max_results": max_results})
        return [start_from_dict(s) for s in doc["starts"]]

    def fire(self, name: str, *, params: Mapping[str, object] | None = None) -> TriggerStart:
        return start_from_dict(self.http._call("POST", self._path(name, "/fire"), body={"params": dict(params or {})}))

    def run_due(self) -> list[TriggerStart]:
        return [start_from_dict(s) for s in self.http._call("POST", "/triggers/tick")["starts"]]
