"""Model references: ``models:/fraud/3``, ``models:/fraud@champion``, ``fraud:3``,
``fraud@champion``, ``fraud/production`` (the version in that state)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from steward.core.lifecycle import ModelState
from steward.core.names import check_name
from steward.errors import InvalidInputError

__all__ = ["ModelRef", "check_alias", "check_model_name", "parse_ref"]

# Case is kept as given (MLflow's ``ElasticnetWineModel`` stays so); ``Fraud`` and ``fraud``
# are two names, as in MLflow's registry.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_ALIAS = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_STATES = {s.value for s in ModelState}


def check_model_name(name: object, *, field: str = "name") -> str:
    """Model names are ``[A-Za-z0-9][A-Za-z0-9._-]{0,62}``, case kept.

    Raises:
        InvalidInputError: anything else.
    """
    if isinstance(name, str):
        check_name(name, field, kind="model name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInputError(
            "model name must be 1-63 characters of A-Z, a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
            field=field,
        )
    return name


def check_alias(alias: object, *, field: str = "alias") -> str:
    """Aliases are lowercase ``[a-z][a-z0-9_-]{0,62}`` and never a number or a state name.

    Raises:
        InvalidInputError: anything else.
    """
    if isinstance(alias, str):
        check_name(alias, field, kind="alias")
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise InvalidInputError(
            "alias must be 1-63 characters of a-z, 0-9, '_' or '-', starting with a letter", field=field
        )
    if alias in _STATES or alias == "latest":
        # fraud/production and fraud@latest already mean something; an alias may not shadow them
        raise InvalidInputError(f"alias {alias!r} is reserved", field=field)
    return alias


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A parsed reference: exactly one of ``version``, ``alias``, ``state`` is set
    (or none: the latest version)."""

    name: str
    version: int | None = None
    alias: str | None = None
    state: ModelState | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"models:/{self.name}/{self.version}"
        if self.alias is not None:
            return f"models:/{self.name}@{self.alias}"
        if self.state is not None:
            return f"models:/{self.name}/{self.state.value}"
        return f"models:/{self.name}/latest"


def parse_ref(text: object, *, field: str = "model") -> ModelRef:
    """Parse any spelling of a model reference.

    Raises:
        InvalidInputError: a reference of none of the accepted forms.

    Example:
        >>> parse_ref("fraud@champion").alias
        'champion'
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("model reference must be a non-empty string", field=field)
    body = text.strip().removeprefix("models:/")
    name, sep, rest = _split(body)
    try:
        check_model_name(name, field=field)
    except InvalidInputError:
        raise InvalidInputError(
            f"{text[:80]!r} is not a model reference; use fraud:3, fraud@champion, fraud/production "
            "or models:/fraud/3",
            field=field,
        ) from None
    if not sep:
        return ModelRef(name)
    if sep == "@":
        return ModelRef(name) if rest == "latest" else ModelRef(name, alias=check_alias(rest, field=field))
    if rest.isdigit() and int(rest) > 0:
        return ModelRef(name, version=int(rest))
    if sep == "/" and rest in _STATES:
        return ModelRef(name, state=ModelState(rest))
    if rest == "latest":
        return ModelRef(name)
    raise InvalidInputError(f"{text[:80]!r}: {rest[:40]!r} is neither a version number nor a state", field=field)


def _split(body: str) -> tuple[str, str, str]:
    for sep in ("@", ":", "/"):
        if sep in body:
            name, _, rest = body.partition(sep)
            return name, sep, rest
    return body, "", ""
