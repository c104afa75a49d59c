"""Webhooks through the server's REST API, with the same results and errors as
:class:`~steward.webhooks.WebhookService` (which the embedded client uses)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol
from urllib.parse import quote

from steward.webhooks import Attempt, Delivery, DeliveryRound, Webhook

from ._http import HttpBackend

__all__ = ["HttpWebhooks", "WebhooksBackend", "delivery_from_dict", "webhook_from_dict"]

JSON = dict[str, Any]  # Any: JSON values


class WebhooksBackend(Protocol):
    """Where webhooks are managed and delivered: the embedded service or the server."""

    def create_webhook(
        self, name: str, url: str, *, project: str, events: Iterable[str], secret: str, max_attempts: int = 5
    ) -> Webhook: ...
    def list_webhooks(self, *, project: str | None = None, projects: frozenset[str] | None = None) -> list[Webhook]: ...
    def get_webhook(self, name: str) -> Webhook: ...
    def delete_webhook(self, name: str) -> None: ...
    def list_deliveries(self, name: str, *, status: str | None = None, max_results: int = 100) -> list[Delivery]: ...
    def redeliver(self, name: str, delivery_id: str) -> Delivery: ...
    def test_webhook(self, name: str) -> Delivery: ...
    def deliver(self, *, now: int | None = None, max_deliveries: int = 100) -> DeliveryRound: ...


def webhook_from_dict(d: JSON) -> Webhook:
    """The :class:`Webhook` a server sent (the inverse of ``Webhook.to_dict``)."""
    return Webhook(
        str(d["name"]), str(d["project"]), str(d["url"]), tuple(str(e) for e in d["events"]), int(d["max_attempts"]),
        int(d["since_entry"]), int(d["created_at"]), str(d["created_by"]),
    )


def delivery_from_dict(d: JSON) -> Delivery:
    """The :class:`Delivery` a server sent (the inverse of ``Delivery.to_dict``)."""
    import json

    log = tuple(
        Attempt(int(a["attempt"]), int(a["started_at"]), int(a["duration_ms"]), a.get("status_code"), a.get("error"))
        for a in d.get("log", [])
    )
    return Delivery(
        str(d["delivery_id"]), str(d["webhook"]), str(d["event"]), d.get("entry_id"),
        json.dumps(d["payload"], sort_keys=True, separators=(",", ":")), str(d["status"]), int(d["attempts"]),
        int(d["remaining"]), int(d["next_attempt_at"]), d.get("last_status_code"), d.get("last_error"),
        int(d["created_at"]), int(d["updated_at"]), log,
    )


class HttpWebhooks:
    """:class:`WebhooksBackend` over a server.

    Example:
        >>> Client().webhooks.list_deliveries("ci")[0].status  # doctest: +SKIP
        'succeeded'
    """

    def __init__(self, http: HttpBackend) -> None:
        self._http = http

    def _path(self, name: str, suffix: str = "") -> str:
        return f"/webhooks/{quote(name, safe='')}{suffix}"

    def create_webhook(
        self, name: str, url: str, *, project: str, events: Iterable[str], secret: str, max_attempts: int = 5
    ) -> Webhook:
        body = {"name": name, "url": url, "project": project, "events": list(events), "secret": secret, "max_attempts": max_attempts}
        return webhook_from_dict(self._http._call("POST", "/webhooks", body=body))

    def list_webhooks(self, *, project: str | None = None, projects: frozenset[str] | None = None) -> list[Webhook]:
        # ``projects`` is the server's to decide (the caller's readable projects): not sent
        params = {"project": project} if project else None
        return [webhook_from_dict(w) for w in self._http._call("GET", "/webhooks", params=params)["webhooks"]]

    def get_webhook(self, name: str) -> Webhook:
        return webhook_from_dict(self._http._call("GET", self._path(name)))

    def delete_webhook(self, name: str) -> None:
        self._http._call("DELETE", self._path(name))

    def list_deliveries(self, name: str, *, status: str | None = None, max_results: int = 100) -> list[Delivery]:
        params: JSON = {"max_results": max_results, **({"status": status} if status else {})}
        return [delivery_from_dict(d) for d in self._http._call("GET", self._path(name, "/deliveries"), params=params)["deliveries"]]

    def redeliver(self, name: str, delivery_id: str) -> Delivery:
        path = self._path(name, f"/deliveries/{quote(delivery_id, safe='')}/redeliver")
        return delivery_from_dict(self._http._call("POST", path))

    def test_webhook(self, name: str) -> Delivery:
        return delivery_from_dict(self._http._call("POST", self._path(name, "/test")))

    def deliver(self, *, now: int | None = None, max_deliveries: int = 100) -> DeliveryRound:
        # the server's own clock and batch size: a client cannot move them
        d = self._http._call("POST", "/webhook-deliveries/run")
        return DeliveryRound(bool(d["leased"]), int(d["enqueued"]), int(d["attempted"]), int(d["succeeded"]), int(d["failed"]), int(d["pending"]))
