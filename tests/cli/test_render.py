"""`mlgitops render`, `render --check` and `schema` as users and CI run them."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import REPO, kubectl, run_in_process


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_render_into_an_empty_folder_then_check_is_clean(fleet: Path) -> None:
    shutil.rmtree(fleet / "rendered")
    result = run_in_process("render", cwd=fleet)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("rendered dev: 46 objects, prod: 78 objects, staging: 50 objects into rendered/")
    assert _tree_digest(fleet / "rendered") == _tree_digest(REPO / "rendered")
    check = run_in_process("render", "--check", cwd=fleet)
    assert check.exit_code == 0, check.stdout + check.stderr
    assert "is up to date" in check.stdout


def test_rendering_twice_and_under_other_hash_seeds_gives_the_same_bytes(fleet: Path) -> None:
    digests = []
    for seed in ("0", "1", "4242"):
        shutil.rmtree(fleet / "rendered")
        result = run_in_process("render", cwd=fleet, env={"PYTHONHASHSEED": seed})
        assert result.exit_code == 0, result.stderr
        digests.append(_tree_digest(fleet / "rendered"))
    assert digests[0] == digests[1] == digests[2]


def test_an_unchanged_rerender_touches_no_file(fleet: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in (fleet / "rendered").rglob("*") if p.is_file()}
    result = run_in_process("render", cwd=fleet)
    assert result.exit_code == 0
    assert "(no changes)" in result.stdout
    assert {p: p.stat().st_mtime_ns for p in (fleet / "rendered").rglob("*") if p.is_file()} == before


def test_check_fails_after_a_hand_edit_and_shows_a_unified_diff(fleet: Path) -> None:
    edited = fleet / "rendered" / "prod" / "service-resnet-serve.yaml"
    edited.write_text(edited.read_text().replace("port: 8080", "port: 9090"))
    stray = fleet / "rendered" / "dev" / "configmap-stray.yaml"
    stray.write_text("apiVersion: v1\nkind: ConfigMap\n")
    (fleet / "rendered" / "staging" / "service-resnet-serve.yaml").unlink()
    # A file mlgitops did not write: render would refuse to delete it, so --check says so (exit 2).
    refused = run_in_process("render", "--check", cwd=fleet)
    assert (refused.exit_code, refused.stderr.split(";")[0]) == (
        2,
        "error: rendered/dev/configmap-stray.yaml was not written by mlgitops",
    )
    stray.unlink()
    result = run_in_process("render", "--check", cwd=fleet)
    assert result.exit_code == 1
    assert "--- a/rendered/prod/service-resnet-serve.yaml\n+++ b/rendered/prod/service-resnet-serve.yaml\n" in result.stdout
    assert "-    port: 9090\n+    port: 8080\n" in result.stdout
    assert result.stderr.splitlines() == [
        "stale: rendered/prod/service-resnet-serve.yaml",
        "missing: rendered/staging/service-resnet-serve.yaml",
        "rendered/ is out of date (2 file(s)); run `mlgitops render`",
    ]
    fixed = run_in_process("render", cwd=fleet)
    assert fixed.exit_code == 0
    assert _tree_digest(fleet / "rendered") == _tree_digest(REPO / "rendered")


def test_render_removes_files_of_objects_that_no_longer_exist(fleet: Path) -> None:
    dev = fleet / "environments" / "dev.yaml"
    dev.write_text(dev.read_text() + "  - name: nightly-embeddings\n    $patch: delete\n")
    result = run_in_process("render", "--env", "dev", cwd=fleet)
    assert result.exit_code == 0, result.stderr
    assert not (fleet / "rendered" / "dev" / "cronjob-nightly-embeddings.yaml").exists()
    kustomization = yaml.safe_load((fleet / "rendered" / "dev" / "kustomization.yaml").read_text())
    assert "cronjob-nightly-embeddings.yaml" not in kustomization["resources"]
    # Other environments were not touched by a --env dev run.
    assert (fleet / "rendered" / "prod" / "cronjob-nightly-embeddings.yaml").exists()


def test_a_removed_environment_folder_is_removed_on_a_full_render(fleet: Path) -> None:
    (fleet / "environments" / "staging.yaml").unlink()
    assert run_in_process("render", "--check", cwd=fleet).exit_code == 1
    assert run_in_process("render", cwd=fleet).exit_code == 0
    assert sorted(p.name for p in (fleet / "rendered").iterdir()) == ["argocd", "dev", "prod"]


def test_unknown_environment_name_is_a_usage_error(fleet: Path) -> None:
    result = run_in_process("render", "--env", "qa", cwd=fleet)
    assert result.exit_code == 2
    assert result.stderr == "error: no environment named 'qa' in environments (have: dev, prod, staging)\n"


def test_schema_command_prints_the_committed_schema(fleet: Path) -> None:
    result = run_in_process("schema", cwd=fleet)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads((REPO / "environments" / "environment.schema.json").read_text())


def test_editor_schema_accepts_every_example_file(repo_root: Path) -> None:
    # jsonschema-rs (what lint validates with) instead of the pure-Python jsonschema: same draft, ~30x faster.
    import jsonschema_rs

    schema = json.loads((repo_root / "environments" / "environment.schema.json").read_text())
    validator = jsonschema_rs.validator_for(schema)
    for path in sorted((repo_root / "environments").glob("*.yaml")):
        validator.validate(yaml.safe_load(path.read_text()))
    with pytest.raises(jsonschema_rs.ValidationError):
        validator.validate({"workloads": [{"name": "x", "kind": "training", "resouces": {}}]})


def _as_kustomize_builds(item: Any, namespace: str, common: dict[str, str]) -> dict[str, Any]:
    """Rendered objects are built unchanged; extra manifests get the root's namespace and common labels."""
    if not item.is_extra:
        return dict(item.obj)
    labels = {**item.obj["metadata"].get("labels", {}), **common}
    return {**item.obj, "metadata": {**item.obj["metadata"], "namespace": namespace, "labels": labels}}


