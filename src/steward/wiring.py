"""Build the services of one process from :class:`~steward.settings.Settings`.

The server builds them once at start-up and hangs them off the app; the SDK builds them
once per :class:`~steward.sdk.Client`.
"""

from __future__ import annotations

import getpass
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from steward.adapters.artifacts import ContentAddressedStore
from steward.adapters.sql import SqlStore
from steward.governance._redaction import Redactor, SecretSource, SecretValueGuard
from steward.settings import Settings
from steward.tracking import AuditEvent, LoggedModelService, TrackingService

if TYPE_CHECKING:
    from steward.data import DataService
    from steward.data._uploads import UploadService
    from steward.monitoring._alert_service import AlertRuntime, AlertService
    from steward.data._validation_service import ValidationService
    from steward.evaluation import EvaluationService
    from steward.features import FeatureService, OnlineStore, ViewCache
    from steward.governance import AuditChainService, GovernanceService, SecretsService
    from steward.governance._ports import AuthFailureStore
    from steward.monitoring._monitors import MonitorService
    from steward.predictions import PredictionLog, PredictionService
    from steward.registry import RegistryService, TimelineService
    from steward.webhooks._service import WebhookService
    from steward.serving._deployments import DeploymentService
    from steward.triggers import TriggerService

class _LogHolder:
    """The process's one prediction log, built on first use (the services are frozen)."""

    __slots__ = ("lock", "log")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.log: PredictionLog | None = None


