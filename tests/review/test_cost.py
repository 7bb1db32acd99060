"""What a change costs: hourly cost at minimum and maximum replicas, GPU-hours of finite jobs, the budget warning.

The arithmetic is checked on a small hand-made environment (three pools, one of each pricing basis and capacity
type) and through `mlgitops diff` and `render` on a copy of the example fleet.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mlgitops.fleet.cost import environment_cost, time_limit
from mlgitops.spec.cluster import ClusterProfile, NodePool
from tests.support import REPO, run_cli

POOLS = [
    NodePool.model_validate(
        {
            "name": "cpu",
            "labels": {"node-pool": "cpu"},
            "allocatable": {"cpu": "16", "memory": "64Gi"},
            "prices": {"currency": "EUR", "nodeHour": {"onDemand": 0.80}},
        }
    ),
    NodePool.model_validate(
        {
            "name": "gpu",
            "labels": {"node-pool": "gpu"},
            "allocatable": {"cpu": "96", "memory": "1152Gi", "gpus": 8},
            "capacityTypes": ["spot"],  # the only capacity type: its price applies
            "prices": {"currency": "EUR", "nodeHour": {"spot": 12, "onDemand": 32}},
        }
    ),
    NodePool.model_validate(
        {
            "name": "gaudi",
            "labels": {"node-pool": "gaudi"},
            "allocatable": {"cpu": "94", "memory": "700Gi", "gpus": 8},
            "gpuResource": "habana.ai/gaudi",
            "prices": {"currency": "EUR", "acceleratorHour": "1.50"},
        }
    ),
    NodePool.model_validate({"name": "free", "labels": {"node-pool": "free"}, "allocatable": {"cpu": "8", "memory": "32Gi"}}),
]


def _pod(pool: str, requests: dict[str, str], limits: dict[str, Any] | None = None) -> dict[str, Any]:
    resources: dict[str, Any] = {"requests": requests}
    if limits:
        resources["limits"] = limits
    return {"nodeSelector": {"node-pool": pool}, "containers": [{"name": "main", "resources": resources}]}


def _objects(serve_max: int = 6, deadline: int | None = 7200) -> list[dict[str, Any]]:
    train: dict[str, Any] = {
        "parallelism": 1,
        "template": {"spec": _pod("gpu", {"cpu": "8", "memory": "96Gi"}, {"nvidia.com/gpu": 2})},
    }
    if deadline is not None:
        train["activeDeadlineSeconds"] = deadline
    return [
        {
            "kind": "Deployment",
            "metadata": {"name": "serve"},
            "spec": {"replicas": 2, "template": {"spec": _pod("cpu", {"cpu": "4", "memory": "8Gi"})}},
        },
        {
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "serve"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "serve"}, "minReplicas": 2, "maxReplicas": serve_max},
        },
        {"kind": "Job", "metadata": {"name": "train"}, "spec": train},
        {
            "kind": "Job",
            "metadata": {"name": "gaudi-eval"},
            "spec": {"template": {"spec": _pod("gaudi", {"cpu": "8", "memory": "64Gi"}, {"habana.ai/gaudi": 4})}},
        },
        {"kind": "Deployment", "metadata": {"name": "docs"}, "spec": {"template": {"spec": _pod("free", {"cpu": "1"})}}},
    ]


def test_hourly_cost_at_minimum_and_maximum_replicas() -> None:
    cost = environment_cost(_objects(), POOLS)
    assert cost.currency == "EUR"
    # serve: max(4/16 CPU, 8Gi/64Gi memory) = 1/4 of a 0.80 node = 0.20 per pod, 2 pods at minimum and 6 at maximum.
    # train: max(8/96, 96Gi/1152Gi, 2/8 GPUs) = 1/4 of a 12.00 spot node = 3.00. gaudi-eval: 4 cards x 1.50 = 6.00.
    assert cost.at_minimum == Decimal("0.40") + Decimal("3.00") + Decimal("6.00")
    assert cost.at_maximum == Decimal("1.20") + Decimal("3.00") + Decimal("6.00")
    # docs runs on a pool without prices: counted as unpriced, not as free.
    assert cost.unpriced_pods == 1


def test_gpu_hours_of_finite_jobs_need_a_time_limit() -> None:
    cost = environment_cost(_objects(), POOLS)
    # train: 1 pod x 2 GPUs x 7200 s = 4 GPU-hours; gaudi-eval has no time limit: counted apart, not guessed.
    assert cost.job_gpu_hours == Decimal(4)
    assert cost.unbounded_gpu_jobs == 1
    assert environment_cost(_objects(deadline=None), POOLS).unbounded_gpu_jobs == 2
    assert time_limit({"kind": "PyTorchJob", "spec": {"runPolicy": {"activeDeadlineSeconds": 60}}}) == 60
    assert time_limit({"kind": "Job", "spec": {"activeDeadlineSeconds": "soon"}}) is None


def test_the_capacity_type_decides_the_node_hour_price() -> None:
    on_demand = POOLS[1].model_copy(update={"capacity_types": ["spot", "on-demand"]})
    assert on_demand.node_hour_price == Decimal(32)  # several capacity types: on-demand unless chosen
    with pytest.raises(ValidationError, match="no reserved price"):
        NodePool.model_validate(
            {
                "name": "x",
                "allocatable": {"cpu": "1", "memory": "1Gi"},
                "prices": {"nodeHour": {"onDemand": 1}, "capacityType": "reserved"},
            }
        )
    with pytest.raises(ValidationError, match="either nodeHour"):
        NodePool.model_validate(
            {
                "name": "x",
                "allocatable": {"cpu": "1", "memory": "1Gi"},
                "prices": {"nodeHour": {"onDemand": 1}, "acceleratorHour": 2},
            }
        )
    mixed = [
        {"name": f"p{i}", "allocatable": {"cpu": "1", "memory": "1Gi"}, "prices": {"currency": c, "acceleratorHour": 1}}
        for i, c in enumerate(("USD", "EUR"))
    ]
    with pytest.raises(ValidationError, match="EUR and USD"):
        ClusterProfile.model_validate({"nodePools": mixed})


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", "-C", str(repo), *args], check=True, capture_output=True
    )


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """The example fleet on main; the working tree lets prod's resnet-serve scale to 30 replicas instead of 20."""
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "fleet")
    prod = tmp_path / "environments" / "prod.yaml"
    text = prod.read_text()
    assert text.count("      maxReplicas: 20\n") == 1
    prod.write_text(text.replace("      maxReplicas: 20\n", "      maxReplicas: 30\n"))
    return tmp_path