@pytest.mark.kubectl
@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_kubectl_kustomize_builds_exactly_the_generators_objects(environment: str) -> None:
    from mlgitops.fleet.build import build
    from mlgitops.load.environments import load_environments

    [loaded] = load_environments(REPO / "environments", [environment])
    objects = build(loaded).objects
    roots = {"": [item for item in objects if not item.path.startswith("cluster/")]}
    cluster_scoped = [item for item in objects if item.path.startswith("cluster/")]
    if cluster_scoped:
        roots["cluster"] = cluster_scoped
    assert len(objects) == sum(len(items) for items in roots.values())
    for folder, items in roots.items():
        built = subprocess.run(
            [kubectl(), "kustomize", str(REPO / "rendered" / environment / folder)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert built.returncode == 0, built.stderr
        root = yaml.safe_load((REPO / "rendered" / environment / folder / "kustomization.yaml").read_text())
        common = root["labels"][0]["pairs"]
        expected = {(item.kind, item.name): _as_kustomize_builds(item, loaded.spec.namespace, common) for item in items}
        got = {(obj["kind"], obj["metadata"]["name"]): obj for obj in yaml.safe_load_all(built.stdout) if obj}
        assert got == expected


def test_render_runs_the_policy_catalog_and_writes_nothing_on_an_error_finding(fleet: Path) -> None:
    prod = fleet / "environments" / "prod.yaml"
    prod.write_text(
        prod.read_text().replace(
            "resnet-serve:1.4.2@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9", "resnet-serve:1.5.0"
        )
    )
    before = _tree_digest(fleet / "rendered")
    result = run_in_process("render", cwd=fleet)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    # At the environment-file line that wrote the image, with the fix in its terms; not at rendered/, not written.
    assert lines[0] == (
        "environments/prod.yaml:54:12: error image-digest: container 'resnet-serve' image "
        "'ghcr.io/acme/resnet-serve:1.5.0' is not pinned by digest [Deployment ml-prod/resnet-serve]"
    )
    assert lines[1] == "  fix: Pin the workload's image: by digest (image: registry/name:tag@sha256:...)."
    assert lines[-1] == "1 error finding(s): nothing was written (see `mlgitops explain RULE`)"
    assert _tree_digest(fleet / "rendered") == before
    assert run_in_process("render", "--check", cwd=fleet).exit_code == 1


def test_an_environment_over_its_budget_does_not_render(fleet: Path) -> None:
    prod = fleet / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("  gpus: 64\n", "  gpus: 4\n"))
    result = run_in_process("render", cwd=fleet)
    assert result.exit_code == 1
    [finding] = [line for line in result.stderr.splitlines() if "env-budget" in line]
    # budget.gpus counts every accelerator kind together: the Gaudi card of the nightly CronJob takes 1 of the 4,
    # leaving 3 nvidia.com/gpu, and the servers Kueue does not queue (the RayService's GPU workers at the autoscaler's
    # maximum, 6, plus the 25 % its incremental upgrade adds) need 8; the LLM server is queued (issue 33), so it
    # counts against Kueue's quota, which gets nothing: rule kueue-quota reports that the queued jobs and the LLM
    # server's groups can never be admitted.
    assert finding == (
        "environments/prod.yaml:24:9: error env-budget: namespace 'ml-prod' requests up to 8 nvidia.com/gpu with every "
        "autoscaler at its maximum, over the quota of 3 nvidia.com/gpu: embeddings-serve 8 nvidia.com/gpu "
        "[ResourceQuota ml-prod/budget]"
    )
    assert any(" error kueue-quota: " in line and "resnet-ddp" in line for line in result.stderr.splitlines())


def test_a_finding_in_both_templates_of_one_workload_is_printed_once(tmp_path: Path) -> None:
    # A LeaderWorkerSet's leader and worker templates (and a RayJob's head and workers with one image)
    # come from one spec line: an unpinned image in prod is one finding per container name, not one per template.
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    prod = tmp_path / "environments" / "prod.yaml"
    text = prod.read_text()
    pinned = "vllm/vllm-openai:v0.11.0@sha256:3b9e1a6f5c0d4e2b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b"
    assert pinned in text
    prod.write_text(text.replace(pinned, "vllm/vllm-openai:v0.11.0"))
    result = run_in_process("render", "--env", "prod", cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    findings = [line for line in result.stderr.splitlines() if " image-digest: " in line]
    assert any("LeaderWorkerSet" in line and "'chat-llm'" in line for line in findings), result.stderr
    assert len(findings) == len(set(findings)), findings
