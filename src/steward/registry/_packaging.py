"""A model folder on disk: model files, ``steward-model.json`` (flavor, signature,
requirements), ``requirements.txt``, an input example and ``MANIFEST.json`` (sha256 of every
other file). Bundles add a Dockerfile and ``registered.json``."""

from __future__ import annotations

import hashlib
import json
import platform
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward.errors import IntegrityError, InvalidInputError, NotFoundError

from .flavors import flavor_for, get_flavor
from .signature import Signature, as_frame, infer_signature

if TYPE_CHECKING:
    from steward.tracking import ArtifactInfo

    from ._types import ModelVersion, VersionFile

__all__ = [
    "MANIFEST_FILE",
    "MODEL_FILE",
    "REQUIREMENTS_FILE",
    "SavedModel",
    "pin_requirements",
    "save_model_dir",
    "verify_manifest",
    "write_bundle",
    "write_manifest",
]

def _steward_version() -> str:
    # read from the installed distribution: importing steward here would be circular
    try:
        return metadata.version("steward")
    except metadata.PackageNotFoundError:
        return "0+unknown"


MODEL_FILE = "steward-model.json"
MANIFEST_FILE = "MANIFEST.json"
REQUIREMENTS_FILE = "requirements.txt"
EXAMPLE_FILE = "input_example.json"
_DATA = "data"


@dataclass(frozen=True, slots=True)
class SavedModel:
    """What was written: the flavor, its signature (None without an example), pins and hashes."""

    flavor: str
    signature: Signature | None
    requirements: list[str]
    manifest: dict[str, str]


def pin_requirements(packages: list[str]) -> list[str]:
    """``name==version`` for each installed distribution, in first-seen order."""
    pins: list[str] = []
    seen: set[str] = set()
    for name in packages:
        key = name.lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue  # a package the flavor can use but this environment does without
    return pins


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(folder: Path) -> list[str]:
    """Relative paths of every file under ``folder`` except the top-level manifest."""
    rels = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return sorted(r for r in rels if r != MANIFEST_FILE)


def write_manifest(folder: Path) -> dict[str, str]:
    """Hash every file under ``folder`` (except the manifest) into ``MANIFEST.json``."""
    manifest = {rel: _sha256(folder / rel) for rel in _files(folder)}
    (folder / MANIFEST_FILE).write_text(json.dumps({"files": manifest}, indent=2, sort_keys=True))
    return manifest


