"""Pod-level settings every workload kind shares: placement, identity, configuration sources, host IPC.

Names follow the Kubernetes PodSpec fields they render to (`tolerations`, `imagePullSecrets`,
`topologySpreadConstraints` as `spread`), so the API reference explains them too.
"""

from __future__ import annotations

import datetime
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from mlgitops.kube.names import label_key_problem
from mlgitops.spec.base import INT32_MAX, Annotations, DnsLabel, Labels, SpecModel


def _label_key(value: str) -> str:
    problem = label_key_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class NodeRequirement(SpecModel):
    """A node label requirement (a NodeSelectorRequirement): `key operator values`."""

    key: str
    """Node label key, e.g. 'topology.kubernetes.io/zone' or 'karpenter.sh/capacity-type'."""
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] = "In"
    values: list[str] = Field(default_factory=list)
    """Label values: one or more for In/NotIn, none for Exists/DoesNotExist, one integer for Gt/Lt."""

    _key = field_validator("key")(_label_key)

    @model_validator(mode="after")
    def _values_fit_operator(self) -> NodeRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"operator {self.operator} needs at least one value")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no values")
        if self.operator in ("Gt", "Lt") and (len(self.values) != 1 or not re.fullmatch(r"-?[0-9]+", self.values[0])):
            raise ValueError(f"operator {self.operator} takes exactly one whole number as its value")
        return self


class PreferredNodeTerm(SpecModel):
    """Nodes matching every requirement get ``weight`` added to their scheduling score."""

    weight: int = Field(ge=1, le=100)
    match: list[NodeRequirement] = Field(min_length=1)
    """Requirements a node must meet to earn the weight (all of them)."""


class NodeAffinity(SpecModel):
    """Node affinity: labels a node must have (required) or should have (preferred), beyond the node pool's."""

    required: list[NodeRequirement] = Field(default_factory=list)
    """Every requirement must hold, or the pod is not scheduled (requiredDuringSchedulingIgnoredDuringExecution)."""
    preferred: list[PreferredNodeTerm] = Field(default_factory=list)
    """Soft preferences (preferredDuringSchedulingIgnoredDuringExecution)."""


class AntiAffinity(SpecModel):
    """Keep the workload's pods apart: at most one per topology domain (podAntiAffinity on its own pods)."""

    topology_key: str = "kubernetes.io/hostname"
    """Node label that defines a domain: 'kubernetes.io/hostname' (one per node) or 'topology.kubernetes.io/zone'."""
    required: bool = False
    """True: never two pods in one domain (pods stay Pending when domains run out); false: only preferred."""
    weight: int = Field(default=100, ge=1, le=100)
    """Weight of the preference when not required."""

    _key = field_validator("topology_key")(_label_key)


class SpreadConstraint(SpecModel):
    """A topologySpreadConstraint over the workload's own pods."""

    topology_key: str
    """Node label that defines a domain, e.g. 'topology.kubernetes.io/zone' or 'kubernetes.io/hostname'."""
    max_skew: int = Field(default=1, ge=1, le=INT32_MAX)
    """Largest allowed difference in pod count between two domains."""
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"] = "ScheduleAnyway"
    """DoNotSchedule keeps pods Pending rather than skew further; ScheduleAnyway only prefers balance."""
    min_domains: int | None = Field(default=None, ge=1, le=INT32_MAX)
    """Domains to count even when empty (only with DoNotSchedule)."""

    _key = field_validator("topology_key")(_label_key)

    @model_validator(mode="after")
    def _min_domains(self) -> SpreadConstraint:
        if self.min_domains is not None and self.when_unsatisfiable != "DoNotSchedule":
            raise ValueError("minDomains only works with whenUnsatisfiable: DoNotSchedule")
        return self


