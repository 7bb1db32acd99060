"""What Katib's webhook and the budget would refuse of a tuned training run, at the lines that ask for it.

SOURCE: kubeflow/katib pkg/webhook/v1beta1/experiment/validator/validator.go (ValidateExperiment: name ≤ 40 characters,
parallelTrialCount ≤ maxTrialCount, maxFailedTrialCount ≤ maxTrialCount; validateParameters: min and max for double
and int, a list for discrete and categorical). An empty space (min not below max, no values) is refused here too:
the algorithm would have nothing to try.
"""

from __future__ import annotations

from decimal import Decimal

from mlgitops.spec.checked import Checked
from mlgitops.spec.problems import FieldPath, SpecProblem
from mlgitops.spec.training import Training
from mlgitops.spec.tuning import KATIB_NAME_LIMIT, TuningParameter

HASH_SUFFIX = 9
"""The Experiment's name carries "-<8 hex digits>" of its spec, as a training Job's does."""


def tuning_problems(checked: Checked[Training]) -> list[SpecProblem]:
    """Problems of a training workload's `tuning` section (none without one)."""
    workload, at = checked.workload, checked.at
    tuning = workload.tuning
    if tuning is None:
        return []
    here: FieldPath = (*at, "tuning")
    found: list[tuple[FieldPath, str]] = []
    if len(workload.name) > KATIB_NAME_LIMIT - HASH_SUFFIX:
        limit = KATIB_NAME_LIMIT - HASH_SUFFIX
        found.append(
            (
                (*at, "name"),
                f"a tuned run's name is at most {limit} characters (Katib allows 40 for the Experiment, "
                "which gets a 9-character hash suffix)",
            )
        )
    for index, parameter in enumerate(tuning.parameters):
        found += [((*here, "parameters", index, *path), message) for path, message in _space(parameter)]
    names = [parameter.name for parameter in tuning.parameters]
    for index, name in enumerate(names):
        if name in names[:index]:
            found.append(((*here, "parameters", index, "name"), f"parameter {name!r} is named twice"))
    reported = set(tuning.reports)
    shown = ", ".join(tuning.reports)
    if tuning.objective.metric not in reported:
        found.append(
            (
                (*here, "objective", "metric"),
                f"the trial reports only {shown}: add {tuning.objective.metric!r} to "
                "tuning.reports if the program prints it, or optimise a metric it reports",
            )
        )
    for index, metric in enumerate(tuning.objective.additional_metrics):
        if metric not in reported:
            found.append(((*here, "objective", "additionalMetrics", index), f"the trial reports only {shown}, not {metric!r}"))
    if tuning.parallel_trials > tuning.max_trials:
        found.append(((*here, "parallelTrials"), f"more parallel trials than maxTrials ({tuning.max_trials}): Katib refuses it"))
    if tuning.max_failed_trials is not None and tuning.max_failed_trials > tuning.max_trials:
        found.append(((*here, "maxFailedTrials"), f"more than maxTrials ({tuning.max_trials}): Katib refuses it"))
    found += _budget(checked, here)
    return checked.located(found)


def _space(parameter: TuningParameter) -> list[tuple[FieldPath, str]]:
    if parameter.type in ("double", "int"):
        if parameter.values:
            return [(("values",), f"a {parameter.type} parameter takes min and max, not values")]
        if parameter.min is None or parameter.max is None:
            return [((), f"a {parameter.type} parameter needs min and max")]
        low, high = Decimal(parameter.min), Decimal(parameter.max)
        if parameter.type == "int" and (low != low.to_integral_value() or high != high.to_integral_value()):
            return [(("min",), "an int parameter needs whole min and max")]
        if low >= high:
            return [(("max",), f"an empty space: max ({parameter.max}) must be above min ({parameter.min})")]
        if parameter.step is not None and (Decimal(parameter.step) <= 0 or Decimal(parameter.step) > high - low):
            return [(("step",), f"step {parameter.step} must be above 0 and at most max - min")]
        return []
    if parameter.min is not None or parameter.max is not None or parameter.step is not None:
        return [((), f"a {parameter.type} parameter takes values, not min, max or step")]
    if not parameter.values:
        return [(("values",), "an empty space: list the values to try")]
    if len(set(parameter.values)) != len(parameter.values):
        return [(("values",), "a value is listed twice")]
    return []


def _budget(checked: Checked[Training], here: FieldPath) -> list[tuple[FieldPath, str]]:
    """Parallel trials × the run's accelerators must fit the environment's budget.gpus."""
    workload, budget = checked.workload, checked.environment.budget
    tuning = workload.tuning
    if tuning is None or budget is None or budget.gpus is None or not workload.resources.gpu:
        return []
    per_trial = int(workload.resources.gpu) * workload.parallelism
    if per_trial * tuning.parallel_trials <= budget.gpus:
        return []
    most = budget.gpus // per_trial
    return [
        (
            (*here, "parallelTrials"),
            f"{tuning.parallel_trials} parallel trials × {per_trial} GPU(s) = {per_trial * tuning.parallel_trials} "
            f"GPUs, beyond budget.gpus ({budget.gpus}): at most {most} parallel trial(s)",
        )
    ]
