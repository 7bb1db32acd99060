"""Ray on KubeRay (ray.io/v1): a RayJob (a batch program on its own Ray cluster) and a RayService (Ray Serve).

The workload's own container fields (image, env, mounts, security) apply to every Ray pod;
`resources` and `nodePool` size and place the head pod, each worker group has its own.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mlgitops.spec.base import INT32_MAX, DnsLabel, SpecModel
from mlgitops.spec.container import PodGroup, Resources, WorkloadBase
from mlgitops.spec.integrations import MlflowRun
from mlgitops.spec.monitoring import PodMetrics
from mlgitops.spec.problems import FieldPath
from mlgitops.spec.serving import IngressPeer

RayStartParams = dict[str, str]


class RayWorkerGroup(SpecModel):
    """A group of identical Ray worker pods (workerGroupSpecs[]), sized and placed on its own node pool."""

    name: DnsLabel
    """Group name (groupName); the autoscaler and `ray status` show it."""
    resources: Resources
    """CPU, memory and GPUs of one worker pod; KubeRay tells Ray the same figures (num-cpus, num-gpus)."""
    node_pool: DnsLabel | None = None
    """Node pool of the workers; GPU groups default to the only pool with their GPU resource."""
    replicas: int | None = Field(default=None, ge=0, le=INT32_MAX)
    """Fixed number of workers (default 1); leave out when the autoscaler is on (it owns the count)."""
    min_replicas: int | None = Field(default=None, ge=0, le=INT32_MAX)
    """With the autoscaler: fewest workers (default 0)."""
    max_replicas: int | None = Field(default=None, ge=1, le=INT32_MAX)
    """With the autoscaler: most workers (required)."""
    ray_start_params: RayStartParams = Field(default_factory=dict)
    """Extra `ray start` flags, e.g. {'resources': '"{\\"TPU\\": 4}"'}."""

    @property
    def fixed_replicas(self) -> int:
        return 1 if self.replicas is None else self.replicas


class RayAutoscaling(SpecModel):
    """The Ray autoscaler (enableInTreeAutoscaling): it adds and removes workers of each group between its
    minReplicas and maxReplicas, so the worker count is left out of git (ArgoCD/Flux would fight it)."""

    idle_timeout_seconds: int | None = Field(default=None, ge=0, le=INT32_MAX)
    """Seconds an idle worker lives before it is removed (Ray's default: 60)."""
    upscaling_mode: Literal["Default", "Aggressive", "Conservative"] | None = None
    """How fast the autoscaler adds workers."""


class RayWorkloadBase(WorkloadBase):
    """What every Ray workload shares: the Ray version, head parameters, worker groups and autoscaling."""

    ray_version: str | None = Field(default=None, pattern=r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")
    """Ray version of the image, e.g. '2.41.0' (KubeRay picks matching autoscaler behaviour)."""
    head_start_params: RayStartParams = Field(default_factory=dict)
    """Extra `ray start --head` flags (e.g. {'num-cpus': '0'} to keep work off the head)."""
    worker_groups: list[RayWorkerGroup] = Field(default_factory=list)
    """Worker groups; the head runs alone without them."""
    autoscaling: RayAutoscaling | None = None
    """Turn on the Ray autoscaler."""
    metrics: PodMetrics | None = None
    """Prometheus scraping of the Ray pods on the `metrics` port KubeRay declares (renders a PodMonitor)."""
    allow_from: list[IngressPeer] | None = None
    """Who outside the namespace may reach the Ray pods under the environment's network policy (default: its
    allowFrom); include the KubeRay operator's namespace, which polls the head's dashboard."""

    def worker_view(self, group: RayWorkerGroup) -> RayWorkloadBase:
        """The workload as one worker group's pods see it: the group's resources and node pool, the rest shared."""
        return self.model_copy(update={"resources": group.resources, "node_pool": group.node_pool})

    def worker_pods(self) -> int:
        """Worker pods that run at once: fixed replicas, or each group's minimum under the autoscaler."""
        if self.autoscaling is None:
            return sum(group.fixed_replicas for group in self.worker_groups)
        return sum(group.min_replicas or 0 for group in self.worker_groups)

    def pod_groups(self, at: FieldPath) -> list[PodGroup]:
        """The head, and each worker group on its own resources and pool (fixed replicas, or the autoscaler's minimum)."""
        groups = [PodGroup(self, at, (*at, "resources"), 1)]
        for index, group in enumerate(self.worker_groups):
            here = (*at, "workerGroups", index)
            if self.autoscaling is None:
                groups.append(PodGroup(self.worker_view(group), here, (*here, "replicas"), group.fixed_replicas))
            else:
                groups.append(PodGroup(self.worker_view(group), here, (*here, "minReplicas"), group.min_replicas or 0))
        return groups


class RayJob(RayWorkloadBase):
    """A Ray program on a Ray cluster of its own: a KubeRay RayJob whose name carries a hash of its spec."""

    kind: Literal["ray-job"]
    entrypoint: str = Field(min_length=1)
    """Command that runs the Ray program on the head (`ray job submit -- <entrypoint>`), e.g. 'python etl.py'."""
    runtime_env: dict[str, Any] | None = None
    """Ray runtime environment (pip packages, env_vars, working_dir), rendered as runtimeEnvYAML."""
    shutdown_after_job_finishes: bool = True
    """Delete the Ray cluster when the program ends (Kueue requires it for queued RayJobs)."""
    ttl_seconds_after_finished: int | None = Field(default=None, ge=0, le=INT32_MAX)
    """Keep the finished cluster this long before deleting it. Refused under ArgoCD/Flux: a KubeRay operator
    that deletes finished RayJobs (DELETE_RAYJOB_CR_AFTER_JOB_FINISHES) would make GitOps recreate and rerun it."""
    active_deadline_seconds: int | None = Field(default=None, ge=1, le=INT32_MAX)
    """Fail the job after this many seconds."""
    backoff_limit: int | None = Field(default=None, ge=0, le=INT32_MAX)
    """Retries of the whole job (a new cluster each time)."""
    suspend: bool = False
    """Create the RayJob suspended. Not for a queued RayJob: Kueue's webhook suspends it on create and resumes it on
    admission, and a `suspend: true` in git would suspend it again on every GitOps sync."""
    queue: DnsLabel | None = None
    """Kueue LocalQueue to submit to (default: the environment's kueue.defaultQueue)."""
    mlflow: MlflowRun | None = None
    """Log runs to the environment's MLflow tracking server."""


UpgradeStrategy = Literal["NewCluster", "NewClusterWithIncrementalUpgrade"]


class RayServiceUpgrade(SpecModel):
    """How KubeRay rolls out a changed Ray cluster (spec.upgradeStrategy): never `None`, which applies no change but
    replica counts (ray-project/kuberay `rayservice_controller.go`, isZeroDowntimeUpgradeEnabled)."""

    strategy: UpgradeStrategy | None = None
    """NewCluster: a second cluster of the full size, traffic switched once it is ready (its GPUs twice over during an
    upgrade). NewClusterWithIncrementalUpgrade (KubeRay 1.7; needs the autoscaler and a GatewayClass): the new
    cluster grows by maxSurgePercent of the capacity while traffic moves over in steps. Default: incremental where
    the release and a GatewayClass allow it, else NewCluster."""
    gateway_class_name: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)
    """GatewayClass KubeRay shifts traffic with (default: the environment's gateway.className)."""
    max_surge_percent: int = Field(default=25, ge=1, le=100)
    """Capacity the new cluster adds per step, in percent: the most that runs during an upgrade is 100 + this."""
    step_size_percent: int = Field(default=25, ge=1, le=100)
    """Traffic moved to the new cluster per step, in percent (at most maxSurgePercent)."""
    interval_seconds: int = Field(default=60, ge=1, le=INT32_MAX)
    """Seconds between steps."""


class RayService(RayWorkloadBase):
    """Ray Serve applications on a long-running Ray cluster: a KubeRay RayService."""

    kind: Literal["ray-service"]
    serve_config: dict[str, Any] = Field(min_length=1)
    """Ray Serve config (`applications:` with import_path, route_prefix, deployments), rendered as serveConfigV2."""
    upgrade: RayServiceUpgrade = Field(default_factory=RayServiceUpgrade)
    """How a changed cluster is rolled out (KubeRay's upgradeStrategy) and what that costs in GPUs meanwhile."""
