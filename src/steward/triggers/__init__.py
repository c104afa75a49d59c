"""Triggers: a cron schedule, a new dataset version, an alert firing or a registry event
starts a pipeline with the event's input; one start per event, each audited."""

from __future__ import annotations

from ._ports import KINDS, LaunchOutcome, Trigger, TriggerStart
from ._service import REGISTRY_EVENTS, TriggerService, next_tick, parse_cron

__all__ = ["KINDS", "REGISTRY_EVENTS", "LaunchOutcome", "Trigger", "TriggerService", "TriggerStart", "next_tick", "parse_cron"]
