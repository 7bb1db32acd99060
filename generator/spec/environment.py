"""An environment: one namespace of one cluster, with the workloads that run there."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, PrivateAttr

from mlgitops.spec.base import (
    INT32_MAX,
    Annotations,
    DnsLabel,
    DnsSubdomain,
    LabelKey,
    Labels,
    NamespaceName,
    Quantity,
    SpecModel,
)
from mlgitops.spec.cluster import ClusterProfile
from mlgitops.spec.files import FieldPath, RepositoryFile
from mlgitops.spec.gitops import GitOps
from mlgitops.spec.integrations import ExternalSecretSpec, MlflowServer, SecretStoreRef
from mlgitops.spec.monitoring import Monitoring
from mlgitops.spec.namespace import GatewaySpec, IngressController, LimitRangeSpec
from mlgitops.spec.operators import Operators
from mlgitops.spec.overrides import ManifestPath, Patch
from mlgitops.spec.pod import ConfigMapSpec, ServiceAccountSpec
from mlgitops.spec.serving import IngressPeer
from mlgitops.spec.storage import Volume
from mlgitops.spec.workloads import Workload


class ClusterQueueSpec(SpecModel):
    """The environment's Kueue ClusterQueue: quotas per node pool (ResourceFlavor) from the cluster profile."""

    name: DnsLabel | None = None
    """ClusterQueue name (default: the environment's namespace)."""
    cohort: DnsLabel | None = None
    """Cohort whose ClusterQueues lend each other unused quota (cohortName)."""
    queueing_strategy: Literal["BestEffortFIFO", "StrictFIFO"] = "BestEffortFIFO"
    """StrictFIFO: a job that does not fit blocks the ones behind it; BestEffortFIFO lets smaller ones pass."""
    preemption: Literal["Never", "LowerPriority", "LowerOrNewerEqualPriority"] = "Never"
    """Whether a pending job may preempt admitted ones of this queue (preemption.withinClusterQueue)."""


class KueueTopology(SpecModel):
    """The topology request of queued pods on a node pool with a Kueue Topology (topology-aware scheduling).

    Rendered as the pod template annotation kueue.x-k8s.io/podset-<mode>-topology: <level>. Without it Kueue never
    gives a pod set a flavor with a topology in a queue that also has flavors without one.
    """

    mode: Literal["preferred", "required", "unconstrained"] = "preferred"
    """preferred: in one domain of `level` if one has room, else the next broader level (packs, never blocks);
    required: in one domain of `level` or not at all; unconstrained: anywhere on the pool's nodes (Kueue 0.11+)."""
    level: LabelKey | None = None
    """Node label of the topology level to pack into; it must be a level of every pool queued pods use. Default:
    each pool's narrowest level above the node (kubernetes.io/hostname when the pool has no other)."""


class Kueue(SpecModel):
    """Queue jobs through Kueue (kueue.x-k8s.io/v1beta2): Jobs, TrainJobs, PyTorchJobs and RayJobs carry the
    queue label; Kueue's webhook suspends them on create and resumes them when it admits them. The queues behind
    the label are derived from the cluster profile: a ResourceFlavor per node pool, a ClusterQueue with their
    quotas (the budget minus what serving may use, split over the flavors), and LocalQueues in the namespace."""

    default_queue: DnsLabel | None = None
    """LocalQueue for jobs that name none; unset: only workloads with `queue` are queued."""
    local_queues: list[DnsLabel] = Field(default_factory=list)
    """LocalQueues to render in the namespace besides defaultQueue, all feeding the ClusterQueue."""
    existing_queues: list[DnsLabel] = Field(default_factory=list)
    """LocalQueues that already exist in the namespace (created outside this repository); none rendered for them."""
    cluster_queue: ClusterQueueSpec = Field(default_factory=ClusterQueueSpec)
    """The ClusterQueue behind the rendered LocalQueues."""
    topology: KueueTopology = Field(default_factory=KueueTopology)
    """How queued pods on a pool with a topology (topologyLevels or topologyLabel) ask Kueue to place them."""
    flavor_tolerations: bool = False
    """Also set each ResourceFlavor's tolerations from its pool's taints, so Kueue adds them to admitted pods
    written by hand. Off by default: with them Kueue stops checking the taints, and a job without a node
    selector could be admitted onto GPU nodes' quota."""

    def rendered_queues(self) -> list[str]:
        """LocalQueues this environment renders: defaultQueue and localQueues, minus those that already exist."""
        wanted = [self.default_queue] if self.default_queue is not None else []
        wanted += self.local_queues
        existing = set(self.existing_queues)
        return sorted({queue for queue in wanted if queue not in existing})


