"""Evaluations, gates, overrides and model cards over a Steward server's REST API
(``/api/v1/models/{name}/versions/{version}/...``).

Same methods, results and errors as :class:`~steward.evaluation.EvaluationService`. The
server evaluates: it loads the model and reads the data, so two things differ from the
embedded store, both on purpose:

- a local ``--data`` file is first uploaded as a version of the dataset named after the
  file (identical content reuses the version), so that the stored evaluation or gate names
  data the server keeps and anyone can re-run it; that needs ``data.write``;
- ``trusted=True`` is refused: a server never loads model files that can run code when read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from steward.errors import InvalidInputError
from steward.evaluation import EvaluationOptions, EvaluationRecord, GateOverride, GateRecord
from steward.evaluation._gates import GateCheck
from steward.registry import ModelVersion

from ._http_registry import HttpRegistry

if TYPE_CHECKING:
    from steward.evaluation import EvaluationService

    from ._backend import EvaluationBackend
    from ._data_backend import DataBackend

__all__ = ["HttpEvaluation"]

JSON = dict[str, Any]  # Any: JSON values
_NOT_DATASET_NAME = re.compile(r"[^A-Za-z0-9_.\-]+")
_RECORD_KEYS = ("id", "model", "name", "version", "dataset_ref", "dataset_hash", "task", "created_at", "created_by")


def evaluation_from_dict(d: JSON) -> EvaluationRecord:
    """An :class:`EvaluationRecord` from its ``to_dict()`` form (the report's keys are inlined)."""
    report = {k: v for k, v in d.items() if k not in _RECORD_KEYS}
    report["task"] = d["task"]  # the report carries its task too
    return EvaluationRecord(
        int(d["id"]), d["name"], int(d["version"]), d["dataset_ref"], d.get("dataset_hash"), d["task"], report,
        int(d["created_at"]), d["created_by"],
    )


def override_from_dict(d: JSON) -> GateOverride:
    return GateOverride(int(d["id"]), int(d["gate_result_id"]), d["actor"], d["reason"], int(d["created_at"]))


def gate_from_dict(d: JSON) -> GateRecord:
    return GateRecord(
        int(d["id"]), d["name"], int(d["version"]), d["dataset_ref"], d["policy"], d["policy_hash"], d.get("champion_version"),
        bool(d["passed"]), [GateCheck.from_dict(c) for c in d.get("checks", [])], d.get("evaluation_id"),
        d.get("champion_evaluation_id"), int(d["created_at"]), d["created_by"],
        [override_from_dict(o) for o in d.get("overrides", [])],
    )


class HttpEvaluation:
    """:class:`~steward.sdk.EvaluationBackend` over a server.

    Args:
        registry: the client's :class:`~steward.sdk.HttpRegistry` (references such as
            ``fraud@champion`` are resolved through it; its connection is shared).
        data: the client's data backend on the same server (a local file is uploaded with it).
        project: the project of a dataset created by uploading a local file.

    Example:
        >>> Client().evaluation.evaluate("fraud:4", "holdout:2", EvaluationOptions(target="label"))  # doctest: +SKIP
    """

    def __init__(self, registry: HttpRegistry, data: DataBackend, *, project: str | None = None) -> None:
        self.registry = registry
        self.data = data
        self.project = project

    def _call(self, method: str, url: str, *, body: Any = None, params: dict[str, Any] | None = None) -> Any:  # Any: JSON
        return self.registry.http._call(method, url, body=body, params=params)

    def _url(self, ref: str) -> tuple[ModelVersion, str]:
        version = self.registry.resolve(ref)
        return version, f"/models/{quote(version.name, safe='')}/versions/{version.version}"

    def _dataset(self, data: str) -> str:
        """A dataset reference for ``data``; a local file is uploaded first (see the module)."""
        if not isinstance(data, str) or not data.strip():
            raise InvalidInputError("data must name a dataset version or a file", field="data")
        path = Path(data)
        if data.startswith("datasets:/") or not path.is_file():
            return data
        name = _NOT_DATASET_NAME.sub("-", path.stem).strip("-._")[:200] or "data"
        # resumable, in chunks, the sha256 checked by the server: as `steward data register`
        return self.data.register(name, str(path), description=f"uploaded from {path.name[:200]}", project=self.project).ref

    @staticmethod
    def _refuse_trusted(trusted: bool) -> None:
        if trusted:
            raise InvalidInputError(
                "a server never loads model files that can run code when read (pickle); "
                "--trusted works on the embedded store only",
                field="trusted",
            )

    def evaluate(self, ref: str, data: str, options: EvaluationOptions, *, trusted: bool = False) -> EvaluationRecord:
        """Evaluate a version on a dataset version (or a local file, uploaded) on the server.

        Raises:
            NotFoundError: no such model version or dataset.
            InvalidInputError: a missing column, data the model refuses, or ``trusted``.
        """
        self._refuse_trusted(trusted)
        _, url = self._url(ref)
        body: JSON = {
            "data": self._dataset(data), "target": options.target, "slices": list(options.slices),
            "sensitive": options.sensitive, "task": options.task, "measure_latency": options.measure_latency,
        }
        return evaluation_from_dict(self._call("POST", f"{url}/evaluations", body=body))

    def list_evaluations(self, ref: str, *, limit: int = 100) -> list[EvaluationRecord]:
        """Stored evaluations of one version, newest first."""
        _, url = self._url(ref)
        return [evaluation_from_dict(e) for e in self._call("GET", f"{url}/evaluations", params={"max_results": limit})["evaluations"]]

    def gate(
        self, ref: str, data: str, policy: str, *, target: str, task: str | None = None,
        slices: tuple[str, ...] = (), trusted: bool = False,
    ) -> GateRecord:
        """Gate a version against its champion on the server (see ``passed``)."""
        self._refuse_trusted(trusted)
        _, url = self._url(ref)
        body: JSON = {"policy": policy, "data": self._dataset(data), "target": target, "slices": list(slices), "task": task}
        return gate_from_dict(self._call("POST", f"{url}/gates", body=body))

    def list_gates(self, ref: str, *, limit: int = 100) -> list[GateRecord]:
        """Stored gate outcomes of one version, newest first."""
        _, url = self._url(ref)
        return [gate_from_dict(g) for g in self._call("GET", f"{url}/gates", params={"max_results": limit})["gates"]]

    def override(self, ref: str, reason: str) -> GateOverride:
        """Administrators: waive the latest failed gate of a version (audited on the server)."""
        _, url = self._url(ref)
        return override_from_dict(self._call("POST", f"{url}/gates/override", body={"reason": reason}))

    def set_card_fields(self, ref: str, fields: dict[str, str]) -> ModelVersion:
        """Fill in the owner's fields of the card; returns the version with its new tags."""
        version, url = self._url(ref)
        self._call("PUT", f"{url}/card", body={"fields": fields})
        return self.registry.get_version(version.name, version.version)

    def card(self, ref: str) -> JSON:
        """The model card document (render it with ``render_markdown``/``render_html``)."""
        _, url = self._url(ref)
        card: JSON = self._call("GET", f"{url}/card")
        return card


if TYPE_CHECKING:  # mypy holds both implementations to the one interface

    def _conforms(embedded: EvaluationService, remote: HttpEvaluation) -> tuple[EvaluationBackend, EvaluationBackend]:
        return embedded, remote
