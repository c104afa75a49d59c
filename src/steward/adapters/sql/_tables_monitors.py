"""Tables of the monitors: definitions, one result row per computed window, runner leases.

Created by migration ``0012_monitors``; keep the two in step (the schema-drift test
compares them). A monitor names its deployment without a foreign key (a deleted
deployment's monitor still shows its history) and copies the deployment's project, which
every permission check of the monitor uses.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table, Text

from ._tables import _BigId, metadata

__all__ = ["monitor_leases", "monitor_results", "monitors"]

monitors = Table(
    "monitors",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("deployment", String(63), nullable=False),
    Column("project", String(250), nullable=False),
    Column("reference", String(500), nullable=False),  # a dataset version ref or "<start ms>/<end ms>"
    Column("window_s", Integer, nullable=False),
    Column("schedule", String(200), nullable=True),  # 5-field cron; None: on demand only
    Column("options", JSON, nullable=False),  # sensitive attributes, min rows, sensitivity
    Column("next_run_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    Index("ix_monitors_next_run_at", "next_run_at"),
)

monitor_results = Table(
    "monitor_results",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("monitor", String(63), nullable=False),
    Column("window_start", BigInteger, nullable=False),
    Column("window_end", BigInteger, nullable=False),
    Column("status", String(30), nullable=False),  # ok | drift | concept_drift | insufficient_data | failed
    Column("summary", JSON, nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    Index("ix_monitor_results_monitor_window_end", "monitor", "window_end"),
)

monitor_leases = Table(
    "monitor_leases",
    metadata,
    Column("monitor", String(63), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("acquired_at", BigInteger, nullable=False),
)