class PriorityClassSpec(SpecModel):
    """A PriorityClass rendered into rendered/<env>/cluster/ (cluster-scoped)."""

    name: DnsLabel
    value: int = Field(ge=-2147483648, le=1000000000)
    """Higher runs first and may preempt lower (user classes stay at or below one billion)."""
    description: str = ""
    preemption_policy: Literal["PreemptLowerPriority", "Never"] = "PreemptLowerPriority"


class Priorities(SpecModel):
    """Default priority classes by workload kind, and classes to render."""

    training: DnsLabel | None = None
    """Default priorityClassName of training and distributed-training pods (usually low)."""
    serving: DnsLabel | None = None
    """Default priorityClassName of serving and ray-service pods (usually high)."""
    batch: DnsLabel | None = None
    """Default priorityClassName of batch and ray-job pods."""
    classes: list[PriorityClassSpec] = Field(default_factory=list)
    """PriorityClasses to render (leave empty when the cluster already has them); with Kueue queues, also
    WorkloadPriorityClasses of the same names and values, which order and preempt queued jobs."""


class Budget(SpecModel):
    """Most the environment's workloads may request at once: every pod counted, autoscaled ones at their maximum.

    Rendered as a ResourceQuota on requests, so the cluster enforces the same figures, and split into Kueue's
    quotas: the ClusterQueue gets what the pods Kueue does not queue (servers, CronJobs) leave at their maximum.
    """

    gpus: int | None = Field(default=None, ge=0, le=INT32_MAX)
    """Accelerator devices of every kind together (nvidia.com/gpu, MIG profiles, Gaudi cards, DRA devices, ...).
    The ResourceQuota gives each kind its share: what serving uses of it at most plus Kueue's quota of it."""
    cpu: Quantity | None = None
    """Total CPU, e.g. '500'."""
    memory: Quantity | None = None
    """Total memory, e.g. '4Ti'."""
    enforce: bool = True
    """Render the budget as a ResourceQuota (false: only mlgitops checks it)."""
    cost_per_hour: Decimal | None = Field(default=None, ge=0)
    """Most the environment may cost per hour with every workload at its maximum replicas, in the node pools'
    currency (their `prices`); `render` warns when the environment's maximum hourly cost is above it."""


class NetworkPolicySpec(SpecModel):
    """Default-deny ingress for the namespace, with allow rules for every serving port."""

    enabled: bool = True
    allow_from: list[IngressPeer] = Field(default_factory=list)
    """Who may reach serving ports (a workload's allowFrom replaces it); empty: same-namespace pods only."""


