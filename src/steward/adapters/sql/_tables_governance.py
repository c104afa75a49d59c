"""Tables of governance: users, API tokens and role bindings.

Created by migration ``0004_governance``; keep the two in step (a test compares them).
Token secrets and passwords are never stored, only their hashes.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, ForeignKey, Index, String, Table

from ._tables import metadata

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("email", String(320), nullable=False),
    # argon2id encoded hash (parameters and salt included); NULL: token-only user
    Column("password_hash", String(255), nullable=True),
    Column("is_admin", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("user_name", String(64), ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
    Column("label", String(100), nullable=False),
    # first characters of the token, shown in listings so people recognise their tokens
    Column("prefix", String(16), nullable=False),
    # sha256 hex of the whole token; unique so a presented token finds its row by index
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=True),
    Column("last_used_at", BigInteger, nullable=True),
    Column("revoked", Boolean, nullable=False),
    Index("ix_api_tokens_secret_hash", "secret_hash", unique=True),
    Index("ix_api_tokens_user_name", "user_name"),
)

role_bindings = Table(
    "role_bindings",
    metadata,
    Column("user_name", String(64), ForeignKey("users.name", ondelete="CASCADE"), primary_key=True),
    # an experiment or model name, or "*" for every project
    Column("project", String(250), primary_key=True),
    Column("role", String(20), primary_key=True),
    Column("created_by", String(250), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
