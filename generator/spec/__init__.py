"""Typed models of environment files. Build them in code or load them from YAML."""

from generator.spec.autoscaling import (
    Autoscaling,
    Behavior,
    CpuMetric,
    ExternalMetric,
    MemoryMetric,
    PodsMetric,
    ScalingPolicy,
    ScalingRules,
)
from generator.spec.batch import Batch
from generator.spec.cluster import Allocatable, ClusterProfile, NodePool, TaintSpec
from generator.spec.container import EnvVar, KeyRef, Mount, Port, Probe, Probes, ResourceLimits, Resources, Security
from generator.spec.environment import ClusterQueueSpec, Environment, Kueue
from generator.spec.ray import RayAutoscaling, RayJob, RayService, RayWorkerGroup
from generator.spec.serving import Serving
from generator.spec.storage import ClaimSpec, ScratchSpec, Volume
from generator.spec.training import DistributedTraining, Training, TrainingRuntimeRef
from generator.spec.workloads import Workload

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