class Environment(SpecModel):
    """One environment file after `extends:` is resolved (dev, staging, prod, ...).

    The environment's name is the file name without '.yaml'. A file with `abstract: true`
    is only a base for others and is not rendered.
    """

    namespace: NamespaceName
    """Namespace every object is rendered into."""
    kubernetes_version: str = Field(pattern=r"^v?1\.[0-9]+(\.[0-9]+)?$")
    """Kubernetes version of the cluster, e.g. '1.32'; objects are validated against its schemas."""
    operators: Operators = Field(default_factory=Operators)
    """The operator releases the cluster runs (Kueue, Argo CD, Flux, Karpenter, KServe, KubeRay, Trainer, LWS);
    rendering follows them. Defaults: current upstream releases."""
    part_of: str = Field(default="ml-platform", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    """Value of the app.kubernetes.io/part-of label on every object."""
    labels: Labels = Field(default_factory=dict)
    """Labels added to every object (kustomize `labels:`)."""
    annotations: Annotations = Field(default_factory=dict)
    """Annotations added to every object."""
    cluster: ClusterProfile = Field(default_factory=ClusterProfile)
    """The cluster's node pools."""
    volumes: list[Volume] = Field(default_factory=list)
    """Volumes that workloads mount."""
    workloads: list[Workload] = Field(default_factory=list)
    """The environment's workloads."""
    kueue: Kueue | None = None
    """Queue training through Kueue."""
    priorities: Priorities = Field(default_factory=Priorities)
    """Priority classes by workload kind."""
    network_policy: NetworkPolicySpec | None = None
    """Render a NetworkPolicy: default-deny ingress plus allow rules for serving ports."""
    gitops: GitOps | None = None
    """ArgoCD/Flux objects that deploy this environment, and sharding of large environments."""
    monitoring: Monitoring | None = None
    """The environment's Prometheus: labels it selects monitors and rules by, and a PrometheusRule of the alerts
    the spec implies (thresholds in monitoring.alerts)."""
    budget: Budget | None = None
    """Upper bounds on the environment's total requests."""
    mlflow: MlflowServer | None = None
    """The MLflow tracking server workloads log to and serve registered models from."""
    secret_store: SecretStoreRef | None = None
    """External Secrets Operator store that externalSecrets read from."""
    external_secrets: list[ExternalSecretSpec] = Field(default_factory=list)
    """Secrets materialised from the secret store (rendered as ExternalSecret objects)."""
    existing_secrets: list[DnsLabel] = Field(default_factory=list)
    """Secrets that already exist in the namespace (created outside this repository)."""
    image_pull_secrets: list[DnsLabel] = Field(default_factory=list)
    """Secrets every workload pulls images with, unless it names its own imagePullSecrets."""
    config_maps: list[ConfigMapSpec] = Field(default_factory=list)
    """ConfigMaps rendered from literal values and repository files (named with a content hash)."""
    existing_config_maps: list[DnsLabel] = Field(default_factory=list)
    """ConfigMaps that already exist in the namespace (created outside this repository)."""
    service_accounts: list[ServiceAccountSpec] = Field(default_factory=list)
    """ServiceAccounts shared by workloads (serviceAccountName), e.g. with a cloud IAM annotation."""
    existing_service_accounts: list[DnsLabel] = Field(default_factory=list)
    """ServiceAccounts that already exist in the namespace (created outside this repository)."""
    existing_training_runtimes: list[DnsSubdomain] = Field(default_factory=list)
    """Kubeflow Trainer (Cluster)TrainingRuntimes that exist outside this repository, besides those the declared
    operators.trainer release installs (torch-distributed, deepspeed-distributed, ...); a TrainJob naming any other
    runtime must find it among the environment's manifests."""
    limit_range: LimitRangeSpec | None = None
    """A LimitRange: container defaults and bounds for the namespace."""
    ingress_controller: IngressController | None = None
    """The ingress controller's class and namespace, for serving workloads' ingress."""
    gateway: GatewaySpec | None = None
    """The Gateway API implementation: where its proxies run (the network policy admits them to HTTPRoutes'
    ports) and its GatewayClass. Default: pods of each Gateway's namespace."""
    manifests: list[ManifestPath] = Field(default_factory=list)
    """YAML files of plain Kubernetes objects (relative to this file) copied into the environment's kustomize
    root, validated, linted and deployed with everything else."""
    patches: list[Patch] = Field(default_factory=list)
    """Patches applied to rendered objects at render time (strategic merge or JSON 6902)."""

    _files: dict[FieldPath, RepositoryFile] = PrivateAttr(default_factory=dict)

    def with_files(self, files: dict[FieldPath, RepositoryFile]) -> Environment:
        """This environment with the text of the repository files it names, keyed by the naming field's path."""
        copy = self.model_copy()
        copy._files = dict(files)
        return copy

    def repository_file(self, path: FieldPath) -> RepositoryFile | None:
        """The file named at spec field ``path`` (None when the environment was built without reading files)."""
        return self._files.get(path)
