"""What the cluster's controllers, at the releases the environment declares (``operators:``), accept of the spec.

Each problem is located at the field that asks for what a controller cannot do or will undo:

- Kueue: mlgitops renders kueue.x-k8s.io/v1beta2, served from Kueue 0.15 (storage version from 0.16); the
  ``unconstrained`` topology request needs 0.11; DRA devices count against a queue's quota from 0.18
  (``deviceClassMappings``). A topology level that a pool's Topology lacks makes Kueue refuse the flavor ("does not
  contain the requested level", ``checkPodSetAndFlavorMatchForTAS``). A queued job must not ask for ``suspend``:
  Kueue's webhook suspends it on create and resumes it on admission (``ApplyDefaultForSuspend``), and a
  `suspend: true` in git is applied again by every sync of the running job (Argo CD applies the desired state as-is
  unless RespectIgnoreDifferences=true: argoproj/argo-cd docs/user-guide/sync-options.md).
- Karpenter: the karpenter.sh/v1 NodePool needs Karpenter 1.0; consolidationPolicy Balanced arrived in 1.14.0
  (kubernetes-sigs/karpenter pkg/apis/v1/nodepool.go).
- Flux: kustomize.toolkit.fluxcd.io/v1 Kustomizations need Flux 2.0 (kustomize-controller v1.0).
- ResourceQuota: a quota on cpu or memory requests makes the API server refuse containers that set none
  (kubernetes/kubernetes pkg/quota/v1/evaluator/core/pods.go ``Constraints``): a declared limitRange must give them a
  default (defaultRequest, or default, which the request falls back to).
"""

from __future__ import annotations

from mlgitops.spec.environment import Environment
from mlgitops.spec.placement import PlacementError, place
from mlgitops.spec.problems import FieldPath, SpecProblem
from mlgitops.spec.queues import queue_of, rendered_queues

KUEUE_V1BETA2 = "0.15"
KUEUE_UNCONSTRAINED = "0.11"
KUEUE_DRA = "0.18"
KARPENTER_V1 = "1.0"
KARPENTER_BALANCED = "1.14"
FLUX_V1 = "2.0"


def check_controllers(environment: Environment) -> list[SpecProblem]:
    """Every problem of the spec with the releases of the controllers it declares, in file order."""
    return [*_kueue(environment), *_karpenter(environment), *_flux(environment), *_limit_range(environment)]


def _release(environment: Environment, operator: str) -> str:
    return str(getattr(environment.operators, operator))


def _kueue(environment: Environment) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    kueue = environment.kueue
    rendered = set(rendered_queues(environment))
    operators = environment.operators
    if rendered and not operators.at_least("kueue", KUEUE_V1BETA2):
        problems.append(
            SpecProblem(
                ("operators", "kueue"),
                f"Kueue {_release(environment, 'kueue')} does not serve kueue.x-k8s.io/v1beta2, which mlgitops renders its "
                f"queues in (Kueue {KUEUE_V1BETA2} or later); list the queues in kueue.existingQueues instead",
            )
        )
    unconstrained = kueue is not None and kueue.topology.mode == "unconstrained"
    if rendered and unconstrained and not operators.at_least("kueue", KUEUE_UNCONSTRAINED):
        problems.append(
            SpecProblem(
                ("kueue", "topology", "mode"),
                f"Kueue {_release(environment, 'kueue')} has no unconstrained topology request "
                f"(Kueue {KUEUE_UNCONSTRAINED} or later)",
            )
        )
    levels_asked = kueue.topology.level if kueue is not None else None
    for index, workload in enumerate(environment.workloads):
        queue = queue_of(environment, workload)
        if queue is None:
            continue
        at: FieldPath = ("workloads", index)
        suspend_field = _asked_suspend(workload)
        if suspend_field is not None:
            problems.append(
                SpecProblem(
                    (*at, *suspend_field),
                    f"a job queued in Kueue (queue {queue!r}) must not ask for suspend: Kueue's webhook suspends it when it "
                    "is created and resumes it when it is admitted, and a suspend: true in git would suspend the running "
                    "job again on every sync; to hold it, stop its LocalQueue (spec.stopPolicy) or leave it out",
                )
            )
        if queue not in rendered:
            continue
        for group in workload.pod_groups(at):
            try:
                placement = place(environment, group.view)
            except PlacementError:
                continue  # reported by the placement checks
            pool = placement.pool
            if pool is None:
                continue
            if levels_asked is not None and pool.kueue_topology and levels_asked not in pool.kueue_topology:
                shown = ", ".join(pool.kueue_topology)
                problems.append(
                    SpecProblem(
                        ("kueue", "topology", "level"),
                        f"node pool {pool.name!r}, where {workload.name!r} runs, has no topology level {levels_asked!r} "
                        f"(its levels: {shown}): Kueue would never admit its pods to the pool's flavor",
                    )
                )
            if placement.device_class is not None and not operators.at_least("kueue", KUEUE_DRA):
                problems.append(
                    SpecProblem(
                        (*group.at, "nodePool"),
                        f"Kueue {_release(environment, 'kueue')} does not count DRA devices against a queue's quota "
                        f"(Kueue {KUEUE_DRA} or later, with deviceClassMappings): queue it on a pool with an extended "
                        "resource, or raise operators.kueue",
                    )
                )
    return _unique(problems)


