"""The ML workloads a team writes: training runs, serving endpoints and scheduled batch jobs."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from generator.spec.autoscaling import Autoscaling
from generator.spec.base import INT32_MAX, Annotations, DnsLabel, Labels, PositiveQuantity, SpecModel
from generator.spec.cluster import GPU_RESOURCE_PATTERN
from generator.spec.integrations import KServe, MlflowRun, RegisteredModel


def _whole_gpu_count(value: object) -> object:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"GPU count must be a whole number of devices, not {value!r}")
    if isinstance(value, str):
        raise ValueError(f"GPU count must be a number, not the string {value!r}")
    return value


GpuCount = Annotated[int, Field(ge=1, le=INT32_MAX), BeforeValidator(_whole_gpu_count)]


class KeyRef(SpecModel):
    """One key of a Secret or ConfigMap in the workload's namespace."""

    name: DnsLabel
    """Name of the Secret or ConfigMap."""
    key: str = Field(min_length=1, pattern=r"^[-._a-zA-Z0-9]+$")
    """Key inside it."""


class EnvVar(SpecModel):
    """An environment variable: a literal value, or a reference to a Secret or ConfigMap key."""

    name: str = Field(pattern=r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
    """Variable name."""
    value: str | None = None
    """Literal value (never put credentials here: use secretKeyRef)."""
    secret_key_ref: KeyRef | None = None
    """Read the value from a Secret key."""
    config_map_key_ref: KeyRef | None = None
    """Read the value from a ConfigMap key."""

    @model_validator(mode="after")
    def _one_source(self) -> EnvVar:
        given = [v for v in (self.value, self.secret_key_ref, self.config_map_key_ref) if v is not None]
        if len(given) != 1:
            raise ValueError(f"env var {self.name!r} needs exactly one of 'value', 'secretKeyRef' or 'configMapKeyRef'")
        return self


class ResourceLimits(SpecModel):
    """Upper bounds; each must be at least the matching request."""

    cpu: PositiveQuantity | None = None
    """CPU limit; omitted means no CPU throttling."""
    memory: PositiveQuantity | None = None
    """Memory limit; omitted means equal to the memory request."""
    ephemeral_storage: PositiveQuantity | None = None
    """Ephemeral storage limit; omitted means equal to the request, if any."""


class Resources(SpecModel):
    """Requests (what the scheduler reserves), limits, and GPUs (always set as limits)."""

    cpu: PositiveQuantity
    """CPU request, e.g. '4' or '500m'."""
    memory: PositiveQuantity
    """Memory request, e.g. '16Gi'."""
    ephemeral_storage: PositiveQuantity | None = None
    """Ephemeral (node-local disk) request."""
    limits: ResourceLimits = Field(default_factory=ResourceLimits)
    """Optional limits."""
    gpu: GpuCount | None = None
    """Number of GPU devices (or MIG slices); rendered as a limit with an equal request."""
    gpu_resource: str | None = Field(default=None, pattern=GPU_RESOURCE_PATTERN)
    """GPU resource name, e.g. 'nvidia.com/gpu' or a MIG slice 'nvidia.com/mig-1g.10gb' (default: the pool's)."""
    gpu_product: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", max_length=63)
    """GPU model wanted, matched against the `nvidia.com/gpu.product` node label, e.g. 'NVIDIA-H100-80GB-HBM3'."""


class HttpGetAction(SpecModel):
    """Probe by HTTP GET; any 2xx or 3xx status is success."""

    path: str = Field(pattern=r"^/")
    port: int | str
    """Container port number or name."""


class TcpSocketAction(SpecModel):
    """Probe by opening a TCP connection."""

    port: int | str


class ExecAction(SpecModel):
    """Probe by running a command in the container; exit status 0 is success."""

    command: list[str] = Field(min_length=1)


class Probe(SpecModel):
    """A health probe. Give exactly one of httpGet, tcpSocket or exec."""

    http_get: HttpGetAction | None = None
    tcp_socket: TcpSocketAction | None = None
    exec: ExecAction | None = None
    initial_delay_seconds: int | None = Field(default=None, ge=0)
    period_seconds: int | None = Field(default=None, ge=1)
    timeout_seconds: int | None = Field(default=None, ge=1)
    failure_threshold: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_action(self) -> Probe:
        if sum(a is not None for a in (self.http_get, self.tcp_socket, self.exec)) != 1:
            raise ValueError("a probe needs exactly one of 'httpGet', 'tcpSocket' or 'exec'")
        return self


class Probes(SpecModel):
    """Readiness, liveness and startup probes of the main container."""

    readiness: Probe | None = None
    """When the pod may receive traffic. Serving workloads default to a TCP check of their first port."""
    liveness: Probe | None = None
    """When the container must be restarted."""
    startup: Probe | None = None
    """Holds back the other probes while a model loads."""


MountRole = Literal["data", "model", "checkpoint", "output", "cache"]


class Mount(SpecModel):
    """A volume mounted into the main container."""

    volume: DnsLabel
    """Name of an environment volume."""
    path: str = Field(pattern=r"^/")
    """Absolute mount path."""
    role: MountRole
    """What lives there: data, model, checkpoint and output need persistent claims; cache may be scratch."""
    read_only: bool = False
    """Mount read-only (datasets and models usually are)."""
    sub_path: str | None = None
    """Mount only this sub-directory of the volume."""

    @field_validator("path", "sub_path")
    @classmethod
    def _no_parent_steps(cls, value: str | None) -> str | None:
        if value is not None and ".." in value.split("/"):
            raise ValueError(f"{value!r} must not contain '..'")
        return value


class Security(SpecModel):
    """Pod security settings. Defaults follow the Kubernetes 'restricted' profile."""

    run_as_non_root: bool = True
    run_as_user: int | None = Field(default=None, ge=0)
    run_as_group: int | None = Field(default=None, ge=0)
    fs_group: int | None = Field(default=None, ge=0)
    allow_privilege_escalation: bool = False
    read_only_root_filesystem: bool = False
    drop_all_capabilities: bool = True
    """Drop every Linux capability (restricted profile)."""
    seccomp_profile: Literal["RuntimeDefault", "Unconfined"] = "RuntimeDefault"


class Port(SpecModel):
    """A port the serving container listens on; the Service exposes it under the same name."""

    name: str = Field(default="http", pattern=r"^[a-z]([-a-z0-9]{0,13}[a-z0-9])?$")
    """Port name (at most 15 characters)."""
    port: int = Field(ge=1, le=65535)
    """Container port number."""
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"


_IMAGE = re.compile(r"^[^\s:@/][^\s]*$")


class WorkloadBase(SpecModel):
    """What every workload kind shares: the container, its resources, placement and storage."""

    name: DnsLabel
    """Workload name; objects rendered from it are named after it."""
    image: str | None = Field(default=None, pattern=_IMAGE.pattern, min_length=1)
    """Container image with a tag or digest, e.g. 'ghcr.io/acme/train:1.4.2' (required, except for a
    serving workload of a registered model, which defaults to the environment's mlflow.servingImage)."""
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    command: list[str] | None = None
    """Entrypoint override."""
    args: list[str] | None = None
    """Arguments to the entrypoint."""
    working_dir: str | None = None
    env: list[EnvVar] = Field(default_factory=list)
    """Environment variables."""
    resources: Resources
    """CPU, memory and GPU requests and limits."""
    node_pool: DnsLabel | None = None
    """Node pool to run on; GPU workloads default to the only pool with their GPU resource."""
    priority_class_name: str | None = None
    """PriorityClass of the pods."""
    service_account_name: DnsLabel | None = None
    """ServiceAccount the pods run as."""
    shm_size: PositiveQuantity | None = None
    """Size of a memory-backed /dev/shm (PyTorch DataLoader workers need more than the 64Mi default)."""
    mounts: list[Mount] = Field(default_factory=list)
    """Volumes mounted into the container."""
    probes: Probes = Field(default_factory=Probes)
    """Health probes."""
    security: Security = Field(default_factory=Security)
    """Pod security overrides."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on the workload's objects and pods."""
    annotations: Annotations = Field(default_factory=dict)
    """Extra annotations on the workload's objects and pods."""
    group: DnsLabel = "workloads"
    """Kustomize root (rendered/<env>/<group>/) of this workload when the environment is sharded; e.g. a team."""


class Training(WorkloadBase):
    """A training run, rendered as a batch/v1 Job whose name carries a hash of its pod template."""

    kind: Literal["training"]
    mlflow: MlflowRun | None = None
    """Log runs to the environment's MLflow tracking server."""
    queue: DnsLabel | None = None
    """Kueue LocalQueue to submit to (default: the environment's kueue.defaultQueue)."""
    backoff_limit: int = Field(default=0, ge=0, le=INT32_MAX)
    """Retries before the Job fails (training usually resumes from checkpoints instead)."""
    active_deadline_seconds: int | None = Field(default=None, ge=1)
    """Kill the run after this many seconds."""
    restart_policy: Literal["Never", "OnFailure"] = "Never"
    completions: int = Field(default=1, ge=1, le=INT32_MAX)
    parallelism: int = Field(default=1, ge=1, le=INT32_MAX)


class MetricsEndpoint(SpecModel):
    """Where Prometheus scrapes the server; renders a Prometheus Operator ServiceMonitor."""

    port: str = Field(pattern=r"^[a-z]([-a-z0-9]{0,13}[a-z0-9])?$")
    """Name of one of the workload's ports."""
    path: str = Field(default="/metrics", pattern=r"^/")
    interval: str = Field(default="30s", pattern=r"^([0-9]+(ms|s|m|h))+$")
    """Scrape interval, e.g. '30s'."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on the ServiceMonitor, e.g. the one your Prometheus selects ('release: prometheus')."""


class DisruptionBudget(SpecModel):
    """A PodDisruptionBudget: give minAvailable or maxUnavailable (not both)."""

    min_available: int | str | None = None
    """Pods that must stay up during voluntary disruptions (a count or a percentage such as '50%')."""
    max_unavailable: int | str | None = None
    """Pods that may be down at once (a count or a percentage)."""

    @model_validator(mode="after")
    def _one_bound(self) -> DisruptionBudget:
        if (self.min_available is None) == (self.max_unavailable is None):
            raise ValueError("a disruption budget needs exactly one of 'minAvailable' or 'maxUnavailable'")
        for value in (self.min_available, self.max_unavailable):
            if isinstance(value, str) and not re.match(r"^(100|[1-9]?[0-9])%$", value):
                raise ValueError(f"{value!r} must be a whole number or a percentage such as '50%'")
            if isinstance(value, int) and value < 0:
                raise ValueError(f"{value} must not be negative")
        return self


class IngressPeer(SpecModel):
    """Who may reach a serving port: pods by label, namespaces by label, or an IP range."""

    pod_labels: Labels | None = None
    """Pods in the same namespace carrying these labels."""
    namespace_labels: Labels | None = None
    """Every pod in namespaces carrying these labels (combined with podLabels when both are set)."""
    cidr: str | None = Field(default=None, pattern=r"^[0-9a-fA-F.:]+/[0-9]{1,3}$")
    """An IP range such as '10.0.0.0/8'."""

    @model_validator(mode="after")
    def _something(self) -> IngressPeer:
        if self.pod_labels is None and self.namespace_labels is None and self.cidr is None:
            raise ValueError("an ingress source needs podLabels, namespaceLabels or cidr")
        if self.cidr is not None and (self.pod_labels is not None or self.namespace_labels is not None):
            raise ValueError("cidr cannot be combined with podLabels or namespaceLabels")
        return self


MODEL_SERVER_RESOURCES = {"cpu": "1", "memory": "2Gi"}


class Serving(WorkloadBase):
    """A model server: an apps/v1 Deployment, a Service, and optionally an HPA, PDB and ServiceMonitor."""

    kind: Literal["serving"]
    replicas: int | None = Field(default=None, ge=0, le=INT32_MAX)
    """Fixed replica count (default 1); leave out when autoscaling is set."""
    ports: list[Port] = Field(default_factory=list)
    """Ports the model server listens on (a registered model's server defaults to http 8080)."""
    model: RegisteredModel | None = None
    """Serve this MLflow registered model (command, port and probes are filled in)."""
    kserve: KServe | None = None
    """Render a KServe InferenceService instead of a Deployment, Service and HPA."""
    autoscaling: Autoscaling | None = None
    """Optional HorizontalPodAutoscaler."""
    metrics: MetricsEndpoint | None = None
    """Prometheus scraping (renders a ServiceMonitor)."""
    disruption_budget: DisruptionBudget | None = None
    """PodDisruptionBudget; with 2 or more replicas the default is maxUnavailable: 1."""
    allow_from: list[IngressPeer] | None = None
    """Who may reach the ports when the environment's network policy is on (default: its allowFrom)."""

    @model_validator(mode="before")
    @classmethod
    def _model_server_defaults(cls, data: Any) -> Any:
        # A registered model's server needs no hand-written sizing to start: 1 CPU and 2Gi by default.
        if isinstance(data, dict) and data.get("model") is not None and "resources" not in data:
            return {**data, "resources": dict(MODEL_SERVER_RESOURCES)}
        return data


class Batch(WorkloadBase):
    """A scheduled job (e.g. nightly batch inference), rendered as a batch/v1 CronJob."""

    kind: Literal["batch"]
    mlflow: MlflowRun | None = None
    """Log runs to the environment's MLflow tracking server."""
    schedule: str = Field(min_length=1)
    """Cron schedule, five fields, e.g. '0 2 * * *'."""
    time_zone: str | None = None
    """IANA time zone of the schedule, e.g. 'Europe/Berlin'; default is the controller's."""
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = "Forbid"
    """What to do when the previous run is still going."""
    suspend: bool = False
    starting_deadline_seconds: int | None = Field(default=None, ge=1)
    successful_jobs_history_limit: int = Field(default=3, ge=0)
    failed_jobs_history_limit: int = Field(default=1, ge=0)
    backoff_limit: int = Field(default=1, ge=0, le=INT32_MAX)
    active_deadline_seconds: int | None = Field(default=None, ge=1)
    restart_policy: Literal["Never", "OnFailure"] = "Never"

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if value.startswith("@"):
            if value not in {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}:
                raise ValueError(f"{value!r} is not a cron macro (@hourly, @daily, @weekly, @monthly, @yearly)")
            return value
        fields = value.split()
        if len(fields) != 5 or not all(re.match(r"^[0-9A-Za-z*/,?-]+$", f) for f in fields):
            raise ValueError(f"{value!r} is not a five-field cron schedule such as '0 2 * * *'")
        return value


class ElasticPolicy(SpecModel):
    """Elastic training: the job keeps running while between min and max nodes are available."""

    min_replicas: int = Field(ge=1, le=INT32_MAX)
    max_replicas: int = Field(ge=1, le=INT32_MAX)
    rdzv_backend: Literal["c10d", "etcd", "etcd-v2"] = "c10d"
    """torchrun rendezvous backend."""
    max_restarts: int | None = Field(default=None, ge=0, le=INT32_MAX)


class RunPolicy(SpecModel):
    """How the training operator runs the job."""

    clean_pod_policy: Literal["None", "Running", "All"] = "None"
    """Which pods to delete when the job ends ('None' keeps logs around)."""
    backoff_limit: int | None = Field(default=None, ge=0, le=INT32_MAX)
    active_deadline_seconds: int | None = Field(default=None, ge=1)
    suspend: bool = False


class DistributedTraining(WorkloadBase):
    """Multi-node PyTorch training, rendered as a Kubeflow PyTorchJob (one Master, N Workers).

    `resources` are per pod: each of the 1 + workers pods gets them (8 GPUs = one full node each).
    """

    kind: Literal["distributed-training"]
    mlflow: MlflowRun | None = None
    """Log runs to the environment's MLflow tracking server."""
    workers: int = Field(ge=0, le=INT32_MAX)
    """Worker pods besides the Master."""
    nproc_per_node: int | Literal["auto", "gpu", "cpu"] = "auto"
    """Processes per pod (torchrun --nproc-per-node); usually the GPU count."""
    elastic_policy: ElasticPolicy | None = None
    run_policy: RunPolicy = Field(default_factory=RunPolicy)
    restart_policy: Literal["Never", "OnFailure", "ExitCode"] = "OnFailure"
    queue: DnsLabel | None = None
    """Kueue LocalQueue to submit to (default: the environment's kueue.defaultQueue)."""

    @property
    def pods(self) -> int:
        return 1 + self.workers


Workload = Annotated[Training | DistributedTraining | Serving | Batch, Field(discriminator="kind")]
"""A workload; `kind` says which: training, distributed-training, serving or batch."""
