"""How a RayService's changed cluster is rolled out, by the KubeRay release the environment runs (`operators.kuberay`).

Facts (ray-project/kuberay, `ray-operator/apis/ray/v1/rayservice_types.go`, `controllers/ray/rayservice_controller.go`,
`controllers/ray/utils/validation.go` ValidateClusterUpgradeOptions, `pkg/features/features.go`):

- `spec.upgradeStrategy.type` (since v1.3): `NewCluster` starts a second RayCluster of the full size and switches
  traffic once it is ready: during an upgrade the service holds twice its pods and GPUs. Without the field the
  operator's ENABLE_ZERO_DOWNTIME (default true) makes it NewCluster too. `None` applies no change but replica
  counts and appended worker groups (isZeroDowntimeUpgradeEnabled false): mlgitops never renders it.
- `NewClusterWithIncrementalUpgrade` (v1.5 alpha behind the RayServiceIncrementalUpgrade gate, off by default, and
  with the gate off it behaves like None; beta and on by default in v1.7): the new cluster starts without replicas
  and grows by `maxSurgePercent` of the serving capacity per step while a Gateway (of `gatewayClassName`) moves
  `stepSizePercent` of the traffic every `intervalSeconds`; total capacity peaks at 100 + maxSurgePercent percent.
  It needs the Ray autoscaler, stepSizePercent <= maxSurgePercent (both 0..100), intervalSeconds > 0 and a
  gatewayClassName.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlgitops.spec.environment import Environment
from mlgitops.spec.problems import FieldPath, SpecProblem
from mlgitops.spec.ray import RayService

STRATEGY_SINCE = "1.3"
INCREMENTAL_BETA = "1.7"
INCREMENTAL_ALPHA = "1.5"
NEW_CLUSTER = "NewCluster"
INCREMENTAL = "NewClusterWithIncrementalUpgrade"


@dataclass(frozen=True)
class UpgradePlan:
    """The strategy rendered (None: the release has no upgradeStrategy field) and, when incremental, its options."""

    strategy: str | None
    gateway_class_name: str | None = None


def upgrade_plan(environment: Environment, workload: RayService) -> UpgradePlan:
    """Incremental where the release, the autoscaler and a GatewayClass allow it (or as asked); else NewCluster."""
    operators = environment.operators
    if not operators.at_least("kuberay", STRATEGY_SINCE):
        return UpgradePlan(None)
    upgrade = workload.upgrade
    gateway_class = upgrade.gateway_class_name or (environment.gateway.class_name if environment.gateway else None)
    wanted: str | None = upgrade.strategy
    if wanted is None:
        possible = operators.at_least("kuberay", INCREMENTAL_BETA) and workload.autoscaling is not None
        wanted = INCREMENTAL if possible and gateway_class is not None else NEW_CLUSTER
    return UpgradePlan(wanted, gateway_class if wanted == INCREMENTAL else None)


def upgrade_problems(environment: Environment, workload: RayService, at: FieldPath) -> list[SpecProblem]:
    """An incremental upgrade the declared release or the spec cannot do, at the field that asks for it."""
    upgrade = workload.upgrade
    here = (*at, "upgrade")
    problems = []
    if upgrade.step_size_percent > upgrade.max_surge_percent:
        problems.append(
            SpecProblem(
                (*here, "stepSizePercent"),
                f"stepSizePercent {upgrade.step_size_percent} is above maxSurgePercent {upgrade.max_surge_percent}: "
                "traffic cannot move faster than the new cluster grows (KubeRay refuses it)",
            )
        )
    if upgrade.strategy != INCREMENTAL:
        return problems
    release = environment.operators.kuberay
    where = (*here, "strategy")
    if not environment.operators.at_least("kuberay", INCREMENTAL_BETA):
        gate = (
            "it is an alpha feature gate (RayServiceIncrementalUpgrade), off by default, and with the gate off KubeRay "
            "applies no change to the cluster at all"
            if environment.operators.at_least("kuberay", INCREMENTAL_ALPHA)
            else "it arrived in KubeRay 1.5"
        )
        problems.append(
            SpecProblem(where, f"{INCREMENTAL} needs KubeRay 1.7 (operators.kuberay is {release}): {gate}; use NewCluster")
        )
    elif workload.autoscaling is None:
        problems.append(SpecProblem(where, f"{INCREMENTAL} needs the Ray autoscaler: set autoscaling"))
    elif upgrade_plan(environment, workload).gateway_class_name is None:
        problems.append(
            SpecProblem(
                where,
                f"{INCREMENTAL} moves traffic through a Gateway: give upgrade.gatewayClassName (or the environment's "
                "gateway.className)",
            )
        )
    return problems
