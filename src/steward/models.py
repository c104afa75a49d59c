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

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from steward.errors import InvalidInputError
from steward.registry import ModelVersion, Predictor, RegistryService, load_model_dir
from steward.sdk import Client, RegistryBackend
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


@contextmanager
def _backend(settings: Settings | None) -> Iterator[RegistryBackend]:
    """The client's registry for ``settings``: the embedded store's, or a server's (its pinned
    files read through the REST API and checked against their sha256 here), closed on exit."""
    client = Client(settings or Settings())
    try:
        yield client.registry
    finally:
        client.close()


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
    with _backend(settings) as reg:
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
    with _backend(settings) as reg:
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
    with _backend(cfg) as reg:
        return reg.create_version(name, run_id, artifact_path=artifact_path, project=cfg.project)
