"""SQL storage of the features each deployment's requests are completed with (``deployment_features``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select

from steward.tracking import AuditEvent

from ._audit import append_audit
from ._store import SqlStore
from ._tables_serving_features import deployment_features

__all__ = ["SqlDeploymentFeatureStore"]

_F = deployment_features.c


class SqlDeploymentFeatureStore:
    """Per deployment, the ``view:feature`` references looked up at serving time."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def get_features(self, deployment: str) -> list[str]:
        """The declared features (empty: the deployment looks nothing up)."""
        with self._store.read() as conn:
            found = conn.execute(select(_F.features).where(_F.deployment == deployment)).scalar()
        return [str(f) for f in found] if found else []

    def features_of(self, deployments: Sequence[str]) -> dict[str, list[str]]:
        """The declared features of several deployments in one query (those without: absent)."""
        if not deployments:
            return {}
        with self._store.read() as conn:
            found = conn.execute(select(_F.deployment, _F.features).where(_F.deployment.in_(sorted(set(deployments)))))
            return {str(r.deployment): [str(f) for f in r.features] for r in found if r.features}

    def set_features(self, deployment: str, features: Sequence[str], now: int, actor: str, audit: AuditEvent | None) -> None:
        """Replace the declaration (an empty one removes it), audited in the same transaction."""
        with self._store.write() as conn:
            conn.execute(delete(deployment_features).where(_F.deployment == deployment))
            if features:
                conn.execute(insert(deployment_features).values(
                    deployment=deployment, features=list(features), updated_at=now, updated_by=actor,
                ))
            if audit is not None:
                append_audit(conn, audit)
