"""Tables of triggers: definitions, one row per pipeline start, runner leases.

Created by migration ``0021_triggers``; keep the two in step (the schema-drift test
compares them). A start is unique per (trigger, event key): a cron tick, a dataset version,
an alert firing or a registry event starts one pipeline, however many runners saw it.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, String, Table, Text, UniqueConstraint

from ._tables import _BigId, metadata

__all__ = ["trigger_leases", "trigger_starts", "triggers"]

triggers = Table(
    "triggers",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("project", String(250), nullable=False),
    Column("kind", String(20), nullable=False),  # cron | dataset | alert | registry
    Column("source", JSON, nullable=False),  # schedule / dataset / alert / model and events
    Column("pipeline", JSON, nullable=False),  # file, name, params, input parameter
    Column("cursor", JSON, nullable=False),  # what the trigger has already seen
    Column("next_fire_at", BigInteger, nullable=True),  # cron only
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    Index("ix_triggers_project", "project"),
)

trigger_starts = Table(
    "trigger_starts",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("trigger", String(63), nullable=False),
    Column("event_key", String(300), nullable=False),
    Column("event", JSON, nullable=False),
    Column("params", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # started | running | finished | failed
    Column("run_id", String(32), nullable=True),
    Column("error", Text, nullable=True),
    Column("started_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Column("started_by", String(250), nullable=False),
    UniqueConstraint("trigger", "event_key", name="uq_trigger_starts_trigger"),
    Index("ix_trigger_starts_trigger_id", "trigger", "id"),
)

trigger_leases = Table(
    "trigger_leases",
    metadata,
    Column("trigger", String(63), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("acquired_at", BigInteger, nullable=False),
)
