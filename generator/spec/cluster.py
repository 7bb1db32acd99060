"""The cluster profile: node pools, their labels, taints and what one node can allocate."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from mlgitops.spec.base import INT32_MAX, DnsLabel, LabelKey, Labels, PositiveQuantity, SpecModel

GPU_RESOURCE_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
HOSTNAME_LABEL = "kubernetes.io/hostname"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


class TaintSpec(SpecModel):
    """A taint carried by every node of a pool; pods scheduled there get a matching toleration."""

    key: str = Field(min_length=1)
    """Taint key, e.g. 'nvidia.com/gpu'."""
    value: str | None = None
    """Taint value; tolerations use operator Exists, so the value never needs repeating."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"
    """What the taint does to pods that do not tolerate it."""


class Allocatable(SpecModel):
    """What a single node of the pool can give to pods (after system reservations)."""

    cpu: PositiveQuantity
    """Allocatable CPU of one node, e.g. '31' or '31500m'."""
    memory: PositiveQuantity
    """Allocatable memory of one node, e.g. '120Gi'."""
    gpus: int = Field(default=0, ge=0, le=INT32_MAX)
    """Accelerator devices on one node: GPUs (or MIG slices, time-sliced shares, Gaudi cards, Neuron cores, TPU
    chips: whatever gpuResource or deviceClass hands out)."""


class Disruption(SpecModel):
    """When Karpenter may remove the pool's nodes (a NodePool's spec.disruption, karpenter.sh/v1).

    Pods of queued jobs carry karpenter.sh/do-not-disrupt: "true" whatever the policy, so consolidation never
    evicts a training run; expiry (expireAfter) and a NodeClaim's terminationGracePeriod still can.
    """

    consolidation_policy: Literal["WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced"] | None = None
    """WhenEmpty: only nodes without pods; WhenEmptyOrUnderutilized: also moves pods to pack nodes; Balanced
    (Karpenter 1.14+): packs only when it saves enough. Default: WhenEmpty for pools with accelerators (moving a
    GPU pod loses its work or its loaded model), WhenEmptyOrUnderutilized for the others."""
    consolidate_after: str = Field(default="5m", pattern=r"^(([0-9]+(s|m|h))+|Never)$")
    """How long a node stays empty (or underutilised) before Karpenter removes it; 'Never' disables consolidation.
    Always written: every released Karpenter v1 requires it in a written disruption block."""


CapacityType = Literal["on-demand", "reserved", "spot"]
"""Karpenter's karpenter.sh/capacity-type values (karpenter.sh/v1 well-known labels)."""
Price = Decimal
"""An amount of money per hour (the pool's currency); written as a number, e.g. 32.77."""


class NodeHourPrices(SpecModel):
    """What one node of the pool costs per hour, by capacity type."""

    on_demand: Price | None = Field(default=None, ge=0)
    """Per node-hour, on-demand (list price)."""
    reserved: Price | None = Field(default=None, ge=0)
    """Per node-hour under a reservation or savings plan (its effective hourly rate)."""
    spot: Price | None = Field(default=None, ge=0)
    """Per node-hour on spot / preemptible capacity (a typical rate: spot prices move)."""


class PoolPrices(SpecModel):
    """What the pool's capacity costs, for the cost figures of `mlgitops diff` and `budget.costPerHour`.

    Either per node-hour (a pod is charged the share of a node its largest request takes: CPU, memory or
    accelerators of `allocatable`) or per accelerator-hour (a pod is charged its accelerators; CPU-only pods on the
    pool cost nothing). Storage, egress and control-plane fees are not counted.
    """

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    """ISO 4217 code of every price of the pool, e.g. 'USD', 'EUR'; all priced pools of an environment share one."""
    node_hour: NodeHourPrices | None = None
    """Price of one node per hour, by capacity type."""
    accelerator_hour: Price | None = Field(default=None, ge=0)
    """Price of one accelerator (the pool's gpuResource or deviceClass device) per hour."""
    capacity_type: CapacityType | None = None
    """Which node-hour price applies. Default: the pool's only capacityType, else on-demand."""

    @model_validator(mode="after")
    def _one_basis(self) -> PoolPrices:
        if (self.node_hour is None) == (self.accelerator_hour is None):
            raise ValueError("give either nodeHour (per node, by capacity type) or acceleratorHour (per accelerator), not both")
        return self


