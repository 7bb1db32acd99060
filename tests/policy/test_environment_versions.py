"""`lint rendered/<env>` judges each environment's objects at that environment's kubernetesVersion by itself."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mlgitops.yaml.writer import header
from tests.support import lint_findings, run_in_process

DEVICE_CLASS = """\
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata:
  name: gpu.example.com
  labels: {{mlgitops.io/environment: {env}}}
spec:
  selectors:
  - cel: {{expression: 'device.driver == "gpu.example.com"'}}
"""


def _repository(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    environments = tmp_path / "environments"
    environments.mkdir()
    (environments / "old.yaml").write_text('kubernetesVersion: "1.32"\n')
    (environments / "new.yaml").write_text('kubernetesVersion: "1.34"\n')
    for env in ("old", "new"):
        (tmp_path / "rendered" / env).mkdir(parents=True)
        (tmp_path / "rendered" / env / "deviceclass.yaml").write_text(DEVICE_CLASS.format(env=env))
    return tmp_path


def _served_later(result_stdout: str) -> set[str]:
    return {f["location"]["file"] for f in lint_findings(result_stdout) if "is served from Kubernetes 1.34" in f["message"]}


def test_each_environment_is_judged_at_its_own_version(tmp_path: Path) -> None:
    repo = _repository(tmp_path)
    result = run_in_process("lint", "rendered", "-o", "json", cwd=repo)
    assert result.exit_code == 0, result.stderr
    # resource.k8s.io/v1 is served from 1.34: the 1.32 environment is told so, the 1.34 one is validated.
    assert _served_later(result.stdout) == {"rendered/old/deviceclass.yaml"}


def test_an_explicit_version_applies_to_every_object(tmp_path: Path) -> None:
    repo = _repository(tmp_path)
    result = run_in_process("lint", "rendered", "-o", "json", "--kubernetes-version", "1.32", cwd=repo)
    assert _served_later(result.stdout) == {"rendered/old/deviceclass.yaml", "rendered/new/deviceclass.yaml"}
    newer = run_in_process("lint", "rendered", "-o", "json", "--kubernetes-version", "1.34", cwd=repo)
    assert _served_later(newer.stdout) == set()


def test_objects_of_no_known_environment_keep_the_default(tmp_path: Path) -> None:
    repo = _repository(tmp_path)
    (repo / "loose.yaml").write_text(DEVICE_CLASS.format(env="elsewhere"))
    result = run_in_process("lint", "loose.yaml", "-o", "json", cwd=repo)
    assert _served_later(result.stdout) == {"loose.yaml"}


def test_a_fleet_in_a_subfolder_is_judged_at_its_own_environments_versions(tmp_path: Path) -> None:
    """Versions came from <git root>/environments while sources came from the environments/ nearest the rendered
    files: a fleet in a subfolder of a repository (a monorepo) was judged at the root's versions (new-user test).
    Both now follow the header of each rendered file to the same environment file."""
    outer = _repository(tmp_path / "outer")
    (outer / "environments" / "old.yaml").write_text('kubernetesVersion: "1.34"\n')  # the root's: other versions
    _repository_files(outer / "fleet")
    result = run_in_process("lint", "fleet/rendered", "-o", "json", cwd=outer)
    assert {file.split("/")[-2] for file in _served_later(result.stdout)} == {"old"}


def _repository_files(root: Path) -> Path:
    environments = root / "environments"
    environments.mkdir(parents=True)
    (environments / "old.yaml").write_text('kubernetesVersion: "1.32"\n')
    (environments / "new.yaml").write_text('kubernetesVersion: "1.34"\n')
    for env in ("old", "new"):
        (root / "rendered" / env).mkdir(parents=True)
        (root / "rendered" / env / "deviceclass.yaml").write_text(
            header(f"environments/{env}.yaml") + DEVICE_CLASS.format(env=env)
        )
    return root


def test_two_fleets_with_an_environment_of_the_same_name_are_judged_apart(tmp_path: Path) -> None:
    """Versions were kept by environment name: linting two fleets' `old` together judged both at one fleet's
    version (new-user test). Each generated file is judged at the version of the environment file it names."""
    outer = _repository(tmp_path / "outer")
    for path in (outer / "rendered").rglob("*.yaml"):
        path.write_text(header(f"environments/{path.parent.name}.yaml") + path.read_text())
    _repository_files(outer / "fleet")
    (outer / "fleet" / "environments" / "old.yaml").write_text('kubernetesVersion: "1.34"\n')
    alone = run_in_process("lint", "rendered", "-o", "json", cwd=outer)
    both = run_in_process("lint", "rendered", "fleet/rendered", "-o", "json", cwd=outer)
    assert _served_later(alone.stdout) == {"rendered/old/deviceclass.yaml"}
    assert _served_later(both.stdout) == {"rendered/old/deviceclass.yaml"}


def test_objects_without_a_header_take_the_working_directorys_environments_first(tmp_path: Path) -> None:
    """No header to follow: the environments/ of the working directory, then of the repository (it was the
    repository's only)."""
    outer = _repository(tmp_path / "outer")
    (outer / "environments" / "old.yaml").write_text('kubernetesVersion: "1.34"\n')  # the repository root's
    fleet = _repository(outer / "fleet")  # no headers; its old.yaml says 1.32
    shutil.rmtree(fleet / ".git")  # inside the outer repository
    result = run_in_process("lint", "rendered", "-o", "json", cwd=outer / "fleet")
    assert _served_later(result.stdout) == {"rendered/old/deviceclass.yaml"}
