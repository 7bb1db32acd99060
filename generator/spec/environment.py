"""An environment: one namespace of one cluster, with the workloads that run there."""

from __future__ import annotations

from pydantic import Field

from generator.spec.base import Annotations, DnsLabel, Labels, SpecModel
from generator.spec.cluster import ClusterProfile
from generator.spec.storage import Volume
from generator.spec.workloads import Workload


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