# Each stage is imported when its service is first asked for, not at the top: a CLI
# command or training script pays only for the stages it uses (the data stage loads
# polars and scipy, the registry the model libraries), which keeps `steward ...` quick.


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a process needs, built once."""

    settings: Settings
    store: SqlStore
    blobs: ContentAddressedStore
    # secret values this process has handled, masked in its logs (see governance/_redaction.py)
    redactor: Redactor = field(default_factory=Redactor)
    # the prediction log of this process: one writer thread, closed with the services
    prediction_log_holder: _LogHolder = field(default_factory=_LogHolder, repr=False, compare=False)
    # alert gauges (rendered by the server's /metrics) and the pool of webhook deliveries, built on first use
    alert_runtime_holder: list[AlertRuntime] = field(default_factory=list, repr=False, compare=False)
    # the online feature store (SQLite file or Redis), opened on first use, closed with the services
    online_store_holder: list[OnlineStore] = field(default_factory=list, repr=False, compare=False)
    # view definitions read by online lookups, kept a few seconds (see features/_service.py)
    # (built on first use: the feature stage loads duckdb and pyarrow, which every other
    # command and training script would pay for at start-up)
    feature_view_cache_holder: list[ViewCache] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        # the redactor follows the stored secrets, whoever sets them (read on first need)
        self.redactor.watch(self._stored_secrets)

    def _stored_secrets(self) -> SecretSource:
        from steward.adapters.sql._secrets_store import SqlSecretsStore
        from steward.governance import StoredSecrets, find_master_key

        return StoredSecrets(SqlSecretsStore(self.store), lambda: find_master_key(self.settings))

    def _record_audit(self, event: AuditEvent) -> None:
        from steward.adapters.sql._secrets_store import SqlSecretsStore

        SqlSecretsStore(self.store).record(event)

    def tracking(self, actor: str | None = None) -> TrackingService:
        """The tracking service acting as ``actor`` (default: the configured user).

        Params, tags and metric values that carry a stored secret are refused (and audited).
        """
        return TrackingService(
            self.store, self.blobs, actor or default_actor(self.settings),
            secret_guard=SecretValueGuard(self.redactor, self._record_audit),
        )

    def logged_models(self, actor: str | None = None) -> LoggedModelService:
        """MLflow 3's logged models (and their files, in the content-addressed store) acting as ``actor``."""
        from steward.adapters.sql._logged_model_store import SqlLoggedModelStore

        return LoggedModelService(
            SqlLoggedModelStore(self.store), self.blobs, actor or default_actor(self.settings),
            secret_guard=SecretValueGuard(self.redactor, self._record_audit),
        )

    def registry(self, actor: str | None = None) -> RegistryService:
        """The registry service acting as ``actor`` (default: the configured user)."""
        from steward.adapters.sql._deployment_store import SqlDeploymentStore
        from steward.adapters.sql._evaluation_store import SqlEvaluationStore
        from steward.adapters.sql._registry_store import SqlRegistryStore
        from steward.evaluation import GateGuard
        from steward.registry import RegistryService
        from steward.stewardship._guard import ServingRetirementGuard

        who = actor or default_actor(self.settings)
        return RegistryService(
            SqlRegistryStore(self.store), self.tracking(who), who, require_approval=self.settings.require_approval,
            # team mode: authenticated callers are distinct people, so authors never approve
            separation_of_duties=self.settings.separation_of_duties and self.settings.auth == "on",
            promotion_guard=GateGuard(SqlEvaluationStore(self.store)),  # a failed gate blocks production
            retirement_guard=ServingRetirementGuard(SqlDeploymentStore(self.store)),  # a serving version is not retired
        )

    def timeline(self) -> TimelineService:
        """A registered model's history, read from the audit trail (reads only: no actor)."""
        from steward.adapters.sql._timeline_store import SqlTimelineStore
        from steward.registry import TimelineService

        return TimelineService(SqlTimelineStore(self.store))

    def data(self, actor: str | None = None) -> DataService:
        """The data service (dataset versions, profiles, lineage) acting as ``actor``."""
        from steward.adapters.sql._data_store import SqlDataStore
        from steward.data import DataService

        return DataService(SqlDataStore(self.store), self.blobs, actor or default_actor(self.settings))

    def uploads(self, actor: str | None = None) -> UploadService:
        """Resumable upload sessions of ``actor`` (chunks staged in the artifact store)."""
        from steward.adapters.artifacts._upload_parts import UploadPartFiles
        from steward.adapters.sql._upload_store import SqlUploadStore
        from steward.data._uploads import UploadService

        return UploadService(
            SqlUploadStore(self.store), UploadPartFiles(self.blobs), actor or default_actor(self.settings),
            max_chunk_bytes=self.settings.max_request_bytes,
        )

    def validation(self, actor: str | None = None) -> ValidationService:
        """The validation service (suites, validation, skew) acting as ``actor``."""
        from steward.adapters.sql._validation_store import SqlValidationStore
        from steward.data._validation_service import ValidationService

        who = actor or default_actor(self.settings)
        return ValidationService(SqlValidationStore(self.store), self.data(who), who)

    def evaluation(self, actor: str | None = None) -> EvaluationService:
        """The evaluation service (evaluations, gates, overrides, model cards) acting as ``actor``."""
        from steward.adapters.sql._evaluation_store import SqlEvaluationStore
        from steward.evaluation import EvaluationService

        who = actor or default_actor(self.settings)
        return EvaluationService(SqlEvaluationStore(self.store), self.registry(who), self.data(who), self.governance(who), self.store, who)

    def deployments(self, actor: str | None = None) -> DeploymentService:
        """The deployments service (traffic plans, rollouts, serving stats) acting as ``actor``.

        A version is refused when retired, unapproved while approval is required, or when
        its latest gate failed, and it must load here (in-process) before it takes traffic.
        """
        from steward.adapters.sql._deployment_store import SqlDeploymentStore
        from steward.adapters.sql._evaluation_store import SqlEvaluationStore
        from steward.adapters.sql._serving_features_store import SqlDeploymentFeatureStore
        from steward.evaluation import GateGuard
        from steward.serving._deployments import DeploymentService

        registry = self.registry(actor)
        return DeploymentService(
            SqlDeploymentStore(self.store), registry, registry.actor, require_approval=self.settings.require_approval,
            gate_guard=GateGuard(SqlEvaluationStore(self.store)), loader=lambda ref: registry.load(ref),
            rollout_interval=self.settings.rollout_interval,
            # serving-time feature lookup: declared features are checked against the feature store
            feature_store=SqlDeploymentFeatureStore(self.store), feature_check=lambda refs: self.features(registry.actor).check_refs(refs),
        )

    def stewardship(self, actor: str | None = None) -> Any:  # Any: steward.stewardship.StewardshipService
        """Model stewardship (owners and on-call, retirement, rollback drills) acting as ``actor``."""
        from pathlib import Path

        from steward.adapters.sql._stewardship_store import SqlStewardshipStore
        from steward.stewardship import StewardshipService

        deployments = self.deployments(actor)
        return StewardshipService(
            SqlStewardshipStore(self.store), deployments.registry, deployments, deployments.actor,
            retention=self.settings.retention, archive_dir=Path(self.settings.resolved_home()) / "archive",
        )

    def governance(self, actor: str | None = None) -> GovernanceService:
        """The governance service (users, tokens, roles) acting as ``actor``."""
        from steward.adapters.sql._governance_store import SqlGovernanceStore
        from steward.governance import GovernanceService

        return GovernanceService(
            SqlGovernanceStore(self.store), actor or default_actor(self.settings), max_token_days=self.settings.max_token_days
        )

    def auth_failures(self) -> AuthFailureStore:
        """Failed logins in the metadata store, counted together by every server replica."""
        from steward.adapters.sql._auth_failures import SqlAuthFailureStore

        return SqlAuthFailureStore(self.store)

    def audit(self, *, create_key: bool = False) -> AuditChainService:
        """Verification, export and signed head checkpoints of the hash-chained audit trail;
        auditing of refusals.

        Args:
            create_key: writing checkpoints may create the master key file (embedded SQLite
                store only, as secrets do); verification never creates one.
        """
        from steward.adapters.artifacts import ArtifactCheckpointStore
        from steward.adapters.sql._audit import SqlAuditStore
        from steward.governance import AuditChainService, find_master_key

        return AuditChainService(
            SqlAuditStore(self.store), ArtifactCheckpointStore(self.blobs), lambda: find_master_key(self.settings, create=create_key)
        )

    def checkpoint_audit_quietly(self) -> None:
        """Checkpoint the audit head if it moved; a failure is logged (debug), never raised.

        For the end of a process and the server's schedule: a missing checkpoint only
        weakens truncation detection, it must not fail the work that was done.
        """
        try:
            self.audit(create_key=True).checkpoint()
        except Exception as exc:  # noqa: BLE001 - any store or key error (no master key on PostgreSQL): the work done stands
            logging.getLogger("steward.audit").debug("audit checkpoint not written: %s", exc)

    def secrets(self, actor: str | None = None) -> SecretsService:
        """Encrypted secrets acting as ``actor``.

        Raises:
            StorageError: no master key is configured and none may be created.
        """
        from steward.adapters.sql._secrets_store import SqlSecretsStore
        from steward.governance import SecretsService, load_master_key

        return SecretsService(
            SqlSecretsStore(self.store), load_master_key(self.settings), actor or default_actor(self.settings), self.redactor
        )

    def predictions(self, actor: str | None = None) -> PredictionService:
        """Reading the prediction log and attaching labels, acting as ``actor``."""
        from steward.adapters.artifacts._segment_files import PrefixFiles
        from steward.adapters.sql._prediction_store import SqlPredictionStore
        from steward.predictions import PredictionService

        files = PrefixFiles.beside(self.blobs)
        return PredictionService(SqlPredictionStore(self.store), files, actor or default_actor(self.settings))

    def monitors(self, actor: str | None = None) -> MonitorService:
        """Monitors of deployments (drift, quality, fairness, health per window) acting as ``actor``."""
        from steward.adapters.sql._monitor_store import SqlMonitorStore
        from steward.monitoring._monitors import MonitorService

        who = actor or default_actor(self.settings)
        return MonitorService(
            SqlMonitorStore(self.store), self.deployments(who), self.registry(who), self.data(who), self.predictions(who), who,
            price_per_cpu_hour=self.settings.monitor_price_per_cpu_hour, min_rows=self.settings.monitor_min_rows,
        )

    def prediction_log(self) -> PredictionLog:
        """The process's prediction log (a :class:`~steward.core.predictions.PredictionSink`),
        built on first call and closed (flushed) by :meth:`close`."""
        holder = self.prediction_log_holder
        with holder.lock:
            if holder.log is None:
                from steward.adapters.artifacts._segment_files import PrefixFiles
                from steward.adapters.sql._prediction_store import SqlPredictionStore
                from steward.predictions import LogOptions, PredictionLog

                files = PrefixFiles.beside(self.blobs)
                holder.log = PredictionLog(SqlPredictionStore(self.store), files, LogOptions.from_settings(self.settings))
            return holder.log

    def alert_runtime(self) -> AlertRuntime:
        """The process's alert gauges and background pool, built on first call."""
        from steward.monitoring._alert_service import AlertRuntime

        with self.prediction_log_holder.lock:
            if not self.alert_runtime_holder:
                self.alert_runtime_holder.append(AlertRuntime())
            return self.alert_runtime_holder[0]

    def alerts(self, actor: str | None = None) -> AlertService:
        """Alert rules' state, notifications (webhook secrets from the secrets store) and
        actions (rollback, retraining), acting as ``actor``."""
        from steward.adapters.sql._alert_store import SqlAlertStore
        from steward.monitoring._alert_service import AlertService

        who = actor or default_actor(self.settings)
        service = AlertService(
            SqlAlertStore(self.store), who, self.alert_runtime(), secret=lambda name: self.secrets(who).resolve(name),
            deployments=lambda: self.deployments(who), predictions=lambda: self.predictions(who), data=lambda: self.data(who),
        )
        service.contacts = lambda deployment: self.stewardship(who).contacts_for_deployment(deployment)
        return service

    def webhooks(self, actor: str | None = None) -> WebhookService:
        """Webhook subscriptions and their delivery (secrets encrypted under the master key), acting as ``actor``."""
        from steward.adapters.sql._webhook_store import SqlWebhookStore
        from steward.governance import load_master_key
        from steward.webhooks import WebhookService

        return WebhookService(
            SqlWebhookStore(self.store), lambda: load_master_key(self.settings), actor or default_actor(self.settings),
            redactor=self.redactor, public_only=not self.settings.private_urls_allowed(),
        )

    def triggers(self, actor: str | None = None) -> TriggerService:
        """Triggers of pipelines (cron, dataset versions, alerts, registry events) acting as ``actor``;
        their pipelines run in this process on this store, as the trigger's creator."""
        from steward.adapters.sql._trigger_store import SqlTriggerStore
        from steward.triggers import TriggerService
        from steward.triggers._launch import in_process_launcher, window_registrar

        who = actor or default_actor(self.settings)
        return TriggerService(
            SqlTriggerStore(self.store), who, in_process_launcher(self.settings),
            window_registrar(lambda: self.predictions(who), lambda: self.data(who)),
        )

    def online_store(self) -> OnlineStore:
        """The process's online feature store (``online_store`` setting), opened on first call."""
        with self.prediction_log_holder.lock:
            if not self.online_store_holder:
                from steward.adapters.online import open_online_store

                self.online_store_holder.append(open_online_store(self.settings.resolved_online_store()))
            return self.online_store_holder[0]

    def features(self, actor: str | None = None) -> FeatureService:
        """The feature store (definitions, history, materialisation, online lookup) acting as ``actor``."""
        from steward.adapters.sql._feature_store import SqlFeatureRegistry
        from steward.features import FeatureService, StewardSources, ViewCache, sql_table

        with self.prediction_log_holder.lock:
            if not self.feature_view_cache_holder:
                self.feature_view_cache_holder.append(ViewCache())
        who = actor or default_actor(self.settings)
        sources = StewardSources(
            lambda ref: self.data(who).scan(ref).collect().to_arrow(), lambda query: sql_table(self.store.engine, query),
            s3_endpoint=self.settings.s3_endpoint_url,
        )
        return FeatureService(
            SqlFeatureRegistry(self.store), self.online_store, sources, who, datasets=lambda: self.data(who),
            memory_limit=self.settings.feature_memory_limit, view_cache=self.feature_view_cache_holder[0],
        )

    def close(self) -> None:
        for store in self.online_store_holder:
            store.close()
        for runtime in self.alert_runtime_holder:
            runtime.close()  # webhook deliveries in flight record their outcome in the store
        if self.prediction_log_holder.log is not None:
            self.prediction_log_holder.log.close()  # before the store: the last segment is indexed there
        if self.blobs.is_local and self.store.wrote:
            # a CLI command or script that appended audit entries leaves its head signed; only
            # for a local store, so that closing never waits on an unreachable object store
            # (and only after writing: a read-only command such as `runs list` has nothing to sign)
            self.checkpoint_audit_quietly()
        self.store.close()


def default_actor(settings: Settings) -> str:
    if settings.user:
        return settings.user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def build_services(settings: Settings) -> Services:
    """Open the metadata store (migrating it when needed) and the artifact store."""
    options: dict[str, Any] = {}  # Any: fsspec storage options vary by protocol
    if settings.s3_endpoint_url:
        options["endpoint_url"] = settings.s3_endpoint_url
    store = SqlStore(settings.resolved_database_url(), busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    blobs = ContentAddressedStore(settings.resolved_artifact_root(), options or None)
    return Services(settings, store, blobs)


def registry_for(tracking: TrackingService, *, require_approval: bool = True) -> RegistryService:
    """A registry service over the same store as an embedded tracking service
    (``run.log_model(..., registered_model_name=...)`` uses it)."""
    from steward.adapters.sql._registry_store import SqlRegistryStore
    from steward.registry import RegistryService

    if not isinstance(tracking.store, SqlStore):
        raise TypeError("registry_for needs a tracking service on a SqlStore")
    return RegistryService(SqlRegistryStore(tracking.store), tracking, tracking.actor, require_approval=require_approval)
