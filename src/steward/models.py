"""``steward.models``: load, package and register models from Python.

One spelling per task::

    import steward.models

    predictor = steward.models.load("models:/fraud@champion")   # or fraud:3, fraud/production
    predictor.predict(df)                                        # checked against the signature
    steward.models.package("fraud:3", "bundle/")                 # self-contained folder
    steward.models.load_bundle("bundle/")                        # hashes checked first
    steward.models.register(run_id, "fraud")                     # next version of fraud

Each function works on the embedded store or a Steward server, chosen by
:class:`~steward.settings.Settings` (``STEWARD_TRACKING_URI``) as the tracking client is.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from steward.errors import IntegrityError, InvalidInputError
from steward.registry import (
    ModelVersion,
    Predictor,
    RegistryService,
    load_model_dir,
    parse_ref,
    version_from_dict,
    write_bundle,
)
from steward.registry._packaging import MANIFEST_FILE, temp_folder, write_manifest
from steward.sdk import HttpBackend
from steward.settings import Settings
from steward.wiring import build_services

__all__ = ["ModelVersion", "Predictor", "load", "load_bundle", "package", "register", "registry"]


@contextmanager
def registry(settings: Settings | None = None, *, actor: str | None = None) -> Iterator[RegistryService]:
    """The embedded registry service for ``settings`` (closed on exit).

    Raises:
        InvalidInputError: ``settings`` point at a server; use the REST API or the functions above.
    """
    cfg = settings or Settings()
    if cfg.is_remote():
        raise InvalidInputError("registry() opens the embedded store; the tracking URI is a server", field="tracking_uri")
    services = build_services(cfg)
    try:
        yield services.registry(actor)
    finally:
        services.close()


class _Remote:
    """The few registry calls the SDK makes against a server."""

    def __init__(self, settings: Settings) -> None:
        token = settings.token.get_secret_value() if settings.token else None
        self.http = HttpBackend(str(settings.tracking_uri), token=token)

    def resolve(self, ref: str, *, allow_retired: bool, purpose: str) -> ModelVersion:
        name = parse_ref(ref).name
        data = self.http._call(  # the backend's one request path: errors map to the same classes
            "GET",
            f"/models/{quote(name, safe='')}/resolve",
            params={"ref": ref, "allow_retired": str(allow_retired).lower(), "purpose": purpose},
        )
        return version_from_dict(data)

    def download(self, version: ModelVersion, dest: Path) -> Path:
        """The files pinned at registration, each checked against its recorded sha256 here
        too (the server checked its store; this checks the transfer)."""
        base = f"/models/{quote(version.name, safe='')}/versions/{version.version}/files"
        files = self.http._call("GET", base)["files"]
        for file in files:
            data = self.http._call("GET", f"{base}/{quote(file['path'], safe='')}")
            data = data if isinstance(data, bytes) else b""
            if hashlib.sha256(data).hexdigest() != file["digest"]:
                raise IntegrityError(
                    f"file {file['path']!r} of {version.name}:{version.version} does not match the sha256 recorded "
                    f"at registration ({file['digest'][:12]}); refusing to load it",
                    field="path",
                )
            target = dest / file["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if files:
            if not any(f["path"] == MANIFEST_FILE for f in files):
                write_manifest(dest)  # an MLflow-format folder: the digests just checked are its manifest
            return dest
        # registered before manifests existed: the run's files as they are
        prefix = version.artifact_path.rstrip("/") + "/"
        for info in self.http.list_artifacts(version.run_id, version.artifact_path):
            target = dest / info.path.removeprefix(prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.http.read_artifact(version.run_id, info.path))
        return dest


def load(ref: str, *, settings: Settings | None = None, trusted: bool = False, allow_retired: bool = False) -> Predictor:
    """Load a registered model version.

    Args:
        ref: ``models:/fraud/3``, ``models:/fraud@champion``, ``fraud:3``,
            ``fraud@champion``, ``fraud/production`` or ``fraud`` (latest version).
        settings: where the registry is (default: from ``STEWARD_*``).
        trusted: allow formats that can run code when read (pickle, untrusted skops types).
        allow_retired: load a retired version anyway; recorded in the audit trail.

    Returns:
        A :class:`Predictor`; its ``predict(df)`` checks ``df`` against the signature.

    Raises:
        NotFoundError: no such model, version or alias.
        ConflictError: the version is retired and ``allow_retired`` is False.
        IntegrityError: a model file does not match the manifest (named in the message).

    Example:
        >>> predictor = steward.models.load("fraud@champion")  # doctest: +SKIP
        >>> predictor.predict(df)  # doctest: +SKIP
    """
    cfg = settings or Settings()
    if cfg.is_remote():
        remote = _Remote(cfg)
        try:
            found = remote.resolve(ref, allow_retired=allow_retired, purpose="load")
            with temp_folder() as tmp:
                return load_model_dir(remote.download(found, Path(tmp)), trusted=trusted, source=found.uri)
        finally:
            remote.http.close()
    with registry(cfg) as reg:
        return reg.load(ref, trusted=trusted, allow_retired=allow_retired)


def load_bundle(path: str | os.PathLike[str], *, trusted: bool = False) -> Predictor:
    """Load a bundle written by :func:`package` (or ``steward models package``).

    Raises:
        IntegrityError: a file was added, removed or changed since packaging (named).

    Example:
        >>> steward.models.load_bundle("bundle/").predict(df)  # doctest: +SKIP
    """
    return load_model_dir(Path(path), trusted=trusted, source=os.fspath(path))


def package(ref: str, out: str | os.PathLike[str], *, settings: Settings | None = None, allow_retired: bool = False) -> Path:
    """Write a self-contained bundle of a version to ``out``: model files, signature,
    pinned ``requirements.txt``, ``MANIFEST.json`` of hashes and a ``Dockerfile``.

    Raises:
        InvalidInputError: ``out`` exists and is not empty.

    Example:
        >>> steward.models.package("fraud:3", "bundle/")  # doctest: +SKIP
    """
    cfg = settings or Settings()
    if cfg.is_remote():
        remote = _Remote(cfg)
        try:
            found = remote.resolve(ref, allow_retired=allow_retired, purpose="package")
            info = {"uri": found.uri, "name": found.name, "version": found.version, "run_id": found.run_id, "state": found.state.value}
            with temp_folder() as tmp:
                return write_bundle(remote.download(found, Path(tmp)), Path(out), info)
        finally:
            remote.http.close()
    with registry(cfg) as reg:
        return reg.package(ref, Path(out), allow_retired=allow_retired)


def register(run_id: str, name: str, *, artifact_path: str | None = None, settings: Settings | None = None) -> ModelVersion:
    """Register the model run ``run_id`` logged (at ``models/<name>`` by default) as the next
    version of ``name``, creating the model when needed.

    Raises:
        NotFoundError: unknown run, or no model logged there.
        ConflictError: the run failed or was killed.

    Example:
        >>> steward.models.register(run.run_id, "fraud").version  # doctest: +SKIP
        3
    """
    cfg = settings or Settings()
    if cfg.is_remote():
        remote = _Remote(cfg)
        try:
            body = {"run_id": run_id, "artifact_path": artifact_path, "project": cfg.project}
            return version_from_dict(remote.http._call("POST", f"/models/{quote(name, safe='')}/versions", body=body))
        finally:
            remote.http.close()
    with registry(cfg) as reg:
        return reg.create_version(name, run_id, artifact_path=artifact_path, project=cfg.project)
