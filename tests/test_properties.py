"""Properties over generated input: valid specs render cleanly; broken input never crashes; output is stable."""

from __future__ import annotations

import contextlib
import io
import random
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlgitops.fleet.build import build
from mlgitops.kube.manifest import Manifest
from mlgitops.load.environments import load_environments
from mlgitops.policy import PolicyContext, evaluate, fails, load_catalog
from mlgitops.spec.placement import pool_facts
from tests.support import REPO, kubectl, run_cli

POOLS = [
    {"name": "cpu", "labels": {"pool": "cpu"}, "allocatable": {"cpu": "32", "memory": "128Gi"}},
    {
        "name": "gpu",
        "labels": {"pool": "gpu"},
        "taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}],
        "allocatable": {"cpu": "64", "memory": "512Gi", "gpus": 8},
    },
]
names = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True)


@st.composite
def workloads(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["training", "serving", "batch", "distributed-training"]))
    gpu = draw(st.integers(1, 8)) if kind in ("training", "distributed-training") and draw(st.booleans()) else None
    resources: dict[str, Any] = {
        "cpu": str(draw(st.integers(1, 16))),
        "memory": f"{draw(st.integers(1, 64))}Gi",
    }
    workload: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "image": f"registry.example/{name}:{draw(st.integers(0, 9))}.0",
        "resources": resources,
        "nodePool": "gpu" if gpu else "cpu",
    }
    if gpu:
        resources["gpu"] = gpu
        workload["shmSize"] = "1Gi"
    if kind == "serving":
        workload["ports"] = [{"port": draw(st.integers(1024, 9000))}]
        if draw(st.booleans()):
            low = draw(st.integers(1, 3))
            workload["autoscaling"] = {
                "minReplicas": low,
                "maxReplicas": low + draw(st.integers(0, 5)),
                "metrics": [{"type": "cpu", "utilization": draw(st.integers(10, 90))}],
            }
    if kind == "batch":
        workload["schedule"] = f"{draw(st.integers(0, 59))} {draw(st.integers(0, 23))} * * *"
    if kind == "distributed-training":
        workload["workers"] = draw(st.integers(0, 3))
    return workload


@st.composite
def environments(draw: st.DrawFn) -> dict[str, Any]:
    workload_names = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    return {
        "namespace": draw(names),
        "kubernetesVersion": draw(st.sampled_from(["1.30", "1.31", "1.32"])),
        "networkPolicy": {},
        "cluster": {"nodePools": POOLS},
        "workloads": [draw(workloads(name)) for name in workload_names],
    }


