"""Batch workloads: scheduled jobs such as nightly batch inference, rendered as a CronJob."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from generator.spec.base import INT32_MAX
from generator.spec.container import WorkloadBase
from generator.spec.integrations import MlflowRun


class Batch(WorkloadBase):
    """A scheduled job (e.g. nightly batch inference), rendered as a batch/v1 CronJob."""

    kind: Literal["batch"]
    mlflow: MlflowRun | None = None
    """Log runs to the environment's MLflow tracking server."""
    schedule: str = Field(min_length=1)
    """Cron schedule, five fields, e.g. '0 2 * * *'."""
    time_zone: str | None = None
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

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if value.startswith("@"):
            if value not in {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}:
                raise ValueError(f"{value!r} is not a cron macro (@hourly, @daily, @weekly, @monthly, @yearly)")
            return value
        fields = value.split()
        if len(fields) != 5 or not all(re.fullmatch(r"[0-9A-Za-z*/,?-]+", f) for f in fields):
            raise ValueError(f"{value!r} is not a five-field cron schedule such as '0 2 * * *'")
        return value
