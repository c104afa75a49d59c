"""Traffic plans: which model versions a deployment's requests reach, and in what shares.

A deployment's plan is what every serving process follows. The deployments service
(``steward.serving``) stores and changes it; the inference server reads it and routes each
request with :func:`choose_variant`. No I/O here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["LATENCY_BUCKETS_MS", "TrafficPlan", "Variant", "VariantStats", "choose_variant"]

# Upper bounds (ms) of the latency histogram every serving process reports; the last is +inf.
LATENCY_BUCKETS_MS: tuple[float, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, float("inf"))


@dataclass(frozen=True, slots=True)
class Variant:
    """One model version behind a deployment.

    Attributes:
        name: ``primary``, ``candidate`` or ``shadow`` (blue-green keeps ``previous`` loaded).
        model: the resolved version reference, ``name:version`` (e.g. ``fraud:3``).
        weight: share of live traffic in percent (0-100); a shadow has 0.
        shadow: mirrored asynchronously; its answer is logged, never returned.
    """

    name: str
    model: str
    weight: float
    shadow: bool = False


@dataclass(frozen=True, slots=True)
class TrafficPlan:
    """The routing of one deployment at one revision (revisions only grow)."""

    deployment: str
    revision: int
    variants: tuple[Variant, ...]
    sticky_key: str | None = None  # a request field: the same value always reaches the same variant

    @property
    def live(self) -> tuple[Variant, ...]:
        """Variants that answer requests (weight > 0, not shadows)."""
        return tuple(v for v in self.variants if not v.shadow and v.weight > 0)

    @property
    def shadows(self) -> tuple[Variant, ...]:
        return tuple(v for v in self.variants if v.shadow)


def _unit_interval(key: str) -> float:
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def choose_variant(plan: TrafficPlan, key: str | None, draw: float) -> Variant:
    """The live variant that answers one request.

    Args:
        plan: the deployment's current plan (at least one live variant).
        key: the request's sticky-key value, if the plan has a sticky key and the request
            carries it: hashed, so the same key always lands on the same variant while the
            weights stay the same.
        draw: a uniform number in [0, 1) used when there is no key.

    Raises:
        ValueError: the plan has no live variant.
    """
    live = plan.live
    if not live:
        raise ValueError(f"deployment {plan.deployment!r} has no live variant")
    point = (_unit_interval(f"{plan.deployment}\x00{key}") if key is not None else draw) * sum(v.weight for v in live)
    for variant in live:
        point -= variant.weight
        if point < 0:
            return variant
    return live[-1]


@dataclass(frozen=True, slots=True)
class VariantStats:
    """What one serving process saw of one variant over one window.

    Serving processes report these periodically; the rollout controller sums them over
    every replica to compare a candidate with the primary.

    Attributes:
        latency_counts: request counts per bucket of :data:`LATENCY_BUCKETS_MS`.
        cpu_ms: CPU milliseconds the model calls of the answered requests took (measured).
        rows: rows those requests predicted.
    """

    deployment: str
    revision: int
    variant: str
    model: str
    window_start_ms: int
    window_end_ms: int
    requests: int
    errors: int
    latency_counts: tuple[int, ...]
    cpu_ms: float = 0.0
    rows: int = 0
