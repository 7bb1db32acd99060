"""batch: a CronJob whose schedule and time zone render refuses exactly as lint refuses a hand-written CronJob's."""

from __future__ import annotations

from typing import Any

import pytest

from mlgitops.kube.api_rules import object_problems


@pytest.mark.parametrize(
    ("schedule", "zone"),
    [
        ("0 2 * * *", "Europe/Berlin"),
        ("99 99 * * *", "UTC"),
        ("0 0 * * 7", "Mars/Olympus"),
        ("@fortnightly", None),
        ("TZ=UTC 0 2 * * *", "Local"),
        ("0 2 * *", "America/New_York"),
    ],
)
def test_render_and_lint_judge_a_schedule_and_time_zone_with_one_rule(schedule: str, zone: str | None) -> None:
    # render refuses a batch workload's fields with the messages lint gives a CronJob's (kube/api_rules.py, croniter, zoneinfo).
    from pydantic import ValidationError

    from mlgitops.spec.batch import Batch

    workload = {"name": "nightly", "kind": "batch", "image": "r.example/x:1", "schedule": schedule, "timeZone": zone}
    try:
        Batch.model_validate(workload)
        refused: list[str] = []
    except ValidationError as error:
        refused = [str(detail["ctx"]["error"]) for detail in error.errors() if detail["loc"][0] in ("schedule", "timeZone")]
    spec: dict[str, Any] = {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}
    if zone is not None:
        spec["timeZone"] = zone
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"}, "spec": spec}
    linted = [problem.message for problem in object_problems(cronjob) if problem.topic in ("schedule", "time-zone")]
    assert refused == linted
    assert bool(linted) is (schedule != "0 2 * * *")
