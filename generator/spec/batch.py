"""Batch workloads: scheduled jobs such as nightly batch inference, rendered as a CronJob."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mlgitops.kube.api_rules import cron_schedule_problem, time_zone_problem
from mlgitops.spec.base import INT32_MAX, refused_by
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.integrations import MlflowRun
from mlgitops.spec.monitoring import PodMetrics


class Batch(WorkloadBase):
    """A scheduled job (e.g. nightly batch inference), rendered as a batch/v1 CronJob."""

    kind: Literal["batch"]
    metrics: PodMetrics | None = None
    """Prometheus scraping of the pods (renders a PodMonitor; Prometheus may reach the port under the network policy)."""
    mlflow: MlflowRun | None = None
    """Log runs to the environment's MLflow tracking server."""
    schedule: Annotated[str, Field(min_length=1), refused_by(cron_schedule_problem)]
    """Cron schedule: five fields (minute hour day-of-month month weekday 0-6), e.g. '0 2 * * *', or '@daily'."""
    time_zone: Annotated[str | None, refused_by(time_zone_problem)] = None
    """IANA time zone of the schedule, e.g. 'Europe/Berlin'; default is the controller's."""
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = "Forbid"
    """What to do when the previous run is still going."""
    suspend: bool = False
    starting_deadline_seconds: int | None = Field(default=None, ge=1)
    successful_jobs_history_limit: int = Field(default=3, ge=0)
    failed_jobs_history_limit: int = Field(default=1, ge=0)
    backoff_limit: int = Field(default=1, ge=0, le=INT32_MAX)
    active_deadline_seconds: int | None = Field(default=None, ge=1)
    restart_policy: Literal["Never", "OnFailure"] = "Never"
