"""MLflow's model stages (``None``, ``Staging``, ``Production``, ``Archived``) on Steward's
lifecycle states.

Shown to MLflow clients::

    candidate  -> None          approved  -> Staging       production -> Production
    deprecated -> Archived      retired   -> Archived

Asked for by MLflow clients (``transition-stage``), each a walk along Steward's own
transition table, so its rules (approval before production, gates) still hold:

    Staging     approved (from candidate)
    Production  production (from candidate through approved; from approved; from
                deprecated: a roll back)
    Archived    deprecated (from approved or production); retired from candidate (the
                only way out of candidate besides approval)
    None        nothing to do for a candidate; no other state goes back to candidate

A transition Steward's table refuses is a conflict naming the states allowed.
"""

from __future__ import annotations

from steward.core.lifecycle import ModelState
from steward.errors import ConflictError, InvalidInputError

__all__ = ["MLFLOW_STAGES", "mlflow_stage", "parse_stage", "stage_path", "states_of_stage"]

MLFLOW_STAGES = ("None", "Staging", "Production", "Archived")

_SHOWN = {
    ModelState.CANDIDATE: "None",
    ModelState.APPROVED: "Staging",
    ModelState.PRODUCTION: "Production",
    ModelState.DEPRECATED: "Archived",
    ModelState.RETIRED: "Archived",
}
S = ModelState
_PATHS: dict[tuple[ModelState, str], tuple[ModelState, ...]] = {
    (S.CANDIDATE, "None"): (),
    (S.CANDIDATE, "Staging"): (S.APPROVED,),
    (S.CANDIDATE, "Production"): (S.APPROVED, S.PRODUCTION),
    (S.CANDIDATE, "Archived"): (S.RETIRED,),
    (S.APPROVED, "Staging"): (),
    (S.APPROVED, "Production"): (S.PRODUCTION,),
    (S.APPROVED, "Archived"): (S.DEPRECATED,),
    (S.PRODUCTION, "Production"): (),
    (S.PRODUCTION, "Archived"): (S.DEPRECATED,),
    (S.DEPRECATED, "Production"): (S.PRODUCTION,),
    (S.DEPRECATED, "Archived"): (),
    (S.RETIRED, "Archived"): (),
}


def mlflow_stage(state: ModelState) -> str:
    """The MLflow stage a Steward state is shown as."""
    return _SHOWN[state]


def parse_stage(value: object, *, field: str = "stage") -> str:
    """MLflow's stage name in its canonical spelling (MLflow accepts any case).

    Raises:
        InvalidInputError: not one of MLflow's four stages.
    """
    if isinstance(value, str):
        for stage in MLFLOW_STAGES:
            if value.strip().lower() == stage.lower():
                return stage
    raise InvalidInputError(f"stage must be one of {', '.join(MLFLOW_STAGES)}", field=field)


def states_of_stage(stage: str) -> tuple[ModelState, ...]:
    """The Steward states shown as ``stage``."""
    return tuple(s for s, shown in _SHOWN.items() if shown == stage)


def stage_path(current: ModelState, stage: str) -> tuple[ModelState, ...]:
    """The Steward states to move through, in order, to show ``stage`` (empty: already there).

    Raises:
        ConflictError: Steward's lifecycle cannot get there from ``current``.
    """
    found = _PATHS.get((current, stage))
    if found is None:
        reachable = sorted({s for (c, s) in _PATHS if c is current}, key=MLFLOW_STAGES.index)
        raise ConflictError(
            f"a {current.value} version (MLflow stage {_SHOWN[current]}) cannot move to {stage} in Steward's "
            f"lifecycle; from here: {', '.join(reachable)}",
            field="stage",
        )
    return found
