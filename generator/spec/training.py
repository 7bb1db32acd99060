"""Training workloads: a single-pod or parallel batch/v1 Job, and multi-node training (TrainJob or PyTorchJob)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlgitops.spec.base import INT32_MAX, DnsLabel, DnsSubdomain, SpecModel
from mlgitops.spec.container import PodGroup, WorkloadBase
from mlgitops.spec.integrations import MlflowRun
from mlgitops.spec.monitoring import PodMetrics
from mlgitops.spec.problems import FieldPath
from mlgitops.spec.tuning import Tuning


class Training(WorkloadBase):
    """A training run, rendered as a batch/v1 Job whose name carries a hash of its pod template."""

    kind: Literal["training"]
    metrics: PodMetrics | None = None
    """Prometheus scraping of the pods (renders a PodMonitor; Prometheus may reach the port under the network policy)."""
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
    tuning: Tuning | None = None
    """Tune hyperparameters: a Katib Experiment whose trials run this Job with the parameters set, instead of the Job."""

    def pod_groups(self, at: FieldPath) -> list[PodGroup]:
        """``parallelism`` pods run at once; tuned, ``parallelism`` × the parallel trials."""
        if self.tuning is not None:
            pods = self.parallelism * self.tuning.parallel_trials
            return [PodGroup(self, at, (*at, "tuning", "parallelTrials"), pods)]
        return [PodGroup(self, at, (*at, "parallelism"), self.parallelism)]


class ElasticPolicy(SpecModel):
    """Elastic training (PyTorchJob only): the job keeps running while between min and max nodes are available."""

    min_replicas: int = Field(ge=1, le=INT32_MAX)
    max_replicas: int = Field(ge=1, le=INT32_MAX)
    rdzv_backend: Literal["c10d", "etcd", "etcd-v2"] = "c10d"
    """torchrun rendezvous backend."""
    max_restarts: int | None = Field(default=None, ge=0, le=INT32_MAX)


class RunPolicy(SpecModel):
    """How the training operator runs the job (TrainJob: suspend and activeDeadlineSeconds only)."""

    clean_pod_policy: Literal["None", "Running", "All"] = "None"
    """Which pods to delete when the job ends ('None' keeps logs around). PyTorchJob only."""
    backoff_limit: int | None = Field(default=None, ge=0, le=INT32_MAX)
    """Retries before the job fails. PyTorchJob only (a TrainJob's runtime sets it)."""
    active_deadline_seconds: int | None = Field(default=None, ge=1)
    """Stop the job after this many seconds (TrainJob spec.activeDeadlineSeconds)."""
    suspend: bool = False
    """Create the job suspended. Not for a queued job: Kueue's webhook suspends it on create and resumes it on
    admission, and a `suspend: true` in git would suspend it again on every GitOps sync."""


class TrainingRuntimeRef(SpecModel):
    """The Kubeflow Trainer runtime a TrainJob runs on (spec.runtimeRef).

    The runtime's trainer step must be a replicated job named 'node' with a container named 'node',
    as every runtime Kubeflow Trainer ships (torch-distributed, deepspeed-distributed, ...) is.
    """

    name: DnsSubdomain = "torch-distributed"
    """Name of the (Cluster)TrainingRuntime, e.g. 'torch-distributed'."""
    kind: Literal["ClusterTrainingRuntime", "TrainingRuntime"] = "ClusterTrainingRuntime"
    """ClusterTrainingRuntime (cluster-wide, the default) or TrainingRuntime (in the environment's namespace)."""


class DistributedTraining(WorkloadBase):
    """Multi-node training, rendered as a Kubeflow Trainer v2 TrainJob (trainer.kubeflow.org/v1alpha1).

    `resources` are per node (per pod): each of the `numNodes` pods gets them (8 GPUs = one full node each).
    `jobKind: PyTorchJob` renders a Training Operator v1 PyTorchJob (one Master, numNodes - 1 Workers)
    instead, for clusters that still run the deprecated operator.
    """

    kind: Literal["distributed-training"]
    metrics: PodMetrics | None = None
    """Prometheus scraping of the pods (renders a PodMonitor; Prometheus may reach the port under the network policy)."""
    job_kind: Literal["TrainJob", "PyTorchJob"] = "TrainJob"
    """TrainJob (Kubeflow Trainer v2, the default) or PyTorchJob (Training Operator v1, deprecated upstream)."""
    runtime: TrainingRuntimeRef = Field(default_factory=TrainingRuntimeRef)
    """The training runtime a TrainJob uses (default: the ClusterTrainingRuntime 'torch-distributed')."""
    mlflow: MlflowRun | None = None
    """Log runs to the environment's MLflow tracking server."""
    num_nodes: int | None = Field(default=None, ge=1, le=INT32_MAX)
    """Training nodes (pods), each with `resources` (TrainJob trainer.numNodes). Give numNodes or workers."""
    workers: int | None = Field(default=None, ge=0, le=INT32_MAX)
    """Worker pods besides the first (PyTorchJob's Master): numNodes = 1 + workers. Give numNodes or workers."""
    nproc_per_node: int | Literal["auto", "gpu", "cpu"] = "auto"
    """Processes per node (torchrun --nproc-per-node); usually the GPU count. 'auto' leaves it to the runtime."""
    elastic_policy: ElasticPolicy | None = None
    """PyTorchJob only: Kubeflow Trainer v2 has no elastic policy."""
    run_policy: RunPolicy = Field(default_factory=RunPolicy)
    restart_policy: Literal["Never", "OnFailure", "ExitCode"] = "OnFailure"
    """PyTorchJob only (a TrainJob's runtime sets the pods' restart policy)."""
    queue: DnsLabel | None = None
    """Kueue LocalQueue to submit to (default: the environment's kueue.defaultQueue)."""

    @property
    def pods(self) -> int:
        """Pods that run at once: numNodes, or 1 + workers (at least 1 while the spec is being checked)."""
        if self.num_nodes is not None:
            return self.num_nodes
        return 1 + (self.workers or 0)

    def pod_groups(self, at: FieldPath) -> list[PodGroup]:
        """All ``pods`` run at once, counted by numNodes (or workers)."""
        field = "numNodes" if self.num_nodes is not None else "workers"
        return [PodGroup(self, at, (*at, field), self.pods)]
