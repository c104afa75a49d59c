"""Governance: identity (users, API tokens), roles per project, authorisation, policies.

The permission table itself is pure and lives in :mod:`steward.core.permissions`.
"""

from __future__ import annotations

from ._audit_chain import (
    AuditChainService,
    AuditChainStore,
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

__all__ = [
    "MASK",
    "TOKEN_PREFIX",
    "AuditChainService",
    "AuditChainStore",
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