class NodePool(SpecModel):
    """A group of identical nodes that workloads choose by name with `nodePool`."""

    name: DnsLabel
    """Pool name, referenced by workloads."""
    labels: Labels = Field(default_factory=dict)
    """Node labels that identify the pool; rendered as the pod's nodeSelector."""
    taints: list[TaintSpec] = Field(default_factory=list)
    """Taints on the pool's nodes; pods placed on the pool tolerate each of them."""
    allocatable: Allocatable
    """What one node of the pool can allocate."""
    gpu_resource: str = Field(default="nvidia.com/gpu", pattern=GPU_RESOURCE_PATTERN)
    """Extended resource name of the pool's accelerators: 'nvidia.com/gpu', a MIG slice 'nvidia.com/mig-1g.10gb',
    time-sliced 'nvidia.com/gpu.shared', 'amd.com/gpu', 'habana.ai/gaudi', 'aws.amazon.com/neuroncore',
    'google.com/tpu', ... Workloads on the pool asking for `gpu: N` get N of it."""
    device_class: str | None = Field(default=None, pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)
    """Dynamic Resource Allocation (Kubernetes 1.34+): the DeviceClass the pool's accelerators are claimed from, e.g.
    'gpu.nvidia.com', instead of the extended resource. Workloads get a ResourceClaimTemplate (resource.k8s.io/v1)."""
    device_driver: str | None = Field(default=None, pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)
    """DRA driver publishing the devices' attributes, for device selectors (default: the deviceClass name)."""
    topology_label: LabelKey | None = None
    """Node label whose value names a group of tightly connected nodes (a rack, an NVLink or network block), e.g.
    'cloud.google.com/gke-nodepool': multi-node LLM servers place each group exclusively in one such domain."""
    instance_types: list[str] = Field(default_factory=list)
    """Cloud instance types the pool may launch (Karpenter requirement node.kubernetes.io/instance-type)."""
    capacity_types: list[Literal["on-demand", "spot", "reserved"]] = Field(default_factory=list)
    """Capacity types the pool may launch (Karpenter requirement karpenter.sh/capacity-type)."""
    max_nodes: int | None = Field(default=None, ge=1, le=INT32_MAX)
    """Most nodes the pool grows to: the Karpenter limit, and (times allocatable) the pool's Kueue quota."""
    disruption: Disruption = Field(default_factory=Disruption)
    """Karpenter's consolidation of the pool's nodes (with cluster.karpenter)."""
    prices: PoolPrices | None = None
    """What the pool costs per node-hour or accelerator-hour (none: its pods are left out of cost figures)."""
    topology_levels: list[LabelKey] = Field(default_factory=list, max_length=16)
    """Node labels of the pool's network topology, broadest first (e.g. block, rack, then 'kubernetes.io/hostname'):
    a Kueue Topology for topology-aware scheduling of the pool's flavor. Default with a topologyLabel: that label,
    then 'kubernetes.io/hostname'."""

    @model_validator(mode="after")
    def _priced_capacity(self) -> NodePool:
        if self.prices is not None and self.prices.node_hour is not None and self.node_hour_price is None:
            raise ValueError(
                f"prices.nodeHour has no {self._capacity_type.replace('-d', 'D')} price, the capacity type that applies "
                "(set it, or choose another with prices.capacityType)"
            )
        return self

    @property
    def _capacity_type(self) -> str:
        chosen = self.prices.capacity_type if self.prices is not None else None
        return chosen or (self.capacity_types[0] if len(self.capacity_types) == 1 else "on-demand")

    @property
    def node_hour_price(self) -> Price | None:
        """The node-hour price that applies: the chosen capacity type's (default: the pool's only capacityType, else
        on-demand); None when the pool is priced per accelerator or not at all."""
        if self.prices is None or self.prices.node_hour is None:
            return None
        prices = self.prices.node_hour
        return {"on-demand": prices.on_demand, "reserved": prices.reserved, "spot": prices.spot}[self._capacity_type]

    @property
    def accelerator(self) -> str:
        """What the pool's accelerators are counted as: the DeviceClass under DRA, else the extended resource."""
        return self.device_class or self.gpu_resource

    @property
    def kueue_topology(self) -> list[str]:
        """The levels of the pool's Kueue Topology: topologyLevels, or topologyLabel then the node (none: no Topology)."""
        if self.topology_levels:
            return list(self.topology_levels)
        if self.topology_label is not None:
            return list(dict.fromkeys([self.topology_label, HOSTNAME_LABEL]))
        return []


class NodeClassRef(SpecModel):
    """The Karpenter node class (cloud-specific settings) that a NodePool launches nodes with."""

    group: str = "karpenter.k8s.aws"
    kind: str = "EC2NodeClass"
    name: str = Field(min_length=1)


class Karpenter(SpecModel):
    """Render each node pool as a Karpenter NodePool, so node taints and pod tolerations share one source."""

    node_class_ref: NodeClassRef
    """Node class every rendered NodePool uses."""


class ClusterProfile(SpecModel):
    """What the target cluster offers; used to place workloads and to reject ones that cannot fit."""

    node_pools: list[NodePool] = Field(default_factory=list)
    """The cluster's node pools."""
    karpenter: Karpenter | None = None
    """Render the node pools as Karpenter NodePools into rendered/<env>/cluster/."""

    @model_validator(mode="after")
    def _one_currency(self) -> ClusterProfile:
        currencies = sorted({pool.prices.currency for pool in self.node_pools if pool.prices is not None})
        if len(currencies) > 1:
            raise ValueError(f"node pools are priced in {' and '.join(currencies)}: give every pool's prices one currency")
        return self

    @property
    def currency(self) -> str | None:
        """The currency of the priced pools (None: no pool has prices)."""
        return next((pool.prices.currency for pool in self.node_pools if pool.prices is not None), None)
