"""Serving and safe rollout: the inference server, deployments, rollout control, batch scoring."""

from __future__ import annotations

__all__: list[str] = []
