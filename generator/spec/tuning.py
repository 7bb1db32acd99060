"""Hyperparameter tuning of a training run: a Katib Experiment whose trials are the run's Job with parameters set.

SOURCE: kubeflow/katib pkg/apis/controller/experiments/v1beta1/experiment_types.go (parameters, objective,
algorithm, parallelTrialCount, maxTrialCount, maxFailedTrialCount, trialTemplate) and its webhook
pkg/webhook/v1beta1/experiment/validator/validator.go (an Experiment name is at most 40 characters; double and int
parameters need min and max, discrete and categorical a list; parallelTrialCount ≤ maxTrialCount; every trial
parameter must appear in the trial template as `${trialParameters.<name>}`). Algorithms: the ones Katib's default
configuration runs (manifests/v1beta1/installs/katib-standalone/katib-config.yaml).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mlgitops.spec.base import INT32_MAX, SpecModel

KATIB_NAME_LIMIT = 40
"""Katib's webhook refuses longer Experiment names."""

Algorithm = Literal["random", "grid", "tpe", "multivariate-tpe", "bayesianoptimization", "cmaes", "sobol", "hyperband"]


class TuningParameter(SpecModel):
    """One hyperparameter and its feasible space, handed to the trial as a flag (`--<name>=<value>`) or a variable."""

    name: str = Field(pattern=r"^[a-zA-Z][a-zA-Z0-9_-]*$", max_length=63)
    type: Literal["double", "int", "discrete", "categorical"]
    min: str | None = Field(default=None, pattern=r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
    """Lowest value (double, int)."""
    max: str | None = Field(default=None, pattern=r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
    """Highest value (double, int)."""
    step: str | None = Field(default=None, pattern=r"^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
    """Step between values (grid search needs one for double)."""
    values: list[str] = Field(default_factory=list)
    """The values to try (discrete, categorical)."""
    arg: str | None = Field(default=None, pattern=r"^-{1,2}[a-zA-Z0-9][a-zA-Z0-9_-]*$")
    """Flag the value is passed as, appended to the trial's args (default `--<name>`)."""
    env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Environment variable the value is passed in, instead of a flag."""

    @model_validator(mode="after")
    def _one_way_in(self) -> TuningParameter:
        if self.arg is not None and self.env is not None:
            raise ValueError("give the parameter 'arg' or 'env', not both")
        return self


class Objective(SpecModel):
    """What the trials optimise: a metric the training program reports."""

    type: Literal["maximize", "minimize"]
    metric: str = Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_.-]*$")
    goal: float | None = None
    """Stop the experiment once a trial reaches it."""
    additional_metrics: list[str] = Field(default_factory=list)
    """Other reported metrics Katib records with each trial."""


class Tuning(SpecModel):
    """A Katib Experiment (kubeflow.org/v1beta1) instead of the training Job: each trial runs the Job with the
    parameters substituted; the trials are queued and budgeted like the run (parallel trials × the run's GPUs).

    Katib's default metrics collector reads `<metric>=<value>` lines from the training container's output.
    """

    objective: Objective
    algorithm: Algorithm = "random"
    algorithm_settings: dict[str, str] = Field(default_factory=dict)
    """Settings of the algorithm, e.g. {'random_state': '10'}."""
    parameters: list[TuningParameter] = Field(min_length=1)
    reports: list[str] = Field(min_length=1)
    """Metrics the training program reports (prints as `name=value`); the objective must be among them."""
    parallel_trials: int = Field(default=1, ge=1, le=INT32_MAX)
    """Trials that run at once (Katib's parallelTrialCount); each holds the run's resources."""
    max_trials: int = Field(default=12, ge=1, le=INT32_MAX)
    """Trials in total (maxTrialCount)."""
    max_failed_trials: int | None = Field(default=None, ge=0, le=INT32_MAX)
    """Failed trials after which the experiment fails (maxFailedTrialCount)."""