def _build(spec: dict[str, Any], folder: Path) -> Any:
    (folder / "env.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    [loaded] = load_environments(folder)
    return loaded, build(loaded)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(environments())
def test_valid_specs_render_validate_and_lint_clean(spec: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        loaded, output = _build(spec, Path(scratch))
    manifests = [
        Manifest(obj=item.obj, file=item.path, text=output.files[item.path], environment="env") for item in output.objects
    ]
    context = PolicyContext(environment="env", node_pools=tuple(pool_facts(pool) for pool in loaded.spec.cluster.node_pools))
    findings = evaluate(manifests, load_catalog(), context)
    assert not fails(findings), [f"{f.rule}: {f.message}" for f in findings]


@settings(max_examples=3, deadline=None)
@given(environments())
def test_a_sample_of_valid_specs_builds_with_kubectl_kustomize(spec: dict[str, Any]) -> None:
    kubectl_path = kubectl()
    with tempfile.TemporaryDirectory() as scratch:
        _, output = _build(spec, Path(scratch))
        root = Path(scratch) / "rendered"
        for path, text in output.files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        built = subprocess.run([kubectl_path, "kustomize", str(root)], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    assert len([doc for doc in yaml.safe_load_all(built.stdout) if doc]) == len(output.objects)


def _run_in_process(args: list[str], cwd: Path) -> tuple[int, str]:
    from mlgitops.cli import main

    stderr = io.StringIO()
    previous = Path.cwd()
    try:
        import os

        os.chdir(cwd)
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            try:
                main(args)
                code = 0
            except SystemExit as exit_:
                code = int(exit_.code or 0)
    finally:
        os.chdir(previous)
    return code, stderr.getvalue()


def _mutate(text: str, data: st.DataObject) -> bytes:
    lines = text.splitlines(keepends=True)
    operation = data.draw(st.sampled_from(["delete-line", "truncate", "swap-type", "random-bytes", "duplicate-line"]))
    if operation == "delete-line":
        del lines[data.draw(st.integers(0, len(lines) - 1))]
        return "".join(lines).encode()
    if operation == "truncate":
        return text.encode()[: data.draw(st.integers(0, len(text)))]
    if operation == "swap-type":
        index = data.draw(st.integers(0, len(lines) - 1))
        key, sep, _ = lines[index].partition(": ")
        replacement = data.draw(st.sampled_from(["[1, 2]", "{a: b}", "-3", "true", "''", "null", "1.5.0", "&x *x"]))
        lines[index] = f"{key}{sep or ': '}{replacement}\n"
        return "".join(lines).encode()
    if operation == "duplicate-line":
        index = data.draw(st.integers(0, len(lines) - 1))
        lines.insert(index, lines[index])
        return "".join(lines).encode()
    position = data.draw(st.integers(0, len(text)))
    return text.encode()[:position] + data.draw(st.binary(min_size=1, max_size=8)) + text.encode()[position:]


ENVIRONMENT_TEXT = (
    (REPO / "tests" / "bad_inputs" / "environments" / "image-latest.yaml")
    .read_text()
    .replace("registry.example/serve:latest", "registry.example/serve:1.0")
)
MANIFEST_TEXT = (REPO / "rendered" / "prod" / "deployment-resnet-serve.yaml").read_text()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_environment_files_never_crash(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "environments").mkdir()
        (folder / "environments" / "case.yaml").write_bytes(_mutate(ENVIRONMENT_TEXT, data))
        code, stderr = _run_in_process(["render", "--check"], folder)
    assert code in (0, 1, 2), stderr
    if code == 2:
        assert stderr.startswith("error: "), stderr


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_manifests_never_crash(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "m.yaml").write_bytes(_mutate(MANIFEST_TEXT, data))
        code, stderr = _run_in_process(["lint", "m.yaml"], folder)
    assert code in (0, 1, 2), stderr
    if code == 2:
        assert stderr.startswith("error: "), stderr


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: _shuffled(child, rng) for key, child in items}
    if isinstance(value, list):
        return [_shuffled(child, rng) for child in value]
    return value


@settings(max_examples=10, deadline=None)
@given(environments(), st.integers(0, 2**32 - 1))
def test_shuffled_keys_and_workloads_render_to_the_same_bytes(spec: dict[str, Any], seed: int) -> None:
    rng = random.Random(seed)
    shuffled = _shuffled(spec, rng)
    rng.shuffle(shuffled["workloads"])
    with tempfile.TemporaryDirectory() as scratch:
        _, one = _build(spec, Path(scratch))
        _, two = _build(shuffled, Path(scratch))
    assert one.files == two.files


def _digest(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_example_fleet_shuffled_renders_the_committed_bytes_under_any_hash_seed(tmp_path: Path) -> None:
    # The hypothesis specs above render in-process under one hash seed; this runs the real fleet
    # (extends chains, GitOps roots, Karpenter pools) in fresh processes under several seeds.
    expected = _digest(REPO / "rendered")
    for seed in ("0", "1", "4242"):
        rng = random.Random(int(seed))
        work = tmp_path / f"seed-{seed}"
        (work / "environments").mkdir(parents=True)
        for path in sorted((REPO / "environments").iterdir()):
            if path.is_dir():
                shutil.copytree(path, work / "environments" / path.name)
                continue
            if path.suffix != ".yaml":
                shutil.copy(path, work / "environments" / path.name)
                continue
            spec = _shuffled(yaml.safe_load(path.read_text()), rng)
            if isinstance(spec.get("workloads"), list):
                rng.shuffle(spec["workloads"])
            (work / "environments" / path.name).write_text(yaml.safe_dump(spec, sort_keys=False))
        result = run_cli("render", cwd=work, env={"PYTHONHASHSEED": seed}, timeout=120)
        assert result.exit_code == 0, result.stderr
        assert _digest(work / "rendered") == expected, f"PYTHONHASHSEED={seed}"
