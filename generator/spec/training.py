"""Training workloads: a single-pod or parallel batch/v1 Job, and multi-node PyTorch training."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from generator.spec.base import INT32_MAX, DnsLabel, SpecModel
from generator.spec.container import WorkloadBase
from generator.spec.integrations import MlflowRun


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
