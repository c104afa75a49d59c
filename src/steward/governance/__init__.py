"""Governance: identity (users, API tokens), roles per project, authorisation, policies.

The permission table itself is pure and lives in :mod:`steward.core.permissions`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._audit_chain import (
        AuditChainService,
        AuditChainStore,
        AuditPage,
        AuditQuery,
        ChainBreak,
        ChainEntry,
        ChainReport,
        verify_chain,
    )
    from ._audit_checkpoints import Checkpoint, CheckpointStore
    from ._codec import binding_to_dict, principal_to_dict, token_to_dict, user_to_dict
    from ._credentials import TOKEN_PREFIX, hash_password, hash_token, verify_password
    from ._master_key import MasterKey, find_master_key, generate_master_key, load_master_key
    from ._policy import check_separation_of_duties
    from ._ports import GovernanceStore
    from ._redaction import (
        MASK,
        Redactor,
        SecretRedactionFilter,
        SecretSource,
        SecretValueGuard,
        encoded_forms,
        install_redaction,
    )
    from ._secrets import (
        SecretInfo,
        SecretRecord,
        SecretsService,
        SecretsStore,
        StoredSecrets,
        check_secret_name,
    )
    from ._service import GovernanceService, check_project, check_user_name
    from ._types import NewToken, Principal, RoleBinding, Token, User

# Each name is imported from its module on first use (PEP 562): `steward.governance._redaction`,
# which every process's services use, must not load the rest of the stage (secrets pull in
# cryptography, the service argon2's settings, the audit chain its codecs) at start-up.
_WHERE = {
    "AuditChainService": "._audit_chain",
    "AuditChainStore": "._audit_chain",
    "AuditPage": "._audit_chain",
    "AuditQuery": "._audit_chain",
    "ChainBreak": "._audit_chain",
    "ChainEntry": "._audit_chain",
    "ChainReport": "._audit_chain",
    "verify_chain": "._audit_chain",
    "Checkpoint": "._audit_checkpoints",
    "CheckpointStore": "._audit_checkpoints",
    "binding_to_dict": "._codec",
    "principal_to_dict": "._codec",
    "token_to_dict": "._codec",
    "user_to_dict": "._codec",
    "TOKEN_PREFIX": "._credentials",
    "hash_password": "._credentials",
    "hash_token": "._credentials",
    "verify_password": "._credentials",
    "MasterKey": "._master_key",
    "find_master_key": "._master_key",
    "generate_master_key": "._master_key",
    "load_master_key": "._master_key",
    "check_separation_of_duties": "._policy",
    "GovernanceStore": "._ports",
    "MASK": "._redaction",
    "Redactor": "._redaction",
    "SecretRedactionFilter": "._redaction",
    "SecretSource": "._redaction",
    "SecretValueGuard": "._redaction",
    "encoded_forms": "._redaction",
    "install_redaction": "._redaction",
    "SecretInfo": "._secrets",
    "SecretRecord": "._secrets",
    "SecretsService": "._secrets",
    "SecretsStore": "._secrets",
    "StoredSecrets": "._secrets",
    "check_secret_name": "._secrets",
    "GovernanceService": "._service",
    "check_project": "._service",
    "check_user_name": "._service",
    "NewToken": "._types",
    "Principal": "._types",
    "RoleBinding": "._types",
    "Token": "._types",
    "User": "._types",
}


def __getattr__(name: str) -> Any:  # Any: whichever object the name stands for
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "MASK",
    "TOKEN_PREFIX",
    "AuditChainService",
    "AuditChainStore",
    "AuditPage",
    "AuditQuery",
    "ChainBreak",
    "ChainEntry",
    "ChainReport",
    "Checkpoint",
    "CheckpointStore",
    "GovernanceService",
    "GovernanceStore",
    "MasterKey",
    "NewToken",
    "Principal",
    "Redactor",
    "RoleBinding",
    "SecretInfo",
    "SecretRecord",
    "SecretRedactionFilter",
    "SecretSource",
    "SecretValueGuard",
    "SecretsService",
    "SecretsStore",
    "StoredSecrets",
    "Token",
    "User",
    "binding_to_dict",
    "check_project",
    "check_secret_name",
    "check_separation_of_duties",
    "check_user_name",
    "encoded_forms",
    "find_master_key",
    "generate_master_key",
    "hash_password",
    "hash_token",
    "install_redaction",
    "load_master_key",
    "principal_to_dict",
    "token_to_dict",
    "user_to_dict",
    "verify_chain",
    "verify_password",
]
