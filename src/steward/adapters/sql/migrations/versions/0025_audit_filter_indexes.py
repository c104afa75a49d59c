"""Audit trail: indexes for the listing's actor and action filters, and the target
prefix index usable by LIKE on PostgreSQL.

``GET /api/v1/audit``, ``steward audit list`` and the UI's audit page filter by actor
(equality) and action or target (prefix) and page by entry id. ``(actor, entry_id)``
answers an actor's page in order; ``(action, entry_id)`` finds the entries of an action
prefix without reading the whole trail. On PostgreSQL both prefix indexes use
``varchar_pattern_ops``: a default btree serves LIKE only under the C collation, so the
target index of 0001 (used by the timeline's equality tests, which the operator class
also serves) is rebuilt with it. SQLite compares bytewise already.

Revision ID: 0025_audit_filter_indexes
Revises: 0024_runs_start_index
"""

from __future__ import annotations

from alembic import op

revision = "0025_audit_filter_indexes"
down_revision = "0024_runs_start_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_actor", "audit_log", ["actor", "entry_id"])
    op.create_index("ix_audit_log_action", "audit_log", ["action", "entry_id"], postgresql_ops={"action": "varchar_pattern_ops"})
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_audit_log_target", table_name="audit_log")
        op.create_index("ix_audit_log_target", "audit_log", ["target"], postgresql_ops={"target": "varchar_pattern_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_audit_log_target", table_name="audit_log")
        op.create_index("ix_audit_log_target", "audit_log", ["target"])
    op.drop_index("ix_audit_log_action", table_name="audit_log")
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
