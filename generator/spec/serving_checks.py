"""Checks of servers (serving and llm-serving): replicas or an autoscaler, metrics and probe ports, traffic; and what
only a `serving` workload has: a registered model, ports, KServe.

Each problem names the field path the user wrote, so the loader can point at its line. The registry of
workload kinds (``spec/kinds.py``) names these checks in the rows of the kinds they apply to.
"""

from __future__ import annotations

from mlgitops.kube.autoscalers import hpa_bounds, replicas_fight
from mlgitops.spec.checked import Checked
from mlgitops.spec.environment import Environment
from mlgitops.spec.keda import SERVER_SIGNALS
from mlgitops.spec.kserve import kserve_problems, storage_problems
from mlgitops.spec.pod_checks import check_traffic
from mlgitops.spec.problems import FieldPath, SpecProblem, unique
from mlgitops.spec.server_checks import autoscaler_problems
from mlgitops.spec.serving import ServerBase, Serving


def server_problems(checked: Checked[ServerBase]) -> list[SpecProblem]:
    """What every server is checked for: replicas against its autoscaler, ports of metrics and probes, traffic."""
    workload, at = checked.workload, checked.at
    problems = _server_fields(workload, at) + autoscaler_problems(workload, at)
    return problems + check_traffic(checked.environment, workload, at)


def _server_fields(workload: ServerBase, at: FieldPath) -> list[SpecProblem]:
    problems = []
    autoscaling = workload.autoscaling
    if autoscaling is not None:
        # The facts (kube/autoscalers.py) that lint's hpa-replicas rule judges on the rendered HPA and Deployment.
        if replicas_fight(workload.replicas is not None, autoscalers=1):
            problems.append(
                SpecProblem(
                    (*at, "replicas"),
                    "replicas and autoscaling are both set: under an autoscaler the replica count is the "
                    "HPA's to manage (drop replicas, use autoscaling.minReplicas)",
                )
            )
        if hpa_bounds(autoscaling.min_replicas, autoscaling.max_replicas).inverted:
            problems.append(
                SpecProblem(
                    (*at, "autoscaling", "maxReplicas"),
                    f"maxReplicas {autoscaling.max_replicas} is below minReplicas {autoscaling.min_replicas}",
                )
            )
    port_names = {port.name for port in workload.service_ports()}
    if workload.metrics is not None and workload.metrics.port not in port_names:
        problems.append(
            SpecProblem(
                (*at, "metrics", "port"),
                f"metrics port {workload.metrics.port!r} is not one of the ports ({', '.join(sorted(port_names))})",
            )
        )
    for probe_name in ("readiness", "liveness", "startup"):
        probe = getattr(workload.probes, probe_name)
        action = probe and (probe.http_get or probe.tcp_socket)
        if action and isinstance(action.port, str) and action.port not in port_names:
            problems.append(
                SpecProblem(
                    (*at, "probes", probe_name),
                    f"probe port {action.port!r} is not one of the ports ({', '.join(sorted(port_names))})",
                )
            )
    return problems


def serving_problems(checked: Checked[Serving]) -> list[SpecProblem]:
    """A `serving` workload's own: unique ports, KServe scaling itself, and KEDA signals it has no metrics for."""
    workload, at = checked.workload, checked.at
    problems = unique(workload.ports, (*at, "ports"))
    keda = workload.keda
    if keda is None:
        return problems
    if workload.kserve is not None:
        problems.append(SpecProblem((*at, "keda"), "a KServe InferenceService scales itself; remove keda or kserve", at_key=True))
    for index, trigger in enumerate(keda.triggers):
        if trigger.signal in SERVER_SIGNALS:
            problems.append(
                SpecProblem(
                    (*at, "keda", "triggers", index, "signal"),
                    f"signal {trigger.signal!r} reads an LLM server's own metrics: use kind llm-serving, or write the "
                    "query yourself",
                )
            )
    return problems


def serving_integrations(environment: Environment, workload: Serving, at: FieldPath) -> list[SpecProblem]:
    """A registered model needs the environment's MLflow server, the image may come from it; ports; KServe's limits."""
    problems = []
    model = workload.model
    if model is not None and environment.mlflow is None:
        problems.append(SpecProblem((*at, "model"), "serves a registered model, but the environment declares no mlflow server"))
    if workload.image is None:
        serving_image = environment.mlflow.serving_image if environment.mlflow is not None else None
        if model is None or (serving_image is None and not workload.kserve):
            hint = " (or the environment's mlflow.servingImage)" if model is not None else ""
            problems.append(SpecProblem((*at, "image"), f"missing required field 'image'{hint}"))
    if not workload.ports and model is None and workload.kserve is None:
        problems.append(SpecProblem((*at, "ports"), "a serving workload needs at least one port"))
    kserve = workload.kserve
    if kserve is not None:
        problems += kserve_problems(workload, environment.operators, at) + storage_problems(workload, at)
        if workload.metrics is not None:
            problems.append(SpecProblem((*at, "metrics"), "KServe publishes the predictor's metrics itself; remove metrics"))
        autoscaling = workload.autoscaling
        if autoscaling is not None and kserve.scale_metric is None:
            first = autoscaling.metrics[0]
            if first.type not in ("cpu", "memory"):
                problems.append(
                    SpecProblem(
                        (*at, "autoscaling", "metrics", 0),
                        f"KServe scales on cpu, memory, concurrency or rps: a {first.type} metric needs "
                        "kserve.scaleMetric and kserve.scaleTarget instead",
                    )
                )
    return problems
