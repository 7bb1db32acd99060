"""`mlgitops diff` on a real git history: objects, fields and the resource table of a change."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO, run_in_process


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", "-C", str(repo), *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A repository whose main branch holds the example fleet, with a change in the working tree."""
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "fleet")
    _git(tmp_path, "checkout", "-q", "-b", "bigger-training")
    prod = tmp_path / "environments" / "prod.yaml"
    prod.write_text(
        prod.read_text()
        .replace("resnet-serve:1.4.2@", "resnet-serve:1.5.0@")
        .replace("    numNodes: 2\n", "    numNodes: 4\n")
        .replace("        replicas: 4\n", "        replicas: 6\n")
    )
    _git(tmp_path, "commit", "-q", "-am", "four training nodes, six feature workers")
    return tmp_path


def test_markdown_summary_of_a_two_commit_history(history: Path) -> None:
    result = run_in_process("diff", cwd=history)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "<!-- mlgitops-diff -->"
    # The Deployment, the RayJob and the TrainJob, and the ClusterQueue: its quotas follow what queued jobs need.
    rows = {line.split(" | ")[0][2:]: line for line in lines if line.startswith("| ")}
    assert rows["prod"].startswith("| prod | 0 | 0 | 4 | 78 |")
    assert rows["dev"].startswith("| dev | 0 | 0 | 0 | 46 |")
    # Every accelerator kind; a LeaderWorkerSet's replicas x size x GPUs per pod (1 x 2 x 8 H100s, and as many for its
    # canary); a TrainJob's numNodes x resourcesPerNode; RayJob and RayService: the head plus every worker (minReplicas
    # when autoscaled).
    gpus = "habana.ai/gaudi: 1; nvidia.com/gpu (NVIDIA-A100-SXM4-80GB): 26 → 42 (+16); nvidia.com/gpu (NVIDIA-H100-80GB-HBM3): 32"
    # The nightly job's log-shipper sidecar adds 100m CPU and 64Mi to each environment (prod: to its Gaudi pod); the
    # autoscaled Ray heads count the 500m and 512Mi of the autoscaler container KubeRay adds; the LLM's canary and the
    # two endpoint pickers (2 CPU and 4Gi each) are prod's too.
    assert f"| {gpus} | 658600m → 802600m (+144) | 9028160Mi → 10732096Mi (+1664Gi) |" in rows["prod"]
    # dev's LLM server scales to zero: its GPUs are not counted at rest.
    assert "| nvidia.com/gpu (NVIDIA-A100-SXM4-80GB): 3 | 54600m | 320064Mi |" in rows["dev"]
    # staging claims the LLM's GPUs through DRA.
    staging = "gpu.nvidia.com (DRA, NVIDIA-H100-80GB-HBM3): 2; nvidia.com/gpu (NVIDIA-A100-SXM4-80GB): 5"
    assert f"| {staging} | 88600m | 590400Mi |" in rows["staging"]
    # By weight: replica changes, then images, then the rest.
    changed = [line for line in lines if line.startswith("- **changed**")]
    assert changed.pop().startswith("- **changed** ClusterQueue `ml-prod`: `spec.resourceGroups`")
    assert changed.pop() == (
        "- **changed** Deployment `resnet-serve`: `containers[resnet-serve].image`: "
        "`ghcr.io/acme/resnet-serve:1.4.2@sha256:0a1b2c3d4e5f607182...` → "
        "`ghcr.io/acme/resnet-serve:1.5.0@sha256:0a1b2c3d4e5f607182...`"
    )
    # Re-hashed jobs are matched by workload: changed, with the old and the new name, not removed and added.
    assert changed[0].startswith("- **changed** RayJob `feature-etl-")
    assert "`spec.rayClusterSpec.workerGroupSpecs[cpu].replicas`: `4` → `6`" in changed[0]
    assert changed[1].startswith("- **changed** TrainJob `resnet-ddp-")
    assert "`spec.trainer.numNodes`: `2` → `4`" in changed[1]
    assert "<details><summary>Rendered diff" in result.stdout
    # The base was rendered from a scratch checkout, but its files name the real environment file.
    assert "mlgitops-diff-" not in result.stdout


