"""Autoscalers of a workload's replica count: the bounds an HPA or a KEDA ScaledObject accepts, who owns the count
once one scales it, and how many may scale one target.

Each fact has this one implementation; render's spec checks (``spec/serving_checks.py``, ``spec/server_checks.py``:
a server's ``autoscaling``/``keda`` against its ``replicas``; ``spec/ray_checks.py``: worker groups under the Ray
autoscaler) and lint's rules (``hpa-replicas``,
``hpa-keda-conflict`` in ``policy/checks/autoscaling.py``) call it and word their own messages from the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

HPA = "HorizontalPodAutoscaler"
SCALED_OBJECT = "ScaledObject"
KEDA_MIN_REPLICAS = 0
"""A ScaledObject's minReplicaCount when unset (KEDA may scale the target to zero)."""
KEDA_MAX_REPLICAS = 100
"""A ScaledObject's maxReplicaCount when unset."""
KEDA_HPA_PREFIX = "keda-hpa-"
"""KEDA names the HPA it creates for a ScaledObject ``keda-hpa-<name>``: that one is not a second autoscaler."""


@dataclass(frozen=True)
class ReplicaBounds:
    """The fewest (``low``) and most (``high``) replicas an autoscaler keeps its target at, as its controller
    reads them: defaults filled in, and KEDA's explicit ``minReplicaCount: 0`` judged as 1 (see
    ``scaled_object_bounds``). A Ray worker group's minReplicas and maxReplicas are bounds too (KubeRay's
    ray-operator/controllers/ray/utils/validation.go ``ValidateRayClusterSpec``: "minReplicas %d greater than
    maxReplicas %d")."""

    low: int
    high: int

    @property
    def inverted(self) -> bool:
        """Whether the fewest exceed the most: the API server (HPA) or KEDA's admission (ScaledObject) refuses it."""
        return self.low > self.high


def hpa_bounds(min_replicas: int | None, max_replicas: int) -> ReplicaBounds:
    """An autoscaling/v2 HPA's bounds: ``minReplicas`` defaults to 1.

    Source: kubernetes/kubernetes pkg/apis/autoscaling/validation/validation.go
    ``validateHorizontalPodAutoscalerSpec`` (maxReplicas "must be greater than or equal to `minReplicas`") and
    staging/src/k8s.io/api/autoscaling/v2/types.go (minReplicas defaults to 1).
    """
    return ReplicaBounds(1 if min_replicas is None else min_replicas, max_replicas)


def scaled_object_bounds(min_count: int | None, max_count: int | None) -> ReplicaBounds:
    """A KEDA ScaledObject's bounds as KEDA validates them: an unset minReplicaCount counts as 0, one set to 0
    (or less) as 1, the HPA minimum KEDA gives its HPA; an unset maxReplicaCount as 100.

    Source: kedacore/keda apis/keda/v1alpha1/scaledobject_types.go ``CheckReplicaCountBoundsAreValid`` and
    ``GetHPAMinReplicas``/``GetHPAMaxReplicas`` ("MinReplicaCount=%d must be less than MaxReplicaCount=%d").
    """
    low = KEDA_MIN_REPLICAS if min_count is None else max(min_count, 1)
    return ReplicaBounds(low, KEDA_MAX_REPLICAS if max_count is None else max_count)


def replicas_fight(replicas_in_git: bool, autoscalers: int) -> bool:
    """Whether git and an autoscaler both set a workload's replica count: each GitOps sync resets ``spec.replicas``
    to git's value and the autoscaler sets it back, so the count flaps.

    Source: argo-cd docs/user-guide/best_practices.md ("Leaving room for imperativeness": leave spec.replicas out
    of git for a Deployment an HPA scales); KEDA scales through an HPA of its own, so a ScaledObject counts too, and
    the Ray autoscaler patches a worker group's replicas the same way.
    """
    return replicas_in_git and autoscalers > 0


def competing_autoscalers(autoscalers: int) -> bool:
    """Whether more than one autoscaler (an HPA of one's own next to a KEDA ScaledObject, which runs an HPA of its
    own) scales one target: each sets the replica count to its own choice and it flaps between them.

    Source: kedacore/keda apis/keda/v1alpha1/scaledobject_webhook.go ``verifyHpas`` (its admission webhook refuses
    a ScaledObject whose target "is already managed by the hpa" it does not own; the one it owns is
    ``keda-hpa-<name>``).
    """
    return autoscalers > 1
