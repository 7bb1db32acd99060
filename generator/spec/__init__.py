"""Typed models of environment files. Build them in code or load them from YAML.

What the pipeline knows about each workload kind is its row in the registry, ``spec/kinds.py``.
"""

from mlgitops.spec.autoscaling import (
    Autoscaling,
    Behavior,
    CpuMetric,
    ExternalMetric,
    MemoryMetric,
    PodsMetric,
    ScalingPolicy,
    ScalingRules,
)
from mlgitops.spec.batch import Batch
from mlgitops.spec.cluster import Allocatable, ClusterProfile, NodePool, TaintSpec
from mlgitops.spec.container import EnvVar, KeyRef, Mount, Port, Probe, Probes, ResourceLimits, Resources, Security
from mlgitops.spec.environment import ClusterQueueSpec, Environment, Kueue
from mlgitops.spec.ray import RayAutoscaling, RayJob, RayService, RayWorkerGroup
from mlgitops.spec.serving import Serving
from mlgitops.spec.storage import ClaimSpec, ScratchSpec, Volume
from mlgitops.spec.training import DistributedTraining, Training, TrainingRuntimeRef
from mlgitops.spec.workloads import Workload

__all__ = [
    "Allocatable",
    "Autoscaling",
    "Batch",
    "Behavior",
    "ClaimSpec",
    "ClusterProfile",
    "ClusterQueueSpec",
    "CpuMetric",
    "DistributedTraining",
    "EnvVar",
    "Environment",
    "ExternalMetric",
    "KeyRef",
    "Kueue",
    "MemoryMetric",
    "Mount",
    "NodePool",
    "PodsMetric",
    "Port",
    "Probe",
    "Probes",
    "RayAutoscaling",
    "RayJob",
    "RayService",
    "RayWorkerGroup",
    "ResourceLimits",
    "Resources",
    "ScalingPolicy",
    "ScalingRules",
    "ScratchSpec",
    "Security",
    "Serving",
    "TaintSpec",
    "Training",
    "TrainingRuntimeRef",
    "Volume",
    "Workload",
]
