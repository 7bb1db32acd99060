"""How long a server's pods may take to become ready, and how long the controllers that wait for them must wait.

A model server loads its weights before it answers: its startup probe allows ``initialDelaySeconds +
failureThreshold x periodSeconds`` (the kubelet restarts the container after that; Kubernetes' defaults: 0, 3 and
10 s), and without one its readiness probe's first verdict comes after the same sum. Whatever waits for the rollout
must wait at least that long:

- a Deployment's ``progressDeadlineSeconds`` (default 600): past it, the Deployment reports ProgressDeadlineExceeded,
  which kstatus reads as Failed (fluxcd/cli-utils pkg/kstatus/status/core.go ``deploymentConditions``), so a health
  check gives up even while the pods are still loading;
- a Flux Kustomization's health-check ``timeout`` (default: its interval minus 30 s; fluxcd/kustomize-controller
  v1.9.4 api/v1/kustomization_types.go ``GetTimeout``): past it, ``HealthCheckFailed``.

Render derives both from these windows; lint (rule flux-health-timeout) compares them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

PROBE_DEFAULTS = {"initialDelaySeconds": 0, "failureThreshold": 3, "periodSeconds": 10}
PROGRESS_DEADLINE_DEFAULT = 600
"""A Deployment's spec.progressDeadlineSeconds when unset (seconds)."""
MARGIN_SECONDS = 300
"""Added to the longest window: image pulls and init containers (weights downloads) come before the probes."""
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def _seconds(probe: Mapping[str, Any], key: str) -> int:
    value = probe.get(key, PROBE_DEFAULTS[key])
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else PROBE_DEFAULTS[key]


def probe_window(probe: Any) -> int:
    """Seconds a probe keeps trying before its verdict: initialDelaySeconds + failureThreshold x periodSeconds."""
    if not isinstance(probe, dict):
        return 0
    return _seconds(probe, "initialDelaySeconds") + _seconds(probe, "failureThreshold") * _seconds(probe, "periodSeconds")


def startup_window(pod_spec: Mapping[str, Any]) -> int:
    """The longest any container of the pod may take to become ready (seconds): its startup probe's window, else its
    readiness probe's; 0 for a pod without probes."""
    longest = 0
    containers = pod_spec.get("containers")
    for container in containers if isinstance(containers, list) else []:
        if not isinstance(container, dict):
            continue
        probe = container.get("startupProbe") or container.get("readinessProbe")
        longest = max(longest, probe_window(probe))
    return longest


def wait_for(window: int) -> int:
    """What a rollout of pods with a ``window``-second startup needs waited for: the window plus a margin, whole minutes."""
    return math.ceil((window + MARGIN_SECONDS) / 60) * 60


def duration_seconds(text: str) -> float | None:
    """A Go duration such as '5m' or '1h30m' in seconds (None when it is not one)."""
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def minutes(seconds: int) -> str:
    """Whole minutes as a Go duration ('35m'; hours when even: '2h')."""
    whole = math.ceil(seconds / 60)
    return f"{whole // 60}h" if whole % 60 == 0 and whole >= 60 else f"{whole}m"
