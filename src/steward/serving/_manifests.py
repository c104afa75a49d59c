"""Kubernetes manifests for the serving processes of one deployment.

``steward deploy manifests fraud-api --out k8s/`` writes four files:

- ``configmap.yaml``: the non-secret settings of the serving processes (``STEWARD_*``);
- ``deployment.yaml``: pods running ``steward serve --deployment fraud-api`` from the image
  built from the primary version's bundle (``steward models package`` writes its
  Dockerfile), ready when ``/v2/health/ready`` answers, settings from the ConfigMap and a
  Secret (the store URL, tokens) through ``envFrom``;
- ``service.yaml``: a ClusterIP Service in front of the pods;
- ``hpa.yaml``: an ``autoscaling/v2`` HorizontalPodAutoscaler on CPU.

The Secret itself is never written: its values belong in the cluster, not in files.
Every replica follows the deployment's plan in the metadata store, so traffic changes
need no new manifests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from steward.errors import InvalidInputError

from ._ports import Deployment

__all__ = ["ManifestOptions", "render_manifests", "write_manifests"]

JSON = dict[str, Any]  # Any: Kubernetes objects are JSON documents
_IMAGE = re.compile(r"[a-z0-9][a-z0-9._/:@-]{0,254}")
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@dataclass(frozen=True, slots=True)
class ManifestOptions:
    """What the manifests may vary.

    Attributes:
        image: the serving image; default ``steward-<model>:<version>`` of the primary,
            built with ``docker build -t <image> <bundle>`` from ``steward models package``.
        namespace: the Kubernetes namespace (None: the kubectl context's).
        replicas: replicas at start (the autoscaler's minimum).
        max_replicas: the autoscaler's maximum.
        workers: worker processes per pod (``steward serve --workers``).
        port: the container port.
        cpu: CPU request per pod (and the autoscaler's reference), e.g. ``500m``.
        memory: memory request and limit per pod, e.g. ``1Gi``.
        target_cpu_percent: the autoscaler's target CPU utilisation.
        secret: the Secret holding the store URL and other secret settings.
    """

    image: str | None = None
    namespace: str | None = None
    replicas: int = 2
    max_replicas: int = 10
    workers: int = 2
    port: int = 8080
    cpu: str = "500m"
    memory: str = "1Gi"
    target_cpu_percent: int = 70
    secret: str | None = None


def _check(options: ManifestOptions) -> None:
    if options.image is not None and not _IMAGE.fullmatch(options.image):
        raise InvalidInputError("image must be an image reference such as registry.example.com/fraud:5", field="image")
    for name in (options.namespace, options.secret):
        if name is not None and (len(name) > 63 or not _K8S_NAME.fullmatch(name)):
            raise InvalidInputError(f"{name[:70]!r} is not a Kubernetes name (lowercase letters, digits, '-')", field="namespace")
    if not 1 <= options.replicas <= options.max_replicas <= 1000:
        raise InvalidInputError("replicas must be at least 1 and at most max_replicas (at most 1000)", field="replicas")
    if not 1 <= options.workers <= 64:
        raise InvalidInputError("workers must be between 1 and 64", field="workers")
    if not 1 <= options.port <= 65535:
        raise InvalidInputError("port must be between 1 and 65535", field="port")
    if not 1 <= options.target_cpu_percent <= 100:
        raise InvalidInputError("target_cpu_percent must be between 1 and 100", field="target_cpu_percent")
    for field, value in (("cpu", options.cpu), ("memory", options.memory)):
        if not re.fullmatch(r"\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G)?", value):
            raise InvalidInputError(f"{field} must be a Kubernetes quantity such as 500m or 1Gi", field=field)


def render_manifests(deployment: Deployment, options: ManifestOptions | None = None) -> dict[str, JSON]:
    """The four manifests of ``deployment`` as JSON documents, keyed by file name.

    Raises:
        InvalidInputError: an option Kubernetes would refuse, naming it.
    """
    opts = options or ManifestOptions()
    _check(opts)
    name = deployment.name
    primary = deployment.variant("primary")
    model = primary.model if primary is not None else name
    image = opts.image or f"steward-{model.replace(':', ':v', 1)}"
    secret = opts.secret or f"{name}-settings"
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "serving", "app.kubernetes.io/managed-by": "steward"}
    meta: JSON = {"name": name, "labels": labels}
    if opts.namespace:
        meta["namespace"] = opts.namespace
    probe = {"periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 3}
    config_map: JSON = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {**meta, "name": f"{name}-config"},
        "data": {
            "STEWARD_AUTH": "on",
            "STEWARD_CAPTURE_GIT": "false",
            "STEWARD_ROLLOUT_INTERVAL": "5",
        },
    }
    container: JSON = {
        "name": "serve",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["steward", "serve", "--deployment", name, "--host", "0.0.0.0", "--port", str(opts.port), "--workers", str(opts.workers)],
        "ports": [{"name": "http", "containerPort": opts.port, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": f"{name}-config"}}, {"secretRef": {"name": secret}}],
        "readinessProbe": {"httpGet": {"path": "/v2/health/ready", "port": "http"}, "initialDelaySeconds": 5, **probe},
        "livenessProbe": {"httpGet": {"path": "/v2/health/live", "port": "http"}, "initialDelaySeconds": 10, **probe},
        "resources": {"requests": {"cpu": opts.cpu, "memory": opts.memory}, "limits": {"memory": opts.memory}},
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False},
    }
    k8s_deployment: JSON = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {**meta, "annotations": {"steward.dev/model": model, "steward.dev/plan-revision": str(deployment.plan.revision)}},
        "spec": {
            "replicas": opts.replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels},
                # a graceful stop drains in-flight requests before the pod goes
                "spec": {"terminationGracePeriodSeconds": 30, "containers": [container]},
            },
        },
    }
    service: JSON = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    hpa: JSON = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": opts.replicas,
            "maxReplicas": opts.max_replicas,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": opts.target_cpu_percent}}}
            ],
        },
    }
    return {"configmap.yaml": config_map, "deployment.yaml": k8s_deployment, "service.yaml": service, "hpa.yaml": hpa}


def write_manifests(deployment: Deployment, out: Path, options: ManifestOptions | None = None) -> list[Path]:
    """Write the manifests of ``deployment`` into the folder ``out`` (created when missing).

    Returns:
        The files written.

    Raises:
        InvalidInputError: a bad option, or ``out`` cannot be written.
    """
    documents = render_manifests(deployment, options)
    header = (
        f"# Generated by Steward for deployment {deployment.name} (plan revision {deployment.plan.revision}).\n"
        f"# Settings such as STEWARD_DATABASE_URL come from the Secret named in deployment.yaml's envFrom.\n"
    )
    written: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for file_name, document in documents.items():
            path = out / file_name
            path.write_text(header + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise InvalidInputError(f"cannot write the manifests to {str(out)[:300]!r}: {exc.strerror}", field="out") from exc
    return written
