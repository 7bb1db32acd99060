"""The registry of workload kinds: every kind of the `Workload` union has one row (spec/kinds.py) and one renderer
(render/kinds.py), and code asks the registry instead of testing a workload's class."""

from __future__ import annotations

import ast
from typing import get_args

import pytest

from mlgitops.render.kinds import RENDERERS, renderer_of, renders
from mlgitops.spec.kinds import KINDS, kind_of
from mlgitops.spec.workloads import Workload
from tests.support import REPO

WORKLOAD_CLASSES = {
    "WorkloadBase",
    "ServerBase",
    "RayWorkloadBase",
    "Training",
    "DistributedTraining",
    "Serving",
    "LlmServing",
    "Batch",
    "RayJob",
    "RayService",
}
# The one class test left: keda.py narrows a server to an LLM server for its metrics' names, which the checks
# (spec/server_checks.py) allow on LLM servers only. A new kind needs a row, not another isinstance.
MAX_CLASS_TESTS = 1


def _union_members() -> list[type]:
    union, _field = get_args(Workload)
    return list(get_args(union))


def test_every_kind_of_the_union_has_a_row_and_a_renderer() -> None:
    members = _union_members()
    assert list(KINDS) == members
    assert set(RENDERERS) == set(members)


def test_a_rows_kind_is_the_kind_a_user_writes() -> None:
    kinds = [row.kind for row in KINDS.values()]
    assert kinds == ["training", "distributed-training", "serving", "llm-serving", "batch", "ray-job", "ray-service"]


def test_kueue_queues_exactly_the_kinds_that_name_a_queue() -> None:
    for model, row in KINDS.items():
        assert row.queued == ("queue" in model.model_fields), row.kind


def test_a_ray_worker_groups_view_is_its_workloads_kind() -> None:
    from mlgitops.spec.ray import RayJob, RayWorkerGroup

    job = RayJob.model_validate(
        {
            "kind": "ray-job",
            "name": "etl",
            "image": "ray:2.41.0",
            "entrypoint": "python etl.py",
            "resources": {"cpu": "1", "memory": "1Gi"},
        }
    )
    view = job.worker_view(RayWorkerGroup(name="cpu", resources=job.resources))
    assert kind_of(view) is kind_of(job)
    assert renderer_of(view) is renderer_of(job)


def test_a_kind_has_one_renderer() -> None:
    from mlgitops.spec.batch import Batch

    with pytest.raises(ValueError, match="Batch has a renderer already"):
        renders(Batch)(RENDERERS[Batch].objects)


def _class_tests(tree: ast.AST) -> list[int]:
    """Lines of isinstance() and issubclass() calls that test against a workload kind's class."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("isinstance", "issubclass")):
            continue
        if len(node.args) != 2:
            continue
        target = node.args[1]
        names = target.elts if isinstance(target, ast.Tuple) else [target]
        if any(isinstance(name, ast.Name) and name.id in WORKLOAD_CLASSES for name in names):
            found.append(node.lineno)
    return found


def test_code_asks_the_registry_rather_than_testing_a_workloads_class() -> None:
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for path in sorted((REPO / "generator").rglob("*.py"))
        for line in _class_tests(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert len(found) <= MAX_CLASS_TESTS, "\n".join(found)


def test_the_counter_sees_a_class_test() -> None:
    code = "isinstance(w, Serving)\nisinstance(w, (int, RayJob))\nisinstance(w, dict)\n"
    assert _class_tests(ast.parse(code)) == [1, 2]
