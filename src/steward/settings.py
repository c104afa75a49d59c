"""The one settings object.

Built once at start-up (``Settings()`` reads ``STEWARD_*`` environment variables) and
passed down; nothing else in Steward reads ``os.environ``.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Effective configuration of a Steward process.

    Every field maps to the environment variable ``STEWARD_<FIELD>``.
    """

    model_config = SettingsConfigDict(env_prefix="STEWARD_", extra="ignore")

    home: Path = Field(
        default=Path(".steward"),
        description="Folder of the embedded store: SQLite file and local artifacts.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata store; default sqlite under `home`. "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    artifact_root: str | None = Field(
        default=None,
        description="Folder or fsspec URL (s3://bucket/prefix) of the artifact store; "
        "default `home`/artifacts.",
    )
    tracking_uri: str | None = Field(
        default=None,
        description="Where the SDK and CLI send work: an http(s):// server URL, or a local "
        "folder used as `home`. Unset: the embedded store under `home`.",
    )
    http_timeout: float = Field(
        default=60.0, gt=0, le=3600,
        description="Seconds the SDK and CLI wait for a server to answer one request (exit 6 past it).",
    )
    user: str | None = Field(
        default=None,
        description="Actor recorded in the audit trail for embedded use; default the OS user.",
    )
    token: SecretStr | None = Field(
        default=None, description="API token sent to a Steward server."
    )
    flush_interval: float = Field(
        default=0.5,
        gt=0,
        le=1.0,
        description="Seconds between background flushes of buffered metrics (at most 1 s).",
    )
    flush_max_points: int = Field(
        default=50_000,
        gt=0,
        description="Buffered metric points that trigger an immediate flush.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="How long SQLite waits for a lock before failing."
    )
    capture_packages: bool = Field(
        default=True, description="Record the installed packages with every run."
    )
    capture_git: bool = Field(
        default=True, description="Record git commit, dirty flag and diff with every run."
    )
    max_request_bytes: int = Field(
        default=64 * 1024 * 1024, gt=0, description="Largest request body the server accepts."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of an S3-compatible store (MinIO, SeaweedFS)."
    )
    auth: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Server authentication: on, off, or auto (on when the server binds a "
        "non-loopback address or uses PostgreSQL). Embedded use never needs a login.",
    )
    allow_private_urls: bool | None = Field(
        default=None,
        description="Whether webhooks may call loopback, private, link-local or reserved addresses; "
        "default: allowed when authentication is off (one trusted user), refused when it is on.",
    )
    separation_of_duties: bool = Field(
        default=True,
        description="In team mode (authentication on) the author of a model version cannot approve it.",
    )
    credentials_file: Path | None = Field(
        default=None,
        description="File of API tokens written by `steward login` (0600); default "
        "`home`/credentials when STEWARD_HOME is set, else ~/.config/steward/credentials.",
    )
    project: str | None = Field(
        default=None,
        description="The project new experiments, datasets, suites and models of this process belong to "
        "(default: each one's own name). Role bindings grant access per project.",
        min_length=1,
        max_length=250,
    )
    require_approval: bool = Field(
        default=True,
        description="A model version needs a recorded approval before it can move to production.",
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="Master key that encrypts stored secrets: 32 random bytes, url-safe "
        "base64 (`steward secrets keygen`). Unset: read from `master_key_file`.",
    )
    master_key_file: Path | None = Field(
        default=None,
        description="File holding the master key (mode 0600); default `home`/master.key, "
        "created on first use for the embedded SQLite store only.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the server from a browser (CORS); empty: CORS off. "
        'As JSON: ["https://ui.example.com"].',
    )
    auth_max_failures: int = Field(
        default=10,
        gt=0,
        description="Failed logins per client address within `auth_failure_window` before the "
        "server answers 429 (per user name, from all addresses together: five times as many). "
        "A valid API token is still accepted from a limited address; a password is not checked. "
        "Counted in the database: server replicas count together.",
    )
    auth_failure_window: int = Field(
        default=300, gt=0, description="Seconds over which failed authentications are counted."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For "
        "header is believed, comma-separated or as JSON; empty (the default): the header is "
        "ignored and the connecting address is the client's. Also passed to uvicorn as "
        "`forwarded_allow_ips`.",
    )
    max_token_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Longest lifetime, in days, of an API token created by anyone but an "
        "administrator; non-administrators cannot create tokens that never expire.",
    )
    audit_checkpoint_interval: float = Field(
        default=60.0,
        gt=0,
        description="Seconds between the server's signed checkpoints of the audit trail's head "
        "(kept in the artifact store; `steward audit verify` detects entries cut off the end).",
    )
    retention: Literal["keep", "archive"] = Field(
        default="keep",
        description="What retiring a model version does with its files: keep them where they are, "
        "or archive a self-contained bundle under `home`/archive (the blobs stay; the record says where).",
    )
    rollout_interval: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Seconds between two looks of a deployment's rollout controller (advance, "
        "hold or roll back); a rollout policy's `interval` overrides it. The controller's lease "
        "lasts three intervals, so a replica takes over that long after the holder dies.",
    )
    monitor_interval: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds between two looks of the server's monitor runner for monitors whose "
        "schedule is due; each due monitor is run under a lease (three intervals) so that one "
        "replica runs it.",
    )
    alert_rules: Path | None = Field(
        default=None,
        description="YAML alert rules (`steward check` validates them) that the server's monitor "
        "runner evaluates with every window it computes; unset: no alerts are evaluated.",
    )
    monitor_min_rows: int = Field(
        default=100,
        gt=0,
        description="Default fewest rows (and labelled rows, for quality and fairness) a monitor's "
        "window needs; fewer is reported as insufficient data, never as drift.",
    )
    monitor_price_per_cpu_hour: float = Field(
        default=0.05,
        ge=0,
        description="Price of one CPU-hour, for a monitor's cost per 1,000 predictions (from the "
        "CPU-seconds the serving process measured around each model call).",
    )
    prediction_sample_rate: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Fraction of served requests whose predictions are logged, decided per "
        "request (0: none, 1: all).",
    )
    prediction_log_inputs: bool = Field(
        default=True,
        description="Log each prediction's input features; off keeps only outputs, ids, "
        "versions and times (privacy).",
    )
    prediction_segment_max_rows: int = Field(
        default=100_000, gt=0, description="Rows after which a prediction log segment is written and a new one begun."
    )
    prediction_segment_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        gt=0,
        description="Estimated uncompressed size after which a prediction log segment is written.",
    )
    prediction_segment_max_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Seconds after its first row that a prediction log segment is written; "
        "what a crash can lose at most.",
    )
    prediction_queue_size: int = Field(
        default=10_000,
        gt=0,
        description="Requests waiting for the prediction log's writer; beyond it their "
        "predictions are dropped and counted, never slowing a response.",
    )
    serve_max_batch_size: int = Field(
        default=64,
        gt=0,
        description="Most rows the inference server merges into one model call (micro-batching); "
        "a single request with more rows runs alone.",
    )
    serve_max_wait_ms: float = Field(
        default=5.0,
        ge=0,
        description="Longest the inference server holds a request waiting for others to join its "
        "batch (only while more requests are being read; 0: never wait).",
    )
    serve_max_request_bytes: int = Field(
        default=32 * 1024 * 1024, gt=0, description="Largest request body the inference server accepts (413 beyond)."
    )
    serve_plan_interval: float = Field(
        default=2.0,
        gt=0,
        description="Seconds between two reads of a served deployment's traffic plan (`steward serve --deployment`).",
    )
    serve_stats_interval: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between two reports of per-variant request counts and latencies to the store.",
    )
    online_store: str | None = Field(
        default=None,
        description="Online feature store: redis://host:6379/0 (team mode) or sqlite:///path; "
        "unset: the SQLite file `home`/features-online.db.",
    )
    feature_memory_limit: str = Field(
        default="1GB",
        description="Memory DuckDB may use for a point-in-time retrieval or a materialisation before it spills to disk.",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        """Accept ``10.0.0.1,10.0.1.0/24`` as well as a JSON list; refuse what is not an address."""
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [p for p in text.split(",") if p.strip()]
        if isinstance(value, list | tuple):
            cleaned = []
            for item in value:
                entry = str(item).strip()
                ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
                cleaned.append(entry)
            return cleaned
        return value

    def resolved_home(self) -> Path:
        """The store folder: `tracking_uri` when it is a local path, else `home`."""
        uri = self.tracking_uri
        if uri and not uri.startswith(("http://", "https://")):
            return Path(uri.removeprefix("file://"))
        return self.home

    def resolved_database_url(self) -> str:
        """The metadata store URL, defaulting to ``sqlite:///<home>/steward.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.resolved_home() / 'steward.db').resolve()}"

    def resolved_online_store(self) -> str:
        """The online feature store URL, defaulting to ``sqlite:///<home>/features-online.db``."""
        if self.online_store:
            return self.online_store
        return f"sqlite:///{(self.resolved_home() / 'features-online.db').resolve()}"

    def resolved_artifact_root(self) -> str:
        """The artifact store root, defaulting to ``<home>/artifacts``."""
        if self.artifact_root:
            return self.artifact_root
        return str((self.resolved_home() / "artifacts").resolve())

    def is_remote(self) -> bool:
        """True when the SDK must talk to a Steward server over HTTP."""
        return bool(self.tracking_uri and self.tracking_uri.startswith(("http://", "https://")))

    def auth_required(self) -> bool:
        """Whether a server built from these settings authenticates callers.

        ``auto`` turns it on for PostgreSQL; ``steward server`` also turns it on for a
        non-loopback address by passing ``auth="on"`` down.
        """
        if self.auth != "auto":
            return self.auth == "on"
        return self.resolved_database_url().startswith("postgresql")

    def private_urls_allowed(self) -> bool:
        """Whether outbound calls to caller-given URLs may reach non-public addresses (see ``allow_private_urls``)."""
        if self.allow_private_urls is not None:
            return self.allow_private_urls
        return not self.auth_required()

    def resolved_master_key_file(self) -> Path:
        """Where the master key file is (or will be created): ``master_key_file`` or ``home``/master.key."""
        if self.master_key_file is not None:
            return self.master_key_file
        return self.resolved_home() / "master.key"

    def resolved_credentials_file(self) -> Path:
        """Where ``steward login`` keeps tokens."""
        if self.credentials_file is not None:
            return self.credentials_file
        if "home" in self.model_fields_set:
            return self.home / "credentials"
        return Path.home() / ".config" / "steward" / "credentials"

    def resolved_token(self) -> str | None:
        """The API token to send: ``token``, else the one `steward login` saved for ``tracking_uri``."""
        if self.token is not None:
            return self.token.get_secret_value()
        path = self.resolved_credentials_file()
        if not self.tracking_uri or not path.is_file():
            return None
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        entry = saved.get("servers", {}).get(self.tracking_uri.rstrip("/")) if isinstance(saved, dict) else None
        token = entry.get("token") if isinstance(entry, dict) else None
        return token if isinstance(token, str) else None
