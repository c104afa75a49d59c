"""The deployment files of docs/deploy.md: replicas that share one database, bucket and key.

``deploy/compose.yaml`` (PostgreSQL, MinIO, two replicas, nginx) and
``deploy/k8s/steward-server.yaml`` (a Deployment of two replicas, its Service, settings)
are parsed here: every replica must get the same store settings, every ``STEWARD_*`` name
must be a real setting, and the Kubernetes documents must pass the Kubernetes schemas.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from steward.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SHARED = (
    "STEWARD_DATABASE_URL", "STEWARD_ARTIFACT_ROOT", "STEWARD_S3_ENDPOINT_URL", "STEWARD_MASTER_KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
)


def _known(name: str) -> bool:
    return name.startswith("AWS_") or (name.startswith("STEWARD_") and name[8:].lower() in Settings.model_fields)


def _compose() -> dict[str, Any]:
    """The compose file with its ``${VAR:?message}`` variables filled in, as compose does."""
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?<!\$)\$\{(\w+)(?::?[-?][^}]*)?\}", lambda m: f"value-of-{m.group(1).lower()}", text)
    loaded: dict[str, Any] = yaml.safe_load(text.replace("$$", "$"))
    return loaded


def test_the_compose_replicas_share_the_database_the_bucket_and_the_master_key() -> None:
    services = _compose()["services"]
    replicas = {name: s for name, s in services.items() if name.startswith("steward-")}
    assert len(replicas) >= 2
    envs = [r["environment"] for r in replicas.values()]
    for key in SHARED:
        assert all(env.get(key) == envs[0][key] for env in envs), key
    for env in envs:
        assert all(_known(name) for name in env), [n for n in env if not _known(n)]
        assert env["STEWARD_AUTH"] == "on"
    database, endpoint = urlparse(envs[0]["STEWARD_DATABASE_URL"]), urlparse(envs[0]["STEWARD_S3_ENDPOINT_URL"])
    assert database.scheme == "postgresql+psycopg" and database.hostname in services
    assert endpoint.hostname in services
    bucket = urlparse(envs[0]["STEWARD_ARTIFACT_ROOT"]).netloc
    assert f"store/{bucket}" in " ".join(services["bucket"]["command"])
    for replica in replicas.values():
        assert replica["command"][:2] == ["steward", "server"]
        assert replica["healthcheck"]["test"][-1].endswith("/readyz')")


def test_the_proxy_sends_to_every_replica_and_the_replicas_trust_only_its_network() -> None:
    compose = _compose()
    replicas = sorted(name for name in compose["services"] if name.startswith("steward-"))
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert sorted(re.findall(r"server (steward-\d+):5000", nginx)) == replicas
    assert "X-Forwarded-For" in nginx
    subnet = ipaddress.ip_network(compose["networks"]["steward"]["ipam"]["config"][0]["subnet"])
    for name in replicas:
        trusted = compose["services"][name]["environment"]["STEWARD_TRUSTED_PROXIES"]
        assert ipaddress.ip_network(trusted) == subnet
    assert "8080:80" in compose["services"]["proxy"]["ports"]


def test_the_kubernetes_manifests_validate_and_run_two_replicas_on_one_configuration() -> None:
    import kubernetes_validate

    documents = [d for d in yaml.safe_load_all((DEPLOY / "k8s" / "steward-server.yaml").read_text(encoding="utf-8")) if d]
    for document in documents:
        kubernetes_validate.validate(document, "1.29", strict=True)
    kinds = {d["kind"]: d for d in documents}
    assert set(kinds) == {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget"}
    deployment = kinds["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["command"][:2] == ["steward", "server"]
    # one ConfigMap and one Secret for every pod: the replicas cannot differ
    assert container["envFrom"] == [
        {"configMapRef": {"name": kinds["ConfigMap"]["metadata"]["name"]}},
        {"secretRef": {"name": "steward-server-secrets"}},
    ]
    assert "env" not in container
    assert all(_known(name) for name in kinds["ConfigMap"]["data"])
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    labels = pod["metadata"]["labels"]
    assert kinds["Service"]["spec"]["selector"] == labels == kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"]
