"""Governance: identity (users, API tokens), roles per project, authorisation, policies.

The permission table itself is pure and lives in :mod:`steward.core.permissions`.
"""

from __future__ import annotations

from ._codec import binding_to_dict, principal_to_dict, token_to_dict, user_to_dict
from ._credentials import TOKEN_PREFIX, hash_password, hash_token, verify_password
from ._policy import check_separation_of_duties
from ._ports import GovernanceStore
from ._service import GovernanceService, check_project, check_user_name
from ._types import NewToken, Principal, RoleBinding, Token, User

__all__ = [
    "TOKEN_PREFIX",
    "GovernanceService",
    "GovernanceStore",
    "NewToken",
    "Principal",
    "RoleBinding",
    "Token",
    "User",
    "binding_to_dict",
    "check_project",
    "check_separation_of_duties",
    "check_user_name",
    "hash_password",
    "hash_token",
    "principal_to_dict",
    "token_to_dict",
    "user_to_dict",
    "verify_password",
]
