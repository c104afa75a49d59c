"""The SDK entry point: one client whether the store is embedded or behind a server."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from steward.core import Experiment, Metric, Run, RunStatus
from steward.errors import ConflictError, InvalidInputError, NotFoundError
from steward.settings import Settings
from steward.tracking import (
    ArtifactInfo,
    RunPage,
    capture_environment,
    capture_git,
    captured_bytes,
    seed_everything,
)

from ._audit_backend import (
    AuditBackend,
    EmbeddedAudit,
    EmbeddedImport,
    ImportBackend,
    SecretsBackend,
)
from ._backend import EvaluationBackend, RegistryBackend, TrackingBackend
from ._data_backend import DataBackend, ValidationBackend
from ._http import HttpBackend
from ._run import ActiveRun, Flusher

if TYPE_CHECKING:  # the registry stage pulls in pandas: imported when a timeline is asked for
    from ._http_timeline import TimelineBackend
    from ._http_triggers import TriggersBackend
    from ._http_webhooks import WebhooksBackend


class Client:
    """Tracking client.

    With ``STEWARD_TRACKING_URI`` (or ``settings.tracking_uri``) set to ``http(s)://...``
    it talks to a Steward server; otherwise it opens the embedded store under
    ``STEWARD_HOME`` in-process. Both behave the same.

    Args:
        settings: configuration; default ``Settings()`` from the environment.
        backend: an explicit backend (tests pass one).

    Example:
        >>> client = Client(Settings(home=tmp_path))  # doctest: +SKIP
        >>> with client.start_run(experiment="churn", params={"C": 1.0}) as run:  # doctest: +SKIP
        ...     run.log_metric("auc", 0.91)
    """

    def __init__(self, settings: Settings | None = None, *, backend: TrackingBackend | None = None) -> None:
        self.settings = settings or Settings()
        self._services: Any = None  # Any: steward.wiring.Services, kept to close it
        self._flusher = Flusher(self.settings.flush_interval)
        self._experiment_ids: dict[str, str] = {}  # name -> id; ids never change
        self._http_data: Any = None  # Any: _http_data.HttpData, one per client: its downloads live as long
        if backend is not None:
            self.backend = backend
        elif self.settings.is_remote():
            token = self.settings.resolved_token()
            self.backend = HttpBackend(str(self.settings.tracking_uri), token=token, user=self.settings.user, timeout=self.settings.http_timeout)
        else:
            from steward.wiring import build_services  # wiring imports adapters; sdk stays light

            self._services = build_services(self.settings)
            self.backend = self._services.tracking()

    @property
    def services(self) -> Any:  # Any: steward.wiring.Services; typed loosely to keep the sdk import light
        """The embedded store's services (data, registry, ...).

        Raises:
            InvalidInputError: when this client talks to a server; use the REST API there.
        """
        if self._services is None:
            raise InvalidInputError(
                "this operation needs the embedded store; against a server use the REST API",
                field="tracking_uri",
            )
        return self._services

    @property
    def registry(self) -> RegistryBackend:
        """The model registry: the embedded service, or the server's through its REST API.

        Example:
            >>> Client().registry.resolve("fraud@champion").version  # doctest: +SKIP
        """
        if isinstance(self.backend, HttpBackend):
            # imported when asked: the registry stage pulls in pandas
            from ._http_registry import HttpRegistry

            return HttpRegistry(self.backend)
        found: RegistryBackend = self.services.registry()
        return found

    @property
    def evaluation(self) -> EvaluationBackend:
        """Evaluations, gates and model cards: embedded, or on the server (which evaluates)."""
        if isinstance(self.backend, HttpBackend):
            from ._http_data import HttpData
            from ._http_evaluation import HttpEvaluation
            from ._http_registry import HttpRegistry

            return HttpEvaluation(HttpRegistry(self.backend), HttpData(self.backend), project=self.settings.project)
        found: EvaluationBackend = self.services.evaluation()
        return found

    @property
    def data(self) -> DataBackend:
        """Dataset versions: embedded, or on the server (files uploaded in resumable chunks).

        Example:
            >>> Client().data.register("transactions", "transactions.parquet").ref  # doctest: +SKIP
            'datasets:/transactions/1'
        """
        if isinstance(self.backend, HttpBackend):
            from ._http_data import HttpData  # the data stage pulls in polars: only when asked

            if self._http_data is None:
                self._http_data = HttpData(self.backend)
            found_remote: DataBackend = self._http_data
            return found_remote
        found: DataBackend = self.services.data()
        return found

    @property
    def triggers(self) -> TriggersBackend:
        """Triggers that start pipelines: the embedded service, or the server's through its REST API.

        Example:
            >>> Client().triggers.fire("nightly").status  # doctest: +SKIP
            'finished'
        """
        if isinstance(self.backend, HttpBackend):
            from ._http_triggers import HttpTriggers

            return HttpTriggers(self.backend)
        found: TriggersBackend = self.services.triggers()
        return found

    @property
    def validation(self) -> ValidationBackend:
        """Validation suites, validation and skew: embedded, or with the server's suites and data."""
        if isinstance(self.backend, HttpBackend):
            from ._http_data import HttpData, HttpValidation

            data = self.data
            assert isinstance(data, HttpData)
            return HttpValidation(self.backend, data, self.settings.user or "")
        found: ValidationBackend = self.services.validation()
        return found

    @property
    def webhooks(self) -> WebhooksBackend:
        """Webhooks of registry and deployment events: embedded, or the server's through its REST API.

        Example:
            >>> Client().webhooks.test_webhook("ci").status  # doctest: +SKIP
            'succeeded'
        """
        if isinstance(self.backend, HttpBackend):
            from ._http_webhooks import HttpWebhooks

            return HttpWebhooks(self.backend)
        found: WebhooksBackend = self.services.webhooks()
        return found

    @property
    def audit(self) -> AuditBackend:
        """The audit trail: list (reviewers), verify and export (administrators)."""
        if isinstance(self.backend, HttpBackend):
            from ._http_audit import HttpAudit

            return HttpAudit(self.backend)
        return EmbeddedAudit(self.services)

    @property
    def timeline(self) -> TimelineBackend:
        """Registered models' audited histories: embedded, or through the server."""
        if isinstance(self.backend, HttpBackend):
            from ._http_timeline import HttpTimeline

            return HttpTimeline(self.backend)
        found: TimelineBackend = self.services.timeline()
        return found

    @property
    def secrets(self) -> SecretsBackend:
        """Encrypted secrets (administrators): names and history, never values."""
        if isinstance(self.backend, HttpBackend):
            from ._http_audit import HttpSecrets

            return HttpSecrets(self.backend)
        found: SecretsBackend = self.services.secrets()
        return found

    @property
    def imports(self) -> ImportBackend:
        """Bringing an MLflow export in: embedded, or imported by the server (administrators)."""
        if isinstance(self.backend, HttpBackend):
            from ._http_audit import HttpImport

            return HttpImport(self.backend)
        return EmbeddedImport(self.services)

    def close(self, *, checkpoint: bool = True) -> None:
        """Close the store or the connection; ``checkpoint=False`` leaves the audit head
        unsigned (a read-only check such as ``audit verify`` must not sign what it checked)."""
        if self._services is not None:
            if checkpoint:
                self._services.close()
            else:
                self._services.store.close()
        if self._http_data is not None:
            self._http_data.close()  # downloaded dataset versions
        if isinstance(self.backend, HttpBackend):
            self.backend.close()

    # -- runs ---------------------------------------------------------------------------

    def start_run(
        self,
        experiment: str = "default",
        *,
        name: str | None = None,
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
        seed: int | None = None,
        capture: bool = True,
    ) -> ActiveRun:
        """Create a run in ``experiment`` (created when missing) and return it, running.

        Unless ``capture=False``, the run records the git commit, dirty flag and diff
        (artifact ``steward/git.diff``), Python version, installed packages (artifact
        ``steward/requirements.txt`` and their hash), host and command line as
        ``steward.*`` tags. ``seed`` calls :func:`seed_everything` and records it; under
        ``steward reproduce`` the original run's recorded seed replaces it (``STEWARD_SEED``).
        """
        experiment_id = self._experiment_ids.get(experiment)
        if experiment_id is None:
            experiment_id = self._experiment_ids[experiment] = self.backend.get_or_create_experiment(
                experiment, project=self.settings.project
            ).experiment_id
        all_tags: dict[str, object] = {}
        git = None
        env = None
        if capture:
            if self.settings.capture_git:
                git = capture_git()
                if git is not None:
                    all_tags.update(
                        {
                            "steward.git.commit": git.commit,
                            "steward.git.branch": git.branch,
                            "steward.git.dirty": str(git.dirty).lower(),
                            # where in the repository the command ran: `steward reproduce` runs it there
                            "steward.git.workdir": os.path.relpath(os.getcwd(), git.root) if git.root else ".",
                        }
                    )
            env = capture_environment()
            all_tags.update(
                {
                    "steward.python": f"{env.implementation} {env.python}",
                    "steward.platform": env.platform,
                    "steward.host": env.host,
                    "steward.command": env.command[:8000],
                }
            )
            if self.settings.capture_packages:
                all_tags["steward.packages.sha256"] = env.packages_sha256
        if seed is not None:
            from steward.tracking._seed import reproduced_seed

            seed = reproduced_seed(seed)  # under `steward reproduce`: the original run's
            seed_everything(seed)
            all_tags["steward.seed"] = seed
        if os.environ.get("STEWARD_REPRODUCES"):  # set by `steward reproduce` for the run it re-runs
            all_tags["steward.reproduces"] = os.environ["STEWARD_REPRODUCES"]
        all_tags.update(tags or {})
        artifacts: dict[str, bytes] = {}
        if env is not None and self.settings.capture_packages:
            artifacts["steward/requirements.txt"] = captured_bytes(env.packages)  # the same bytes each run: encoded and hashed once
        if git is not None and git.dirty and git.diff:
            artifacts["steward/git.diff"] = captured_bytes(git.diff)
        if isinstance(self.backend, HttpBackend):
            # created on the server with the run's first request that needs it: a short run
            # is then one request (two with an artifact); see steward/sdk/_http.py
            run = self.backend.create_run(
                experiment_id, name=name, params=params, tags=all_tags, artifacts=artifacts, deferred=True
            )
            return ActiveRun(
                self.backend, run, flush_interval=self.settings.flush_interval, flush_max_points=self.settings.flush_max_points,
                flusher=self._flusher, project=self.settings.project,
            )
        try:
            run = self.backend.create_run(experiment_id, name=name, params=params, tags=all_tags, artifacts=artifacts)
        except (NotFoundError, ConflictError):
            # the cached experiment was deleted meanwhile: look it up again once
            self._experiment_ids.pop(experiment, None)
            experiment_id = self._experiment_ids[experiment] = self.backend.get_or_create_experiment(
                experiment, project=self.settings.project
            ).experiment_id
            run = self.backend.create_run(experiment_id, name=name, params=params, tags=all_tags, artifacts=artifacts)
        return ActiveRun(
            self.backend, run, flush_interval=self.settings.flush_interval, flush_max_points=self.settings.flush_max_points,
            flusher=self._flusher, project=self.settings.project,
        )

    def get_run(self, run_id: str) -> Run:
        return self.backend.get_run(run_id)

    def search_runs(
        self,
        experiments: Sequence[str] | str | None = None,
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunPage:
        """Search runs with the filter language, e.g. ``"metrics.auc > 0.9 and params.model = 'gbm'"``."""
        return self.backend.search_runs(experiments, filter=filter, order_by=order_by, max_results=max_results, page_token=page_token)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return self.backend.get_metric_history(run_id, key)

    def end_run(self, run_id: str, status: RunStatus = RunStatus.FINISHED) -> Run:
        return self.backend.end_run(run_id, status)

    # -- experiments and artifacts --------------------------------------------------------

    def list_experiments(self) -> list[Experiment]:
        return self.backend.list_experiments()

    def create_experiment(
        self, name: str, tags: Mapping[str, object] | None = None, *, project: str | None = None
    ) -> Experiment:
        """Create an experiment in ``project`` (default: ``STEWARD_PROJECT``, else its own name)."""
        return self.backend.create_experiment(name, tags, project=project or self.settings.project)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        return self.backend.list_artifacts(run_id, prefix)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        return self.backend.read_artifact(run_id, path)

    def download_artifact(self, run_id: str, path: str, dest: str | os.PathLike[str]) -> str:
        """Write one artifact to ``dest`` (a folder) and return the local path."""
        data = self.backend.read_artifact(run_id, path)
        target = os.path.join(os.fspath(dest), os.path.basename(path))
        with open(target, "wb") as f:
            f.write(data)
        return target
