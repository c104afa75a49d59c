"""Webhooks: registry and deployment events POSTed, signed and retried, with a delivery log.

See :mod:`steward.webhooks._service` for the delivery contract and ``docs/webhooks.md``.
"""

from __future__ import annotations

from ._events import EVENTS, PING, Occurrence, event_of
from ._ports import Attempt, Delivery, NewDelivery, NewWebhook, Webhook, WebhookStore
from ._service import (
    SIGNATURE_HEADER,
    DeliveryRound,
    WebhookService,
    check_events,
    check_url,
    check_webhook_name,
    sign,
)

__all__ = [
    "EVENTS",
    "PING",
    "SIGNATURE_HEADER",
    "Attempt",
    "Delivery",
    "DeliveryRound",
    "NewDelivery",
    "NewWebhook",
    "Occurrence",
    "Webhook",
    "WebhookService",
    "WebhookStore",
    "check_events",
    "check_url",
    "check_webhook_name",
    "event_of",
    "sign",
]
