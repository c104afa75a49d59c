"""Model stewardship: every registered model's owner and on-call contact, retirement by a
retention policy, rollback drills on live deployments, and the standard lifecycle pipeline
(``steward retrain``) in :mod:`steward.stewardship.lifecycle`."""

from __future__ import annotations

from ._drill import DrillOps, run_drill
from ._service import RETENTION_POLICIES, StewardshipService
from ._types import Drill, ModelSteward, Retirement

__all__ = ["RETENTION_POLICIES", "Drill", "DrillOps", "ModelSteward", "Retirement", "StewardshipService", "run_drill"]
