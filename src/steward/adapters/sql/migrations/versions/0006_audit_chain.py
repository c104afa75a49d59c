"""Hash-chain the audit trail (prev_hash, hash; existing entries are chained in order)
and add the table of encrypted secrets.

Revision ID: 0006_audit_chain
Revises: 0005_validation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from steward.core.audit_chain import GENESIS_HASH, canonical_details, entry_hash

revision = "0006_audit_chain"
down_revision = "0005_validation"
branch_labels = None
depends_on = None

_audit = sa.table(
    "audit_log",
    sa.column("entry_id", sa.BigInteger()),
    sa.column("timestamp", sa.BigInteger()),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("target", sa.String()),
    sa.column("details", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def _chain_existing_entries() -> None:
    conn = op.get_bind()
    prev = GENESIS_HASH
    rows = conn.execute(sa.select(_audit).order_by(_audit.c.entry_id)).all()
    for row in rows:
        details = canonical_details(row.details or {})
        digest = entry_hash(
            entry_id=row.entry_id, timestamp=row.timestamp, actor=row.actor, action=row.action,
            target=row.target, details=details, prev_hash=prev,
        )
        conn.execute(
            sa.update(_audit).where(_audit.c.entry_id == row.entry_id).values(prev_hash=prev, hash=digest, details=details)
        )
        prev = digest


def upgrade() -> None:
    # nullable first, chained, then NOT NULL: batch mode rebuilds the table on SQLite
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    _chain_existing_entries()
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)
    op.create_table(
        "secrets",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(250), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_secrets"),
    )


def downgrade() -> None:
    op.drop_table("secrets")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
