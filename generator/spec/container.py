"""What every workload kind shares: the main container (image, env, resources, probes, mounts, security) and its pod."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from mlgitops.spec.base import (
    INT32_MAX,
    Annotations,
    DnsLabel,
    DnsSubdomain,
    Labels,
    PortName,
    PortReference,
    PositiveQuantity,
    SpecModel,
)
from mlgitops.spec.cluster import GPU_RESOURCE_PATTERN
from mlgitops.spec.monitoring import Alerts
from mlgitops.spec.overrides import Patch
from mlgitops.spec.pod import (
    AntiAffinity,
    EnvFromSource,
    HostIpc,
    NodeAffinity,
    SpreadConstraint,
    Toleration,
    WorkloadServiceAccount,
)
from mlgitops.spec.problems import FieldPath

IMAGE_PATTERN = r"^[^\s:@/][^\s]*$"


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


class DeviceSelection(SpecModel):
    """Which devices a DRA claim may be given (pools with a deviceClass only): CEL selectors over the driver's attributes."""

    product_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]([-A-Za-z0-9 _.]*[A-Za-z0-9])?$", max_length=128)
    """Exact product name the driver publishes, e.g. 'NVIDIA H100 80GB HBM3' (attribute productName)."""
    min_memory: PositiveQuantity | None = None
    """Least device memory, e.g. '80Gi' (capacity memory)."""


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
    """Number of accelerator devices (GPUs, MIG slices, Gaudi cards, Neuron cores, TPU chips): rendered as a limit of
    the pool's resource with an equal request, or, on a pool with a DRA deviceClass, as a ResourceClaimTemplate."""
    gpu_resource: str | None = Field(default=None, pattern=GPU_RESOURCE_PATTERN)
    """Accelerator resource name, e.g. 'nvidia.com/gpu', a MIG slice 'nvidia.com/mig-1g.10gb' or 'amd.com/gpu'
    (default: the pool's)."""
    gpu_product: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", max_length=63)
    """GPU model wanted, matched against the `nvidia.com/gpu.product` node label, e.g. 'NVIDIA-H100-80GB-HBM3'."""
    device: DeviceSelection | None = None
    """On a pool with a DRA deviceClass: which devices the ResourceClaimTemplate may be given (product, memory)."""


class HttpGetAction(SpecModel):
    """Probe by HTTP GET; any 2xx or 3xx status is success."""

    path: str = Field(pattern=r"^/")
    port: PortReference
    """Container port number or name."""


class TcpSocketAction(SpecModel):
    """Probe by opening a TCP connection."""

    port: PortReference
    """Container port number or name."""


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


MountRole = Literal["data", "model", "checkpoint", "output", "cache", "config"]


class Mount(SpecModel):
    """A volume mounted into the main container."""

    volume: DnsLabel
    """Name of an environment volume."""
    path: str = Field(pattern=r"^/")
    """Absolute mount path."""
    role: MountRole
    """What lives there: data, model, checkpoint and output need persistent claims; cache may be scratch;
    config is a ConfigMap volume."""
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
    """Pod security settings. Defaults follow the Kubernetes 'restricted' profile (see ``spec/run_as.py``)."""

    run_as_non_root: bool | None = None
    """Let the kubelet refuse to start a container as root. Default: true, unless runAsUser is 0 (root: rule
    security-non-root then reports the pod unless waived). Never true together with runAsUser 0."""
    run_as_user: int | None = Field(default=None, ge=0)
    """uid the containers run as. Default for a non-root pod: 1000 (LLM servers: their image's), since the kubelet
    cannot check an image whose USER is a name."""
    run_as_group: int | None = Field(default=None, ge=0)
    fs_group: int | None = Field(default=None, ge=0)
    allow_privilege_escalation: bool = False
    read_only_root_filesystem: bool = False
    drop_all_capabilities: bool = True
    """Drop every Linux capability (restricted profile)."""
    seccomp_profile: Literal["RuntimeDefault", "Unconfined"] = "RuntimeDefault"


class ContainerSecurity(SpecModel):
    """Security settings of one extra container; unset fields follow the workload's `security`."""

    run_as_non_root: bool | None = None
    run_as_user: int | None = Field(default=None, ge=0)
    run_as_group: int | None = Field(default=None, ge=0)
    allow_privilege_escalation: bool | None = None
    read_only_root_filesystem: bool | None = None
    drop_all_capabilities: bool | None = None


class ContainerFields(SpecModel):
    """What the main container and every init container and sidecar are described with."""

    name: DnsLabel
    """Name: the workload's (its objects are named after it), or a container's within the pod."""
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    command: list[str] | None = None
    """Entrypoint override."""
    args: list[str] | None = None
    """Arguments to the entrypoint."""
    working_dir: str | None = None
    env: list[EnvVar] = Field(default_factory=list)
    """Environment variables."""
    env_from: list[EnvFromSource] = Field(default_factory=list)
    """All keys of ConfigMaps or Secrets as environment variables."""
    resources: Resources
    """CPU and memory requests and limits (GPUs only in the main container)."""
    mounts: list[Mount] = Field(default_factory=list)
    """Environment volumes mounted into the container."""
    probes: Probes = Field(default_factory=Probes)
    """Health probes (of the main container and sidecars; init containers take none)."""


