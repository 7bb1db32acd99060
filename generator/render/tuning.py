"""A tuned training run → a Katib Experiment (kubeflow.org/v1beta1) whose trial template is the run's Job.

The trial template is the Job mlgitops renders for the run (queue labels, placement, security) without a name (Katib
names each trial's Job), its main container given each parameter as `${trialParameters.<name>}` in a flag or a
variable; Katib fills the value per trial. SOURCE: kubeflow/katib experiment_types.go (TrialTemplate:
primaryContainerName, trialParameters with name and reference, trialSpec), pkg/controller.v1beta1/consts/const.go
(TrialTemplateParamReplaceFormat), experiment_defaults.go (a Job's success and failure conditions, the StdOut
metrics collector are filled in by Katib's webhook). Like the Job, the Experiment is named by a hash of its spec:
Katib's webhook lets only the trial counts change (validator.go).
"""

from __future__ import annotations

import copy
from typing import Any

from mlgitops.render.metadata import ObjectMeta
from mlgitops.render.workloads_hash import hash_named
from mlgitops.spec.environment import Environment
from mlgitops.spec.training import Training
from mlgitops.spec.tuning import Tuning, TuningParameter

KATIB_API = "kubeflow.org/v1beta1"


def _feasible_space(parameter: TuningParameter) -> dict[str, Any]:
    if parameter.type in ("discrete", "categorical"):
        return {"list": list(parameter.values)}
    space: dict[str, Any] = {"min": parameter.min, "max": parameter.max}
    if parameter.step is not None:
        space["step"] = parameter.step
    return space


def _substituted(job_spec: dict[str, Any], container: str, tuning: Tuning) -> dict[str, Any]:
    """The Job spec with each parameter handed to the main container (an appended flag, or a variable)."""
    spec = copy.deepcopy(job_spec)
    for main in spec["template"]["spec"]["containers"]:
        if main["name"] != container:
            continue
        for parameter in tuning.parameters:
            value = f"${{trialParameters.{parameter.name}}}"
            if parameter.env is not None:
                main.setdefault("env", []).append({"name": parameter.env, "value": value})
            else:
                main.setdefault("args", []).append(f"{parameter.arg or '--' + parameter.name}={value}")
    return spec


def render_experiment(
    environment: Environment, workload: Training, meta: ObjectMeta, job_spec: dict[str, Any], annotations: dict[str, str]
) -> dict[str, Any]:
    """The Experiment of a tuned run; ``meta`` carries the queue's labels, which each trial's Job gets too."""
    tuning = workload.tuning
    assert tuning is not None
    objective: dict[str, Any] = {"type": tuning.objective.type, "objectiveMetricName": tuning.objective.metric}
    if tuning.objective.goal is not None:
        objective["goal"] = tuning.objective.goal
    if tuning.objective.additional_metrics:
        objective["additionalMetricNames"] = list(tuning.objective.additional_metrics)
    algorithm: dict[str, Any] = {"algorithmName": tuning.algorithm}
    if tuning.algorithm_settings:
        algorithm["algorithmSettings"] = [{"name": k, "value": v} for k, v in sorted(tuning.algorithm_settings.items())]
    spec: dict[str, Any] = {
        "objective": objective,
        "algorithm": algorithm,
        "parallelTrialCount": tuning.parallel_trials,
        "maxTrialCount": tuning.max_trials,
    }
    if tuning.max_failed_trials is not None:
        spec["maxFailedTrialCount"] = tuning.max_failed_trials
    spec["parameters"] = [
        {"name": p.name, "parameterType": p.type, "feasibleSpace": _feasible_space(p)} for p in tuning.parameters
    ]
    trial_meta: dict[str, Any] = {"labels": dict(meta.labels)}
    spec["trialTemplate"] = {
        "primaryContainerName": workload.name,
        "trialParameters": [
            {"name": p.name, "description": f"{p.type} hyperparameter {p.name}", "reference": p.name} for p in tuning.parameters
        ],
        "trialSpec": {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": trial_meta,
            "spec": _substituted(job_spec, workload.name, tuning),
        },
    }
    return hash_named(KATIB_API, "Experiment", meta, environment.namespace, spec, annotations)
