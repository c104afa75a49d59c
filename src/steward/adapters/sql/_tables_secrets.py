"""The table of encrypted secrets. Created by migration ``0006_audit_chain``.

Only ciphertext is stored: AES-256-GCM under the master key, which never reaches the
database (see :mod:`steward.governance._master_key`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, String, Table

from ._tables import metadata

secrets = Table(
    "secrets",
    metadata,
    Column("name", String(128), primary_key=True),
    # 12-byte nonce followed by the AES-GCM ciphertext and tag; the name is the associated
    # data, so a ciphertext copied onto another name does not decrypt
    Column("ciphertext", LargeBinary, nullable=False),
    # which master key encrypted it (first 16 hex of its SHA-256): names the key on a mismatch
    Column("key_id", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(250), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(250), nullable=False),
)