def test_diff_reports_the_cost_of_a_change(history: Path) -> None:
    result = run_cli("diff", "-o", "json", "--base", "main", cwd=history)
    assert result.exit_code == 0, result.stderr
    prod = next(env for env in json.loads(result.stdout)["environments"] if env["name"] == "prod")
    before, after = prod["cost"]["before"], prod["cost"]["after"]
    assert before["currency"] == after["currency"] == "USD"
    # resnet-serve (4 CPU, 16Gi) on cpu-general (15 CPU, 58Gi per node at 0.768 USD an hour): memory is its largest
    # share, 16/58 of a node; ten more replicas at the maximum, none at the minimum.
    per_pod = Decimal(16) / Decimal(58) * Decimal("0.768")
    raised = Decimal(after["perHourAtMaxReplicas"]) - Decimal(before["perHourAtMaxReplicas"])
    assert abs(raised - 10 * per_pod) <= Decimal("0.01")
    assert after["perHourAtMinReplicas"] == before["perHourAtMinReplicas"]
    # prod's MPS training Job: 8 GPUs for at most 259,200 s (72 hours).
    assert after["finiteJobGpuHours"] == "576.0"
    markdown = run_cli("diff", "--base", "main", cwd=history).stdout
    row = next(line for line in markdown.splitlines() if line.startswith("| prod |"))
    assert f"| {before['perHourAtMaxReplicas']} USD → {after['perHourAtMaxReplicas']} USD (+" in row
    text = run_cli("diff", "-o", "text", "--base", "main", cwd=history).stdout
    assert f"at max replicas {before['perHourAtMaxReplicas']} USD → {after['perHourAtMaxReplicas']} USD" in text


def test_render_warns_when_the_maximum_hourly_cost_is_above_the_budget(history: Path) -> None:
    prod = history / "environments" / "prod.yaml"
    lines = prod.read_text().splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if line.startswith("  costPerHour:")]
    lines[index] = "  costPerHour: 300\n"
    prod.write_text("".join(lines))
    result = run_cli("render", "--env", "prod", cwd=history)
    assert result.exit_code == 0, result.stderr
    warning = next(line for line in result.stderr.splitlines() if "costPerHour" in line)
    assert warning.startswith(f"environments/prod.yaml:{index + 1}:16: warning: prod costs up to ")
    assert "above budget.costPerHour 300.00 USD" in warning
    # Within the budget: no warning.
    lines[index] = "  costPerHour: 1000\n"
    prod.write_text("".join(lines))
    assert "costPerHour" not in run_cli("render", "--env", "prod", cwd=history).stderr