def _asked_suspend(workload: object) -> FieldPath | None:
    if getattr(workload, "suspend", False) is True:
        return ("suspend",)
    run_policy = getattr(workload, "run_policy", None)
    if run_policy is not None and getattr(run_policy, "suspend", False) is True:
        return ("runPolicy", "suspend")
    return None


def _karpenter(environment: Environment) -> list[SpecProblem]:
    if environment.cluster.karpenter is None:
        return []
    if not environment.operators.at_least("karpenter", KARPENTER_V1):
        return [
            SpecProblem(
                ("operators", "karpenter"),
                f"Karpenter {_release(environment, 'karpenter')} has no karpenter.sh/v1 NodePool, which mlgitops renders "
                f"(Karpenter {KARPENTER_V1} or later)",
            )
        ]
    problems = []
    balanced = environment.operators.at_least("karpenter", KARPENTER_BALANCED)
    for index, pool in enumerate(environment.cluster.node_pools):
        if pool.disruption.consolidation_policy == "Balanced" and not balanced:
            problems.append(
                SpecProblem(
                    ("cluster", "nodePools", index, "disruption", "consolidationPolicy"),
                    f"Karpenter {_release(environment, 'karpenter')} has no Balanced consolidation policy "
                    f"(Karpenter {KARPENTER_BALANCED} or later)",
                )
            )
    return problems


def _flux(environment: Environment) -> list[SpecProblem]:
    gitops = environment.gitops
    if gitops is None or gitops.flux is None or environment.operators.at_least("flux", FLUX_V1):
        return []
    return [
        SpecProblem(
            ("operators", "flux"),
            f"Flux {_release(environment, 'flux')} has no kustomize.toolkit.fluxcd.io/v1 Kustomization, which mlgitops "
            f"renders (Flux {FLUX_V1} or later)",
        )
    ]


def _limit_range(environment: Environment) -> list[SpecProblem]:
    budget, limits = environment.budget, environment.limit_range
    if budget is None or not budget.enforce or limits is None:
        return []
    problems = []
    for name, tracked in (("cpu", budget.cpu), ("memory", budget.memory)):
        given = [amounts for amounts in (limits.default_request, limits.default) if amounts is not None]
        if tracked is not None and not any(getattr(amounts, name) is not None for amounts in given):
            problems.append(
                SpecProblem(
                    ("limitRange",),
                    f"budget.{name} makes the ResourceQuota track {name} requests, and the API server then refuses "
                    f"every container that sets none: give limitRange.defaultRequest.{name}",
                )
            )
    return problems


def _unique(problems: list[SpecProblem]) -> list[SpecProblem]:
    seen: set[tuple[FieldPath, str]] = set()
    kept = []
    for problem in problems:
        if (problem.path, problem.message) not in seen:
            seen.add((problem.path, problem.message))
            kept.append(problem)
    return kept