class Toleration(SpecModel):
    """A toleration besides those of the node pool's taints (which mlgitops adds itself)."""

    key: str | None = None
    """Taint key; omitted with operator Exists tolerates every taint."""
    operator: Literal["Exists", "Equal"] = "Exists"
    value: str | None = None
    """Taint value, with operator Equal."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    """Effect tolerated; omitted means every effect."""
    toleration_seconds: int | None = Field(default=None, ge=0)
    """With NoExecute: how long the pod stays after the taint appears."""

    @model_validator(mode="after")
    def _consistent(self) -> Toleration:
        if self.operator == "Equal" and (self.key is None or self.value is None):
            raise ValueError("operator Equal needs a key and a value")
        if self.operator == "Exists" and self.value is not None:
            raise ValueError("operator Exists takes no value")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError("tolerationSeconds only applies to effect NoExecute")
        if self.key is not None:
            _label_key(self.key)
        return self


class HostIpc(SpecModel):
    """Share the node's IPC namespace. Rule security-host-ipc refuses it unless waived: the reason is the waiver."""

    reason: str = Field(min_length=10)
    """Why the pods need the host's IPC namespace (e.g. NVIDIA MPS shared memory); shown in every report."""
    until: datetime.date | None = None
    """Date the waiver expires (YYYY-MM-DD); the rule fires again after it."""


class ObjectName(SpecModel):
    """A ConfigMap or Secret by name."""

    name: DnsLabel


class EnvFromSource(SpecModel):
    """Every key of a ConfigMap or Secret as environment variables. Give configMapRef or secretRef."""

    config_map_ref: ObjectName | None = None
    """A ConfigMap of the environment's configMaps, or one listed in existingConfigMaps."""
    secret_ref: ObjectName | None = None
    """A Secret of the environment's externalSecrets, or one listed in existingSecrets."""
    prefix: str | None = Field(default=None, pattern=r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
    """Prefix added to every variable name."""

    @model_validator(mode="after")
    def _one_source(self) -> EnvFromSource:
        if (self.config_map_ref is None) == (self.secret_ref is None):
            raise ValueError("envFrom needs exactly one of 'configMapRef' or 'secretRef'")
        return self


class WorkloadServiceAccount(SpecModel):
    """A ServiceAccount of the workload's own, named after it."""

    annotations: Annotations = Field(default_factory=dict)
    """Cloud identity, e.g. 'eks.amazonaws.com/role-arn', 'iam.gke.io/gcp-service-account',
    'azure.workload.identity/client-id'."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels of the ServiceAccount (Azure Workload Identity's 'azure.workload.identity/use: "true"'
    belongs on the pods: use the workload's labels)."""
    automount_service_account_token: bool = False
    """Mount an API token into pods by default (off: ML pods rarely call the Kubernetes API)."""


class ServiceAccountSpec(WorkloadServiceAccount):
    """A ServiceAccount shared by several workloads (they name it with serviceAccountName)."""

    name: DnsLabel


class ConfigFile(SpecModel):
    """A file of the repository stored under one key of a ConfigMap."""

    path: str = Field(min_length=1)
    """Path relative to the environment file that names it; it must stay inside the repository."""
    key: str | None = Field(default=None, pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)
    """Key in the ConfigMap (default: the file's name)."""

    @property
    def key_name(self) -> str:
        return self.key or self.path.rstrip("/").rpartition("/")[2]


class ConfigMapSpec(SpecModel):
    """A ConfigMap rendered from literal values and repository files, named `<name>-<content hash>`.

    The hash changes with the content (as kustomize's configMapGenerator does), so a changed
    ConfigMap rolls the pods that use it instead of leaving them on stale values.
    """

    name: DnsLabel
    """Name used in env, envFrom and volumes; the rendered ConfigMap is `<name>-<hash>`."""
    data: dict[str, str] = Field(default_factory=dict)
    """Literal keys and values."""
    files: list[ConfigFile] = Field(default_factory=list)
    """Files whose contents become keys."""

    @field_validator("data")
    @classmethod
    def _keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.fullmatch(r"[-._a-zA-Z0-9]+", key) or len(key) > 253:
                raise ValueError(f"ConfigMap key {key!r} may only hold letters, digits, '-', '_' and '.'")
        return value
