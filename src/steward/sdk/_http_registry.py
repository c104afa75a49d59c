"""The model registry over a Steward server's REST API (``/api/v1/models``).

Same methods, results and errors as :class:`~steward.registry.RegistryService`, so that
``steward models ...`` and the SDK never need to know which of the two they hold.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from steward.core.lifecycle import ModelState
from steward.errors import IntegrityError
from steward.registry import (
    ModelPage,
    ModelRef,
    ModelVersion,
    Predictor,
    RegisteredModel,
    VersionFile,
    VersionPage,
    load_model_dir,
    model_from_dict,
    parse_ref,
    version_from_dict,
    write_bundle,
)
from steward.registry._packaging import (
    temp_folder,
    write_version_files,
)

from ._http import HttpBackend

if TYPE_CHECKING:
    from steward.registry import RegistryService

    from ._backend import RegistryBackend

__all__ = ["HttpRegistry"]


def _q(value: object) -> str:
    # "/" escaped too: a name or key never reaches another route
    return quote(str(value), safe="")


class HttpRegistry:
    """:class:`~steward.sdk.RegistryBackend` over a server; shares the tracking backend's
    connection, token and error mapping.

    Args:
        http: the client's :class:`~steward.sdk.HttpBackend`.

    Example:
        >>> Client().registry.resolve("fraud@champion").version  # doctest: +SKIP
        3
    """

    def __init__(self, http: HttpBackend) -> None:
        self.http = http

    def _call(self, method: str, url: str, *, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:  # Any: JSON
        return self.http._call(method, url, body=body, params=params)

    @staticmethod
    def _model_url(name: str) -> str:
        return f"/models/{_q(name)}"

    def _version_url(self, name: str, version: int) -> str:
        return f"{self._model_url(name)}/versions/{_q(version)}"

    # -- models -------------------------------------------------------------------------

    def create_model(
        self, name: str, *, description: str = "", tags: Mapping[str, object] | None = None, project: str | None = None
    ) -> RegisteredModel:
        body: dict[str, Any] = {"name": name, "description": description, "tags": {k: str(v) for k, v in (tags or {}).items()}}
        if project:
            body["project"] = project
        return model_from_dict(self._call("POST", "/models", body=body))

    def get_model(self, name: str) -> RegisteredModel:
        return model_from_dict(self._call("GET", self._model_url(name)))

    def list_models(self, *, name_prefix: str | None = None, max_results: int = 100, page_token: str | None = None) -> ModelPage:
        params: dict[str, Any] = {"max_results": max_results}
        if name_prefix:
            params["name_prefix"] = name_prefix
        if page_token:
            params["page_token"] = page_token
        data = self._call("GET", "/models", params=params)
        return ModelPage([model_from_dict(m) for m in data["models"]], data.get("next_page_token"))

    def update_model(self, name: str, *, description: str) -> RegisteredModel:
        return model_from_dict(self._call("PATCH", self._model_url(name), body={"description": description}))

    def set_model_tag(self, name: str, key: str, value: object) -> None:
        self._call("PUT", f"{self._model_url(name)}/tags", body={"key": key, "value": str(value)})

    def delete_model_tag(self, name: str, key: str) -> None:
        self._call("DELETE", f"{self._model_url(name)}/tags/{_q(key)}")

    # -- versions -----------------------------------------------------------------------

    def create_version(
        self, name: str, run_id: str, *, artifact_path: str | None = None, description: str = "", project: str | None = None
    ) -> ModelVersion:
        body: dict[str, Any] = {"run_id": run_id, "description": description}
        if artifact_path is not None:
            body["artifact_path"] = artifact_path
        if project:
            body["project"] = project
        return version_from_dict(self._call("POST", f"{self._model_url(name)}/versions", body=body))

    def get_version(self, name: str, version: int) -> ModelVersion:
        return version_from_dict(self._call("GET", self._version_url(name, version)))

    def list_versions(
        self, name: str, *, state: str | None = None, max_results: int = 100, page_token: str | None = None
    ) -> VersionPage:
        params: dict[str, Any] = {"max_results": max_results}
        if state:
            params["state"] = state
        if page_token:
            params["page_token"] = page_token
        data = self._call("GET", f"{self._model_url(name)}/versions", params=params)
        return VersionPage([version_from_dict(v) for v in data["versions"]], data.get("next_page_token"))

    def search_versions(
        self,
        *,
        name: str | None = None,
        name_prefix: str | None = None,
        state: str | None = None,
        run_id: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> VersionPage:
        params: dict[str, Any] = {"max_results": max_results}
        for key, value in (("name", name), ("name_prefix", name_prefix), ("state", state), ("run_id", run_id), ("page_token", page_token)):
            if value:
                params[key] = value
        data = self._call("GET", "/model-versions", params=params)
        return VersionPage([version_from_dict(v) for v in data["versions"]], data.get("next_page_token"))

    def resolve(self, ref: str | ModelRef) -> ModelVersion:
        """The version a reference names (``fraud:3``, ``fraud@champion``, ``fraud/production``,
        ``fraud``: the latest), retired or not, as the embedded registry's ``resolve``."""
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        if parsed.version is not None:
            return self.get_version(parsed.name, parsed.version)
        return self._resolve(parsed, allow_retired=True, purpose="read")

    def resolve_for_use(self, ref: str | ModelRef, *, allow_retired: bool = False, purpose: str = "load") -> ModelVersion:
        """Resolve ``ref`` to load or package it; the server refuses a retired version unless
        ``allow_retired``, and audits that use."""
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        return self._resolve(parsed, allow_retired=allow_retired, purpose=purpose)

    def _resolve(self, parsed: ModelRef, *, allow_retired: bool, purpose: str) -> ModelVersion:
        params = {"ref": str(parsed), "allow_retired": str(allow_retired).lower(), "purpose": purpose}
        return version_from_dict(self._call("GET", f"{self._model_url(parsed.name)}/resolve", params=params))

    # -- aliases, tags, states, approvals -------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        return version_from_dict(self._call("PUT", f"{self._model_url(name)}/aliases/{_q(alias)}", body={"version": version}))

    def delete_alias(self, name: str, alias: str) -> None:
        self._call("DELETE", f"{self._model_url(name)}/aliases/{_q(alias)}")

    def set_version_tag(self, name: str, version: int, key: str, value: object) -> None:
        self._call("PUT", f"{self._version_url(name, version)}/tags", body={"key": key, "value": str(value)})

    def delete_version_tag(self, name: str, version: int, key: str) -> None:
        self._call("DELETE", f"{self._version_url(name, version)}/tags/{_q(key)}")

    def transition(self, name: str, version: int, state: str | ModelState, *, comment: str = "") -> ModelVersion:
        target = state.value if isinstance(state, ModelState) else state
        body = {"state": target, "comment": comment}
        return version_from_dict(self._call("POST", f"{self._version_url(name, version)}/transitions", body=body))

    def retire(self, name: str, version: int, *, comment: str = "") -> ModelVersion:
        return self.transition(name, version, ModelState.RETIRED, comment=comment)

    def approve(self, name: str, version: int, *, comment: str) -> ModelVersion:
        return version_from_dict(self._call("POST", f"{self._version_url(name, version)}/approvals", body={"comment": comment}))

    # -- files ----------------------------------------------------------------------------

    def list_version_files(self, name: str, version: int) -> list[VersionFile]:
        data = self._call("GET", f"{self._version_url(name, version)}/files")
        return [VersionFile(f["path"], f["digest"], int(f["size"])) for f in data["files"]]

    def read_version_file(self, version: ModelVersion, file: VersionFile) -> bytes:
        """One pinned file, checked here against the sha256 recorded at registration (the
        server checked its store; this checks what arrived).

        Raises:
            IntegrityError: the bytes differ from the recorded digest (the file is named).
        """
        data = self._call("GET", f"{self._version_url(version.name, version.version)}/files/{_q(file.path)}")
        data = data if isinstance(data, bytes) else b""  # an empty file comes back as no body
        if hashlib.sha256(data).hexdigest() != file.digest:
            raise IntegrityError(
                f"file {file.path!r} of {version.name}:{version.version} does not match the sha256 recorded at "
                f"registration ({file.digest[:12]}); refusing to use it",
                field="path",
            )
        return data

    def download(self, version: ModelVersion, dest: Path) -> Path:
        """Write the version's pinned files into the folder ``dest``, each verified.

        Raises:
            IntegrityError: a file's bytes differ from its recorded digest (named).
            NotFoundError: the version has no files.
        """
        files = self.list_version_files(version.name, version.version)
        return write_version_files(version, dest, files, self.read_version_file, self.http.list_artifacts, self.http.read_artifact)

    def load(self, ref: str, *, trusted: bool = False, allow_retired: bool = False) -> Predictor:
        """Load a version here, from its files read through the server (hashes checked)."""
        found = self.resolve_for_use(ref, allow_retired=allow_retired)
        with temp_folder() as tmp:
            return load_model_dir(self.download(found, Path(tmp)), trusted=trusted, source=found.uri)

    def package(self, ref: str, out: Path, *, allow_retired: bool = False) -> Path:
        """Write a self-contained bundle of a version to ``out`` (an empty or new folder) here."""
        found = self.resolve_for_use(ref, allow_retired=allow_retired, purpose="package")
        info = {"uri": found.uri, "name": found.name, "version": found.version, "run_id": found.run_id, "state": found.state.value}
        with temp_folder() as tmp:
            return write_bundle(self.download(found, Path(tmp)), out, info)


if TYPE_CHECKING:  # mypy holds both implementations to the one interface

    def _conforms(embedded: RegistryService, remote: HttpRegistry) -> tuple[RegistryBackend, RegistryBackend]:
        return embedded, remote