def test_json_and_text_formats_carry_the_same_facts(history: Path) -> None:
    document = json.loads(run_in_process("diff", "--format", "json", "--base", "main", cwd=history).stdout)
    prod = next(env for env in document["environments"] if env["name"] == "prod")
    assert prod["counts"] == {"added": 0, "removed": 0, "changed": 4}
    unchanged = {"habana.ai/gaudi": 1, "nvidia.com/gpu (NVIDIA-H100-80GB-HBM3)": 32}
    assert prod["resources"]["before"]["gpus"] == {**unchanged, "nvidia.com/gpu (NVIDIA-A100-SXM4-80GB)": 26}
    assert prod["resources"]["after"]["gpus"] == {**unchanged, "nvidia.com/gpu (NVIDIA-A100-SXM4-80GB)": 42}
    text = run_in_process("diff", "--format", "text", "--base", "main", cwd=history).stdout
    assert "prod: 0 added, 0 removed, 4 changed; cpu 658600m → 802600m (+144)" in text


def test_no_change_says_so_in_one_line(history: Path) -> None:
    result = run_in_process("diff", "--base", "HEAD", cwd=history)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "No change to the rendered manifests (compared with `HEAD`)."


def test_a_new_environment_is_all_additions(history: Path) -> None:
    shutil.copy(history / "environments" / "dev.yaml", history / "environments" / "qa.yaml")
    result = run_in_process("diff", "--format", "json", cwd=history)
    qa = next(env for env in json.loads(result.stdout)["environments"] if env["name"] == "qa")
    assert qa["counts"]["added"] == 46
    assert qa["counts"]["removed"] == 0


def test_an_unknown_base_is_a_usage_error(history: Path) -> None:
    result = run_in_process("diff", "--base", "no-such-branch", cwd=history)
    assert result.exit_code == 2
    assert result.stderr == "error: unknown revision 'no-such-branch': pass a branch, tag or commit with --base\n"
    assert "Traceback" not in result.stderr


def test_findings_new_in_the_change_are_reported_and_fail_on_new_exits_1(history: Path) -> None:
    prod = history / "environments" / "prod.yaml"
    prod.write_text(
        prod.read_text().replace(
            "resnet-serve:1.5.0@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9", "resnet-serve:1.6.0"
        )
    )
    result = run_in_process("diff", "--base", "main", "--fail-on-new", cwd=history)
    assert result.exit_code == 1
    assert (
        "- :x: new **error** `image-digest` (`prod`, `environments/prod.yaml:54:12`): `container "
        "'resnet-serve' image 'ghcr.io/acme/resnet-serve:1.6.0' is not pinned by digest`"
    ) in result.stdout.splitlines()
    # Without --fail-on-new the summary is informational.
    assert run_in_process("diff", "--base", "main", cwd=history).exit_code == 0


def test_findings_fixed_by_the_change_are_listed(history: Path) -> None:
    _git(history, "checkout", "-q", "main")
    prod = history / "environments" / "prod.yaml"
    prod.write_text(
        prod.read_text().replace(
            "resnet-serve:1.4.2@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9", "resnet-serve:1.4.2"
        )
    )
    _git(history, "commit", "-q", "-am", "unpinned")
    prod.write_text(
        prod.read_text().replace(
            "resnet-serve:1.4.2", "resnet-serve:1.4.2@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
        )
    )
    document = json.loads(run_in_process("diff", "--base", "HEAD", "--format", "json", cwd=history).stdout)
    assert [note["rule"] for note in document["fixedFindings"]] == ["image-digest"]
    assert document["newFindings"] == []


def test_a_small_change_makes_a_short_comment(history: Path) -> None:
    prod = history / "environments" / "prod.yaml"
    _git(history, "checkout", "-q", "main")
    prod.write_text(prod.read_text().replace("resnet-serve:1.4.2@", "resnet-serve:1.4.3@"))
    lines = run_in_process("diff", "--base", "main", cwd=history).stdout.splitlines()
    assert len(lines) <= 60
    assert sum(line.startswith("- **changed**") for line in lines) == 1


def test_outside_a_git_repository_diff_says_what_it_needs(tmp_path: Path) -> None:
    result = run_in_process("diff", cwd=tmp_path)
    assert result.exit_code == 2
    assert "is not inside a git repository: `mlgitops diff` compares the rendered manifests of two git revisions" in (
        result.stderr
    )
    assert "fatal:" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