class ExtraContainer(ContainerFields):
    """An init container or a sidecar: the same image, env, resources, mounts and security fields as the main container."""

    image: str = Field(pattern=IMAGE_PATTERN, min_length=1)
    """Container image with a tag or digest."""
    security: ContainerSecurity = Field(default_factory=ContainerSecurity)
    """Overrides of the workload's security settings for this container."""


class Port(SpecModel):
    """A port the serving container listens on; the Service exposes it under the same name."""

    name: PortName = "http"
    """Port name: at most 15 lower-case letters, digits and '-', at least one letter (an IANA service name)."""
    port: int = Field(ge=1, le=65535)
    """Container port number."""
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"


class WorkloadBase(ContainerFields):
    """What every workload kind shares: the main container, its resources, placement and storage."""

    image: str | None = Field(default=None, pattern=IMAGE_PATTERN, min_length=1)
    """Container image with a tag or digest, e.g. 'ghcr.io/acme/train:1.4.2' (required, except for a
    serving workload of a registered model, which defaults to the environment's mlflow.servingImage)."""
    node_pool: DnsLabel | None = None
    """Node pool to run on; GPU workloads default to the only pool with their GPU resource."""
    priority_class_name: DnsSubdomain | None = None
    """PriorityClass of the pods."""
    service_account_name: DnsLabel | None = None
    """ServiceAccount the pods run as: one of the environment's serviceAccounts or existingServiceAccounts."""
    service_account: WorkloadServiceAccount | None = None
    """Render a ServiceAccount of the workload's own (named after it), e.g. with a cloud IAM annotation."""
    automount_service_account_token: bool = False
    """Mount a Kubernetes API token into the pods (off by default: ML pods rarely call the API)."""
    image_pull_secrets: list[DnsLabel] | None = None
    """Secrets to pull images with (default: the environment's imagePullSecrets; [] for none)."""
    init_containers: list[ExtraContainer] = Field(default_factory=list)
    """Containers that run to completion, in order, before the main container starts (e.g. a model download)."""
    sidecars: list[ExtraContainer] = Field(default_factory=list)
    """Native sidecars (init containers with restartPolicy: Always, Kubernetes 1.29+): start before the init
    containers and the main container and run beside it (log shippers, proxies)."""
    tolerations: list[Toleration] = Field(default_factory=list)
    """Tolerations besides those of the node pool's taints."""
    node_affinity: NodeAffinity | None = None
    """Node labels required or preferred, on top of the node pool's selector."""
    anti_affinity: AntiAffinity | None = None
    """Keep the workload's pods on different nodes (or zones)."""
    spread: list[SpreadConstraint] | None = None
    """topologySpreadConstraints over the workload's pods. Serving workloads with 2 or more replicas spread
    over zones and nodes by default (ScheduleAnyway); [] turns that off."""
    host_ipc: HostIpc | None = Field(default=None, alias="hostIPC")
    """Share the node's IPC namespace; needs a reason, which waives rule security-host-ipc."""
    shm_size: PositiveQuantity | None = None
    """Size of a memory-backed /dev/shm (PyTorch DataLoader workers need more than the 64Mi default)."""
    security: Security = Field(default_factory=Security)
    """Pod security overrides."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on the workload's objects and pods."""
    annotations: Annotations = Field(default_factory=dict)
    """Extra annotations on the workload's objects and pods."""
    manifests: list[str] = Field(default_factory=list)
    """YAML files of plain Kubernetes objects (relative to the environment file) deployed with this workload."""
    patches: list[Patch] = Field(default_factory=list)
    """Patches applied to this workload's rendered objects (strategic merge or JSON 6902)."""
    alerts: Alerts | None = None
    """Thresholds of this workload's alerts (the environment's monitoring.alerts, overridden field by field)."""
    group: DnsLabel = "workloads"
    """Kustomize root (rendered/<env>/<group>/) of this workload when the environment is sharded; e.g. a team."""

    def pod_groups(self, at: FieldPath) -> list[PodGroup]:
        """Each set of the workload's pods that share resources and a node pool, as they run at once (``at``: where
        the workload is written). One pod by default; a kind with more counts them itself."""
        return [PodGroup(self, at, (*at, "resources"), 1)]

    def most_replicas(self) -> int:
        """The most replicas of the workload that run at once (1, unless a server's count or autoscaler says more)."""
        return 1


@dataclass(frozen=True)
class PodGroup:
    """Pods of one workload that share resources and a node pool (a Ray worker group, a job's parallel pods).

    ``view`` is the workload as those pods see it (their resources and pool), ``at`` where those resources
    are written, ``count_path`` the field that sets how many run at once, ``pods`` how many.
    """

    view: WorkloadBase
    at: FieldPath
    count_path: FieldPath
    pods: int
