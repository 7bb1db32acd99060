"""The registry of workload kinds: one row per kind, with every fact about the kind the pipeline asks.

A row (``KindSpec``) says, for one spec model of the ``Workload`` union (``spec/workloads.py``): its
objects' component label, which of the environment's priority classes its pods get, the rule its name
follows, whether Kueue can queue it, whether Karpenter must leave its pods alone, how it is resolved
(what mlgitops derives), what the environment must offer it, its own checks, and why its pods cannot
claim DRA devices if they cannot. How many of its pods run at once is the model's own ``pod_groups()``.
The render half of the registry, each kind's renderer, is ``render/kinds.py``; ``spec`` never imports
``render``.

A new kind: its model (a spec module), a line in the ``Workload`` union, a row in ``KINDS`` below, its
renderer (a render module, registered with ``render.kinds.renders``), and tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, get_args

from mlgitops.kube.names import dns1035_label_problem, dns1123_label_problem
from mlgitops.spec.batch import Batch
from mlgitops.spec.checked import KindCheck
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.distributed_checks import check_distributed, train_job_dra
from mlgitops.spec.environment import Environment
from mlgitops.spec.llm import LlmServing
from mlgitops.spec.llm_defaults import with_llm_defaults
from mlgitops.spec.llm_routing_checks import routing_problems
from mlgitops.spec.placement import Placement
from mlgitops.spec.problems import FieldPath, SpecProblem
from mlgitops.spec.ray import RayJob, RayService
from mlgitops.spec.ray_checks import ray_dra, ray_job_problems, ray_service_problems
from mlgitops.spec.server_checks import llm_server_problems, tensor_parallel_fit
from mlgitops.spec.serving import Serving
from mlgitops.spec.serving_checks import server_problems, serving_integrations, serving_problems
from mlgitops.spec.serving_defaults import with_registered_model, with_tracking
from mlgitops.spec.training import DistributedTraining, Training
from mlgitops.spec.tuning_checks import tuning_problems

W = TypeVar("W", bound=WorkloadBase)
Family = Literal["training", "batch", "serving"]

# A training Job's name is "<workload>-<8 hex digits>"; a CronJob's Jobs get 11 more characters.
TRAINING_NAME_LIMIT = 63 - 9
CRONJOB_NAME_LIMIT = 52
# "<name>-<hash>-worker-<n>" must stay a valid Service name for every replica (and a TrainJob's JobSet
# names its Jobs and pods "<name>-<hash>-node-<job>-<pod>").
DISTRIBUTED_NAME_LIMIT = 40
# KubeRay: a RayJob or RayService name is at most 47 characters (its RayCluster adds 6, "-serve-svc" 10 more);
# a RayJob's name also carries the 9-character hash of its spec.
RAY_SERVICE_NAME_LIMIT = 47
RAY_JOB_NAME_LIMIT = RAY_SERVICE_NAME_LIMIT - 9
KUBERAY_METRICS_PORT = 8080
"""KubeRay declares the port `metrics` (8080) on every Ray container that has none (ray-project/kuberay
ray-operator/controllers/ray/common/pod.go, utils/constant.go DefaultMetricsPort and MetricsPortName)."""


@dataclass(frozen=True)
class WorkloadNameRule:
    """How long a workload's name may be and which naming rule it follows, since its objects are named after it.

    ``problem_of(name, limit)`` is a rule of ``kube/names.py``; ``why`` explains a limit below the rule's own.
    """

    problem_of: Callable[[str, int], str | None]
    limit: int
    why: str = ""

    def problem(self, name: str) -> str | None:
        """What is wrong with ``name`` (None: nothing)."""
        problem = self.problem_of(name, self.limit)
        if problem and self.why and len(name) > self.limit:
            problem += f" ({self.why})"
        return problem


SERVER_NAMES = WorkloadNameRule(dns1035_label_problem, 63)
"""A server's name is its Service's (a DNS-1035 label)."""


@dataclass(frozen=True)
class KindSpec(Generic[W]):
    """One workload kind: its spec model and what the pipeline needs to know about it."""

    model: type[W]
    component: Family
    """The app.kubernetes.io/component label of its objects."""
    priority: Family
    """Which of the environment's priority classes (priorities.training, .serving or .batch) its pods get."""
    name_rule: WorkloadNameRule
    queued: bool = False
    """Kueue can queue it: it names a `queue` (or takes kueue.defaultQueue); Kueue's webhook suspends it on create."""
    default_queue: bool = True
    """A queued kind that names no `queue` takes kueue.defaultQueue (False: it is queued only when it names one)."""
    do_not_disrupt: bool = False
    """Its pods run to completion and lose their work when evicted: they carry karpenter.sh/do-not-disrupt: "true",
    so Karpenter's consolidation leaves their nodes alone."""
    main_container: str | None = None
    """The main container's name when it is not the workload's name (sidecars must not take it)."""
    resolve: Callable[[Environment, W], W] = with_tracking
    """What mlgitops derives before checking and rendering it (default: MLflow tracking variables of a run)."""
    integrations: Callable[[Environment, W, FieldPath], list[SpecProblem]] | None = None
    """What it needs from the environment, checked first (None: MLflow for a run that logs, an image); when this
    finds problems, nothing else of the workload is checked."""
    checks: tuple[KindCheck[W], ...] = ()
    """Its own checks, after those every workload gets."""
    node_check: Callable[[W, Placement, FieldPath], list[SpecProblem]] | None = None
    """A fit check of its own on the pool its pods are placed on; when it finds problems, the requests' fit on a
    node is not checked."""
    dra_refusal: Callable[[W, str], str | None] | None = None
    """Why its pods cannot claim devices of a DRA DeviceClass (None: they can)."""
    metrics_port: int | None = None
    """The port its operator declares for metrics on its pods, which `metrics.port` cannot change (None: the
    workload's `metrics.port` is declared on its main container)."""

    @property
    def kind(self) -> str:
        """The `kind:` a user writes."""
        (kind,) = get_args(self.model.model_fields["kind"].annotation)
        return str(kind)


