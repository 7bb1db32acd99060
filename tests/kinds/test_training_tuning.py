"""`tuning:` on a training run renders a Katib Experiment whose trials are the run's Job with the parameters set,
queued and budgeted like the run, and refuses what Katib or the budget would refuse at its line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.kube.kueue_queues import pod_sets
from mlgitops.kube.pods import pod_templates
from mlgitops.load.environments import load_environments
from tests.support import write

ENVIRONMENT = """\
namespace: ml
kubernetesVersion: "1.32"
kueue: {defaultQueue: gpu-training}
budget: {gpus: 4, cpu: "200", memory: 1Ti}
cluster:
  nodePools:
    - name: gpu
      labels: {node-pool: gpu}
      taints: [{key: nvidia.com/gpu, value: present}]
      allocatable: {cpu: "96", memory: 1000Gi, gpus: 8}
      maxNodes: 2
workloads:
  - name: tune
    kind: training
    image: registry.example/train:1
    args: [train.py]
    resources: {cpu: "8", memory: 64Gi, gpu: 2}
    tuning:
      objective: {type: minimize, metric: loss, additionalMetrics: [accuracy]}
      algorithm: bayesianoptimization
      algorithmSettings: {random_state: "7"}
      reports: [loss, accuracy]
      parameters:
        - {name: lr, type: double, min: "0.0001", max: "0.01"}
        - {name: layers, type: int, min: "2", max: "8", step: "2"}
        - {name: optimizer, type: categorical, values: [adam, sgd], env: OPTIMIZER}
      parallelTrials: 2
      maxTrials: 10
"""


def _build(tmp_path: Path, text: str = ENVIRONMENT) -> EnvironmentOutput:
    write(tmp_path / "env" / "dev.yaml", text)
    [loaded] = load_environments(tmp_path / "env")
    return build(loaded)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(UserError) as raised:
        _build(tmp_path, text)
    return raised.value.one_line().replace(f"{tmp_path}/env/", "")


def _experiment(output: EnvironmentOutput) -> dict[str, Any]:
    [experiment] = [item.obj for item in output.objects if item.kind == "Experiment"]
    return experiment


def test_a_tuned_run_renders_an_experiment_instead_of_its_job(tmp_path: Path) -> None:
    output = _build(tmp_path)
    assert [item.obj for item in output.objects if item.kind == "Job"] == []
    experiment = _experiment(output)
    assert experiment["apiVersion"] == "kubeflow.org/v1beta1"
    assert experiment["metadata"]["name"].startswith("tune-")  # named by a hash of its spec
    spec = experiment["spec"]
    assert spec["objective"] == {"type": "minimize", "objectiveMetricName": "loss", "additionalMetricNames": ["accuracy"]}
    assert spec["algorithm"] == {
        "algorithmName": "bayesianoptimization",
        "algorithmSettings": [{"name": "random_state", "value": "7"}],
    }
    assert (spec["parallelTrialCount"], spec["maxTrialCount"]) == (2, 10)
    assert spec["parameters"] == [
        {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.0001", "max": "0.01"}},
        {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "2", "max": "8", "step": "2"}},
        {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["adam", "sgd"]}},
    ]


def test_the_trial_template_is_the_runs_job_with_the_parameters_substituted(tmp_path: Path) -> None:
    template = _experiment(_build(tmp_path))["spec"]["trialTemplate"]
    assert template["primaryContainerName"] == "tune"
    assert [p["reference"] for p in template["trialParameters"]] == ["lr", "layers", "optimizer"]
    trial = template["trialSpec"]
    assert (trial["apiVersion"], trial["kind"]) == ("batch/v1", "Job")
    assert "name" not in trial["metadata"]  # Katib names each trial's Job
    # Queued like the run: Kueue suspends each trial's Job until quota admits it.
    assert trial["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "gpu-training"
    pod = trial["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["args"] == ["train.py", "--lr=${trialParameters.lr}", "--layers=${trialParameters.layers}"]
    assert {"name": "OPTIMIZER", "value": "${trialParameters.optimizer}"} in container["env"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 2
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_parallel_trials_count_against_the_budget(tmp_path: Path) -> None:
    experiment = _experiment(_build(tmp_path))
    [template] = pod_templates(experiment)
    assert template.pods == 2  # parallelTrialCount 2 × one pod per trial
    [pod_set] = pod_sets(experiment)
    assert pod_set.count == 2
    quota = _build(tmp_path)
    [queue] = [item.obj for item in quota.objects if item.kind == "ClusterQueue"]
    [flavor] = queue["spec"]["resourceGroups"][0]["flavors"]
    gpus = [r["nominalQuota"] for r in flavor["resources"] if r["name"] == "nvidia.com/gpu"]
    assert gpus == ["4"]  # both trials (2 × 2 GPUs) fit the quota at once


def test_parallelism_beyond_the_budget_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, ENVIRONMENT.replace("parallelTrials: 2", "parallelTrials: 3"))
    assert "dev.yaml:" in message
    assert "3 parallel trials × 2 GPU(s) = 6 GPUs, beyond budget.gpus (4): at most 2 parallel trial(s)" in message


def test_an_empty_space_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, ENVIRONMENT.replace('max: "0.01"', 'max: "0.0001"'))
    assert "tuning.parameters[0].max" in message or "parameters[lr].max" in message
    assert "an empty space: max (0.0001) must be above min (0.0001)" in message
    message = _error(tmp_path, ENVIRONMENT.replace("values: [adam, sgd]", "values: []"))
    assert "an empty space: list the values to try" in message


def test_a_metric_the_trial_does_not_report_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, ENVIRONMENT.replace("metric: loss,", "metric: val_loss,"))
    assert "the trial reports only loss, accuracy: add 'val_loss' to tuning.reports" in message
    assert "objective.metric" in message


def test_more_parallel_than_total_trials_is_refused(tmp_path: Path) -> None:
    text = ENVIRONMENT.replace("maxTrials: 10", "maxTrials: 1").replace("budget: {gpus: 4,", "budget: {gpus: 16,")
    assert "more parallel trials than maxTrials (1): Katib refuses it" in _error(tmp_path, text)


def test_a_tuned_runs_name_leaves_room_for_the_hash(tmp_path: Path) -> None:
    long = "t" * 32
    message = _error(tmp_path, ENVIRONMENT.replace("name: tune\n", f"name: {long}\n"))
    assert "a tuned run's name is at most 31 characters" in message
