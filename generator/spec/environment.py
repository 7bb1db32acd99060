"""An environment: one namespace of one cluster, with the workloads that run there."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from generator.spec.base import INT32_MAX, Annotations, DnsLabel, Labels, Quantity, SpecModel
from generator.spec.cluster import ClusterProfile
from generator.spec.gitops import GitOps
from generator.spec.integrations import ExternalSecretSpec, MlflowServer, SecretStoreRef
from generator.spec.serving import IngressPeer
from generator.spec.storage import Volume
from generator.spec.workloads import Workload


class Kueue(SpecModel):
    """Submit training through Kueue: Jobs and PyTorchJobs carry the queue label and start suspended."""

    default_queue: DnsLabel | None = None
    """LocalQueue for training that names none; unset: only workloads with `queue` are queued."""


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
    """Default priorityClassName of serving pods (usually high)."""
    batch: DnsLabel | None = None
    """Default priorityClassName of batch pods."""
    classes: list[PriorityClassSpec] = Field(default_factory=list)
    """PriorityClasses to render (leave empty when the cluster already has them)."""


class Budget(SpecModel):
    """Most the environment's workloads may request in total (every replica and pod counted)."""

    gpus: int | None = Field(default=None, ge=0, le=INT32_MAX)
    """Total GPUs of all kinds."""
    cpu: Quantity | None = None
    """Total CPU, e.g. '500'."""
    memory: Quantity | None = None
    """Total memory, e.g. '4Ti'."""


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

    namespace: DnsLabel
    """Namespace every object is rendered into."""
    kubernetes_version: str = Field(pattern=r"^v?1\.[0-9]+(\.[0-9]+)?$")
    """Kubernetes version of the cluster, e.g. '1.32'; objects are validated against its schemas."""
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