def _llm_defaults(environment: Environment, workload: LlmServing) -> LlmServing:
    return with_llm_defaults(workload)


def _registry(*rows: KindSpec[Any]) -> dict[type[WorkloadBase], KindSpec[Any]]:
    return {row.model: row for row in rows}


KINDS: dict[type[WorkloadBase], KindSpec[Any]] = _registry(
    KindSpec(
        Training,
        component="training",
        priority="training",
        name_rule=WorkloadNameRule(
            dns1123_label_problem, TRAINING_NAME_LIMIT, "a training Job's name gets a 9-character hash suffix"
        ),
        queued=True,
        do_not_disrupt=True,
        checks=(tuning_problems,),
    ),
    KindSpec(
        DistributedTraining,
        component="training",
        priority="training",
        name_rule=WorkloadNameRule(
            dns1035_label_problem,
            DISTRIBUTED_NAME_LIMIT,
            "the TrainJob or PyTorchJob gets a hash suffix and its pods a node or worker index on top",
        ),
        queued=True,
        do_not_disrupt=True,
        main_container="pytorch",
        checks=(check_distributed,),
        dra_refusal=train_job_dra,
    ),
    KindSpec(
        Serving,
        component="serving",
        priority="serving",
        name_rule=SERVER_NAMES,
        resolve=with_registered_model,
        integrations=serving_integrations,
        checks=(server_problems, serving_problems),
    ),
    KindSpec(
        LlmServing,
        component="serving",
        priority="serving",
        name_rule=SERVER_NAMES,
        queued=True,
        default_queue=False,
        resolve=_llm_defaults,
        checks=(llm_server_problems, routing_problems, server_problems),
        node_check=tensor_parallel_fit,
    ),
    KindSpec(
        Batch,
        component="batch",
        priority="batch",
        name_rule=WorkloadNameRule(dns1123_label_problem, CRONJOB_NAME_LIMIT, "the Jobs a CronJob creates add 11 characters"),
        do_not_disrupt=True,
    ),
    KindSpec(
        RayJob,
        component="batch",
        priority="batch",
        name_rule=WorkloadNameRule(
            dns1035_label_problem,
            RAY_JOB_NAME_LIMIT,
            "KubeRay allows 47 characters and the RayJob's name gets a 9-character hash suffix",
        ),
        queued=True,
        do_not_disrupt=True,
        checks=(ray_job_problems,),
        dra_refusal=ray_dra,
        metrics_port=KUBERAY_METRICS_PORT,
    ),
    KindSpec(
        RayService,
        component="serving",
        priority="serving",
        name_rule=WorkloadNameRule(
            dns1035_label_problem, RAY_SERVICE_NAME_LIMIT, "KubeRay derives its RayCluster and Service names from it"
        ),
        checks=(ray_service_problems,),
        dra_refusal=ray_dra,
        metrics_port=KUBERAY_METRICS_PORT,
    ),
)
"""Every workload kind by its spec model, in the order of the ``Workload`` union."""


def kind_of(workload: WorkloadBase) -> KindSpec[Any]:
    """The row of the workload's kind (a Ray worker group's view is its workload's kind)."""
    return KINDS[type(workload)]


def resolved(environment: Environment, workload: W) -> W:
    """The workload with everything mlgitops derives filled in: MLflow wiring, an LLM server's GPUs, probes, command."""
    row: KindSpec[W] = kind_of(workload)
    return row.resolve(environment, workload)
