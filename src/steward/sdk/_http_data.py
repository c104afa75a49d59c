"""Dataset versions and validation over a Steward server's REST API.

Registering a file uploads it in chunks (resumable: re-running after a cut goes on from
the bytes the server has; the server checks the whole file's sha256 before a version
exists). Validation, inference and skew of data on this machine are computed here, as
embedded, with suites read from and stored on the server; a dataset version the server
holds is downloaded once per client (its sha256 checked) when local maths needs it, and a
stored version validated with a stored suite is validated by the server, which records
the result as the embedded store does.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import shutil
import tempfile
import weakref
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from steward import errors
from steward.errors import InvalidInputError, StorageError

from ._http import HttpBackend, _error_from

if TYPE_CHECKING:
    import polars as pl

    from steward.data import (
        DatasetDiff,
        DatasetSummary,
        DatasetVersion,
        Lineage,
        ResultRecord,
        SkewResult,
        Suite,
        SuiteRecord,
        ValidationResult,
    )
    from steward.tracking._ports import AuditEvent

__all__ = ["HttpData", "HttpValidation"]

JSON = dict[str, Any]  # Any: JSON values
_PARQUET = (".parquet", ".pq", ".parq")
_BLOCK = 1 << 20


def _q(text: str) -> str:
    return quote(text, safe="")


def version_from_dict(d: JSON) -> DatasetVersion:
    """A :class:`DatasetVersion` from its REST shape (listings carry no profile)."""
    from steward.data import ColumnSchema, DatasetVersion

    return DatasetVersion(
        name=d["name"], version=int(d["version"]), content_hash=d["content_hash"], num_rows=int(d["num_rows"]),
        num_columns=int(d["num_columns"]),
        schema=tuple(ColumnSchema(c["name"], c["type"], bool(c["nullable"])) for c in d["schema"]),
        profile=dict(d.get("profile") or {}), source=d["source"], storage=d["storage"], artifact_digest=d.get("artifact_digest"),
        artifact_uri=d["artifact_uri"], size_bytes=int(d["size_bytes"]), description=d.get("description"),
        created_at=int(d["created_at"]), created_by=d["created_by"],
    )


class HttpData:
    """:class:`~steward.sdk.DataBackend` on a server.

    Args:
        http: the client's :class:`HttpBackend` (its connection, credentials and errors).
        tmp_dir: where downloads and converted uploads are staged (default: the OS's).
    """

    def __init__(self, http: HttpBackend, *, tmp_dir: str | None = None) -> None:
        self._http = http
        self._tmp_dir = tmp_dir
        self._downloads: dict[str, str] = {}  # artifact digest or ref -> local Parquet file
        self._folder: str | None = None
        self._cleanup: weakref.finalize[Any, Any] | None = None

    def close(self) -> None:
        """Delete downloaded data."""
        if self._cleanup is not None:
            self._cleanup()

    def _workdir(self) -> str:
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="steward-data-", dir=self._tmp_dir)
            # downloads go with this object (or at exit) even if nobody calls close()
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._folder, True)
        return self._folder

    # -- register ---------------------------------------------------------------------

    def register(
        self, name: str, source: Any, *, reference_only: bool = False, description: str | None = None,  # Any: path, frame or table
        project: str | None = None,
    ) -> DatasetVersion:
        """Upload ``source`` (resumably, in chunks) and register it as the next version of ``name``.

        Raises:
            InvalidInputError: ``reference_only`` (the server cannot read this machine's
                files), an unreadable source, a sha256 mismatch.
            StorageError: the server is unreachable (run the command again to resume).
        """
        if reference_only:
            raise InvalidInputError(
                "--reference-only records a path the store can read: against a server, upload the data "
                "(drop --reference-only) or register it on the server's machine",
                field="reference_only",
            )
        if description is not None and len(description) > 10_000:
            raise InvalidInputError("description is longer than 10,000 characters", field="description")
        with self._as_file(source) as (path, fmt, label):
            upload, owner = self._upload(path, fmt, label, name, project)
        # the upload's project: the server authorises a new dataset there, as when it was opened
        params: dict[str, str] = {"upload_id": upload, "project": owner}
        if description is not None:
            params["description"] = description
        return version_from_dict(self._http._call("POST", f"/datasets/{_q(name)}/versions", params=params))

    @contextmanager
    def _as_file(self, source: Any) -> Iterator[tuple[str, str, str]]:  # Any: path, frame or table
        """(local file, its format, the label recorded as source): a Parquet or CSV file as
        it is; a folder, another format or an in-memory table written to Parquet first."""
        if isinstance(source, str | os.PathLike):
            path = os.fspath(source)
            if not os.path.exists(path):
                raise errors.NotFoundError(f"no file or folder at {path[:300]!r}", field="source")
            lower = path.lower()
            if os.path.isfile(path) and lower.endswith(_PARQUET):
                yield path, "parquet", path
                return
            if os.path.isfile(path) and lower.endswith(".csv"):
                yield path, "csv", path
                return
            label = path
        else:
            label = f"<{type(source).__name__}>"
        import pyarrow.parquet as pq

        from steward.data._loading import read_table

        table = read_table(source)
        with tempfile.TemporaryDirectory(prefix="steward-upload-", dir=self._tmp_dir) as tmp:
            staged = os.path.join(tmp, "data.parquet")
            pq.write_table(table, staged, compression="zstd")
            del table
            yield staged, "parquet", label

    def _upload(self, path: str, fmt: str, label: str, dataset: str, project: str | None) -> tuple[str, str]:
        """Send ``path`` in chunks, resuming an open upload of the same file; (upload id, project)."""
        size, digest = size_and_sha256(path)
        if size == 0:
            raise InvalidInputError(f"{label[:300]!r} is empty", field="source")
        body: JSON = {"dataset": dataset, "size": size, "sha256": digest, "filename": label[:1000], "format": fmt}
        if project:
            body["project"] = project
        state = send_chunks(self._http, path, self._http._call("POST", "/uploads", body=body))
        return str(state["upload_id"]), str(state["project"])

    # -- find ---------------------------------------------------------------------------

    def get(self, ref: str) -> DatasetVersion:
        from steward.data._pins import pinned_ref

        # under `steward reproduce`: a bare name the run used is sent as the version it used
        return version_from_dict(self._http._call("GET", "/dataset-versions", params={"ref": pinned_ref(ref)}))

    def list(self, name: str | None = None) -> builtins.list[DatasetVersion]:
        names = [name] if name is not None else [s.name for s in self.list_datasets()]
        out: builtins.list[DatasetVersion] = []
        for n in names:
            out += [version_from_dict(v) for v in self._http._call("GET", f"/datasets/{_q(n)}/versions")["versions"]]
        return out

    def list_datasets(self, projects: Collection[str] | None = None) -> builtins.list[DatasetSummary]:
        from steward.data import DatasetSummary

        return [
            DatasetSummary(
                s["name"], s.get("description"), int(s["created_at"]), s["created_by"], int(s["latest_version"]),
                int(s["num_versions"]), s.get("project", ""),
            )
            for s in self._http._call("GET", "/datasets")["datasets"]
            if projects is None or s.get("project") in projects
        ]

    # -- read ---------------------------------------------------------------------------

    def download(self, ref: str | DatasetVersion) -> str:
        """A local Parquet file of a version's data (downloaded once per client, sha256 checked).

        Raises:
            IntegrityError: the bytes received do not hash to the stored file's sha256.
        """
        version = self.get(ref) if isinstance(ref, str) else ref
        key = version.artifact_digest or version.ref
        if key in self._downloads and os.path.exists(self._downloads[key]):
            return self._downloads[key]
        target = os.path.join(self._workdir(), f"{len(self._downloads)}.parquet")
        url = f"/datasets/{_q(version.name)}/versions/{version.version}/data"
        digest = hashlib.sha256()
        try:
            with self._http._http.stream("GET", url) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise _error_from(resp)
                with open(target, "wb") as out:
                    for block in resp.iter_bytes(_BLOCK):
                        digest.update(block)
                        out.write(block)
        except httpx.TransportError as exc:
            raise StorageError(f"Steward server unreachable at {self._http._http.base_url}") from exc
        if version.artifact_digest is not None and digest.hexdigest() != version.artifact_digest:
            os.unlink(target)
            raise errors.IntegrityError(f"the data of {version.ref} arrived damaged (sha256 mismatch); try again")
        self._downloads[key] = target
        return target

    def scan(self, ref: str | DatasetVersion) -> pl.LazyFrame:
        import polars as pl

        return pl.scan_parquet(self.download(ref))

    def load(self, ref: str | DatasetVersion) -> pl.DataFrame:
        import polars as pl

        return pl.read_parquet(self.download(ref))

    def load_source(self, source: object) -> pl.DataFrame:
        """Read data on this machine (the same formats and errors as embedded)."""
        from steward.data._validation_service import FileReader

        frame = FileReader().load_source(source)
        if frame.height == 0 or frame.width == 0:
            raise InvalidInputError("the data has no rows", field="source")
        return frame

    # -- compare and trace --------------------------------------------------------------

    def diff(self, a: str | DatasetVersion, b: str | DatasetVersion) -> DatasetDiff:
        from steward.data import ColumnDiff, DatasetDiff

        va = self.get(a) if isinstance(a, str) else a
        vb = self.get(b) if isinstance(b, str) else b
        d = self._http._call("GET", "/dataset-diff", params={"a": va.ref, "b": vb.ref})
        return DatasetDiff(
            va, vb,
            tuple((c["name"], c["type"]) for c in d["added_columns"]),
            tuple((c["name"], c["type"]) for c in d["removed_columns"]),
            tuple(
                ColumnDiff(c["name"], c["type_a"], c["type_b"], float(c["missing_share_a"]), float(c["missing_share_b"]), dict(c["distances"]))
                for c in d["columns"]
            ),
        )

    def lineage(self, ref: str | DatasetVersion) -> Lineage:
        from steward.data import InputUse, Lineage

        version = self.get(ref) if isinstance(ref, str) else ref
        d = self._http._call("GET", f"/datasets/{_q(version.name)}/versions/{version.version}/lineage")
        runs = tuple(
            InputUse(u["run_id"], u["experiment_id"], u["run_name"], u["status"], int(u["start_time"]), u["role"], u["logged_as"])
            for u in d["runs"]
        )
        return Lineage(version, runs, tuple(d.get("models") or ()))


class _HttpSuiteStore:
    """The validation service's suite storage, on the server (its ``ValidationStore``)."""

    def __init__(self, http: HttpBackend) -> None:
        self._http = http

    def add_suite(
        self, name: str, text: str, content_hash: str, now: int, audit: AuditEvent, project: str | None = None
    ) -> tuple[SuiteRecord, bool]:
        body: JSON = {"yaml": text}
        if project:
            body["project"] = project
        return _suite_record(self._http._call("POST", "/suites", body=body)), True

    def get_suite(self, name: str, version: int | None) -> SuiteRecord:
        url = f"/suites/{_q(name)}" if version is None else f"/suites/{_q(name)}/versions/{version}"
        return _suite_record(self._http._call("GET", url))

    def list_suites(self, name: str | None = None, projects: Collection[str] | None = None) -> list[SuiteRecord]:
        found = self._http._call("GET", "/suites", params={"name": name} if name else None)["suites"]
        # listings carry no text; the CLI shows only names, versions and hashes
        return [_suite_record({**s, "yaml": ""}) for s in found]

    def delete_suite(self, name: str, audit: AuditEvent) -> int:
        self._http._call("DELETE", f"/suites/{_q(name)}")
        return 1

    def add_result(self, record: ResultRecord, audit: AuditEvent) -> ResultRecord:
        # never reached: a stored version with a stored suite is validated by the server
        raise InvalidInputError("results are recorded by the server", field="record")

    def list_results(
        self, dataset_ref: str | None = None, suite_ref: str | None = None, limit: int = 100, projects: Collection[str] | None = None
    ) -> list[ResultRecord]:
        from steward.data import ResultRecord

        params: JSON = {"max_results": limit}
        if dataset_ref:
            params["dataset"] = dataset_ref
        if suite_ref:
            params["suite"] = suite_ref
        return [
            ResultRecord(r["result_id"], r["suite"], r["dataset"], bool(r["passed"]), dict(r["summary"]), int(r["created_at"]), r["created_by"])
            for r in self._http._call("GET", "/validations", params=params)["validations"]
        ]


def _suite_record(d: JSON) -> SuiteRecord:
    from steward.data import SuiteRecord

    return SuiteRecord(d["name"], int(d["version"]), d["yaml"], d["content_hash"], int(d["created_at"]), d["created_by"])


class HttpValidation:
    """:class:`~steward.sdk.ValidationBackend` on a server.

    The embedded validation service's own logic runs here, over the server's suites and
    data (see the module docstring), so files on this machine never need uploading to be
    checked, and the answers are the embedded ones.
    """

    def __init__(self, http: HttpBackend, data: HttpData, actor: str) -> None:
        from steward.data import ValidationService

        self._http = http
        self._data = data
        self._local = ValidationService(_HttpSuiteStore(http), data, actor)

    def close(self) -> None:
        self._data.close()

    def infer(self, data: Any, name: str, *, store: bool = True, description: str | None = None) -> Suite:  # Any: ref, path or frame
        return self._local.infer(data, name, store=store, description=description)

    def create_suite(self, suite: Any, *, project: str | None = None) -> Suite:  # Any: a Suite or YAML text
        return self._local.create_suite(suite, project=project)

    def validate(self, data: Any, suite: Any, *, record: bool = True, examples: int | None = None) -> ValidationResult:  # Any: see ValidationService.validate
        from steward.data import ValidationResult
        from steward.data._validation_service import _looks_like_dataset_ref

        on_server = isinstance(data, str) and not Path(data).exists() and _looks_like_dataset_ref(data)
        suite_file = isinstance(suite, str | Path) and (Path(suite).suffix.lower() in (".yaml", ".yml") or Path(suite).exists())
        if on_server and record and isinstance(suite, str) and not suite_file:
            body: JSON = {"dataset": data, "suite": suite}
            if examples is not None:
                body["examples"] = examples
            return ValidationResult.from_dict(self._http._call("POST", "/validations", body=body))
        return self._local.validate(data, suite, record=False, examples=examples)

    def skew(self, reference: Any, current: Any, suite: Any = None) -> SkewResult:  # Any: refs, paths or frames
        return self._local.skew(reference, current, suite)

    def list_suites(self, name: str | None = None) -> list[SuiteRecord]:
        return self._local.list_suites(name)

    def get_suite_record(self, ref: str) -> SuiteRecord:
        return self._local.get_suite_record(ref)


def send_chunks(http: HttpBackend, path: str, state: JSON) -> JSON:
    """Send ``path`` to an open upload (``state`` as the server answered its opening) from
    the offset the server has, chunk by chunk; the upload's final state.

    Raises:
        StorageError: the connection broke (nothing is registered; run again to resume).
    """
    upload_id, received, chunk, size = str(state["upload_id"]), int(state["received"]), int(state["chunk_size"]), int(state["size"])
    with open(path, "rb") as f:
        while received < size:
            f.seek(received)
            data = f.read(min(chunk, size - received))
            headers = {"Content-Range": f"bytes {received}-{received + len(data) - 1}/{size}"}
            try:
                state = _put(http, f"/uploads/{upload_id}", data, headers)
            except errors.ConflictError:
                # another attempt moved the offset (or a reply was lost): ask where it stands
                state = http._call("GET", f"/uploads/{upload_id}")
            received = int(state["received"])
    return state


def _put(http: HttpBackend, url: str, data: bytes, headers: dict[str, str]) -> JSON:
    try:
        resp = http._http.put(url, content=data, headers=headers)
    except httpx.TransportError as exc:
        raise StorageError(f"Steward server unreachable at {http._http.base_url}; run the command again to resume the upload") from exc
    if resp.status_code >= 400:
        raise _error_from(resp)
    found: JSON = resp.json()
    return found


def size_and_sha256(path: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()