def verify_manifest(folder: Path) -> dict[str, str]:
    """Check every file against ``MANIFEST.json``; a file added, missing or changed is refused.

    Raises:
        IntegrityError: naming the first file that does not match.
    """
    try:
        manifest: dict[str, str] = json.loads((folder / MANIFEST_FILE).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{MANIFEST_FILE} is missing or unreadable in {folder.name}", field=MANIFEST_FILE) from exc
    present = set(_files(folder))
    for rel in sorted(present - set(manifest)):
        raise IntegrityError(f"{rel} is not listed in {MANIFEST_FILE}; refusing to load", field=rel)
    for rel, expected in sorted(manifest.items()):
        path = folder / rel
        if rel not in present:
            raise IntegrityError(f"{rel} is listed in {MANIFEST_FILE} but missing", field=rel)
        if _sha256(path) != expected:
            raise IntegrityError(f"{rel} does not match its hash in {MANIFEST_FILE}; refusing to load", field=rel)
    return manifest


def save_model_dir(
    model: object,
    folder: Path,
    *,
    flavor: str | None = None,
    input_example: Any = None,  # Any: DataFrame / ndarray
    trusted: bool = False,
    artifacts: Mapping[str, str] | None = None,
) -> SavedModel:
    """Write ``model`` into the empty folder ``folder``.

    The model is read back from the files and asked to predict on the example, so the
    output schema describes what a loaded model gives, and a model that cannot be read
    back fails here rather than in production.

    Raises:
        InvalidInputError: unknown flavor, a model no flavor knows, a bad example.
    """
    chosen = get_flavor(flavor) if flavor else flavor_for(model)
    data = folder / _DATA
    data.mkdir(parents=True)
    example = None if input_example is None else as_frame(input_example, field="input_example")
    options = chosen.save(model, data, trusted=trusted, example=example, artifacts=artifacts)
    signature: Signature | None = None
    if example is not None:
        loaded = chosen.load(data, options, trusted=True)  # we wrote these files a moment ago
        model_input = example.to_numpy() if not hasattr(input_example, "columns") else example
        try:
            prediction = loaded.predict(model_input)
        except Exception as exc:  # any model error: the example does not fit the model
            raise InvalidInputError(
                f"the model could not predict on input_example: {type(exc).__name__}: {str(exc)[:300]}",
                field="input_example",
            ) from exc
        signature = infer_signature(input_example, prediction)
        (folder / EXAMPLE_FILE).write_text(example.head(20).to_json(orient="split", index=False))
    requirements = pin_requirements([*chosen.packages(options), "pandas", "numpy"])
    meta = {
        "flavor": chosen.name,
        "options": options,
        "data": _DATA,
        "signature": None if signature is None else signature.to_dict(),
        "requirements": requirements,
        "python": platform.python_version(),
        "steward": _steward_version(),
    }
    (folder / MODEL_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    (folder / REQUIREMENTS_FILE).write_text("".join(f"{r}\n" for r in requirements))
    manifest = write_manifest(folder)
    return SavedModel(chosen.name, signature, requirements, manifest)


_DOCKERFILE = """\
# Generated by Steward {steward} for {ref}.
FROM python:{python}-slim
WORKDIR /model
COPY requirements.txt /model/requirements.txt
RUN pip install --no-cache-dir -r /model/requirements.txt "steward=={steward}"
COPY . /model
# Fails the build when a file was changed after packaging (hashes in MANIFEST.json).
RUN python -c "import steward.models as m; m.load_bundle('/model')"
"""


def write_bundle(source: Path, out: Path, registered: Mapping[str, Any]) -> Path:  # Any: JSON
    """Copy a verified model folder to ``out`` with a Dockerfile and registry metadata.

    Raises:
        InvalidInputError: ``out`` exists and is not an empty folder.
    """
    verify_manifest(source)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInputError(f"{out} already exists and is not empty", field="out")
    out.mkdir(parents=True, exist_ok=True)
    for rel in _files(source):
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((source / rel).read_bytes())
    python = ".".join(platform.python_version_tuple()[:2])
    (out / "Dockerfile").write_text(
        _DOCKERFILE.format(steward=_steward_version(), python=python, ref=registered.get("uri", "a model"))
    )
    (out / "registered.json").write_text(json.dumps(dict(registered), indent=2, sort_keys=True, default=str))
    write_manifest(out)
    return out


def temp_folder() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder for staging model files."""
    return tempfile.TemporaryDirectory(prefix="steward-model-")


def write_version_files(
    version: ModelVersion,
    dest: Path,
    files: Sequence[VersionFile],
    read_file: Callable[[ModelVersion, VersionFile], bytes],
    list_artifacts: Callable[[str, str], list[ArtifactInfo]],
    read_artifact: Callable[[str, str], bytes],
) -> Path:
    """Write a version's model files into the folder ``dest``, for the embedded registry and
    its HTTP twin alike: the ``files`` pinned at registration, each read (and verified) by
    ``read_file``; a version registered before pins existed gets its run's files as they are.

    Raises:
        IntegrityError: from ``read_file``, a file whose bytes differ from its digest.
        NotFoundError: the run has none of the version's files.
    """
    if files:
        for file in files:
            target = dest / file.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(read_file(version, file))
        if not any(f.path == MANIFEST_FILE for f in files):
            # an MLflow-format folder has no manifest: the digests just checked are it
            write_manifest(dest)
        return dest
    prefix = version.artifact_path.rstrip("/") + "/"
    infos = list_artifacts(version.run_id, version.artifact_path)
    if not infos:
        raise NotFoundError(f"the files of {version.name}:{version.version} are missing from run {version.run_id}", field="artifact_path")
    for info in infos:
        target = dest / info.path.removeprefix(prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(read_artifact(version.run_id, info.path))
    return dest
