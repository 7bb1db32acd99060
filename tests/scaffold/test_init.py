"""`mlgitops init` scaffolds a repository that renders (and lints) clean out of the box."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.support import REPO, run_in_process


def test_init_then_render_then_check(tmp_path: Path) -> None:
    created = run_in_process("init", str(tmp_path / "fleet"), cwd=tmp_path)
    assert created.exit_code == 0, created.stderr
    fleet = tmp_path / "fleet"
    assert sorted(p.relative_to(fleet).as_posix() for p in fleet.rglob("*") if p.is_file()) == [
        ".github/workflows/mlgitops.yml",
        ".pre-commit-config.yaml",
        "environments/base.yaml",
        "environments/dev.yaml",
        "environments/environment.schema.json",
        "environments/prod.yaml",
        "environments/staging.yaml",
    ]
    rendered = run_in_process("render", cwd=fleet)
    assert rendered.exit_code == 0, rendered.stderr
    assert rendered.stdout.startswith("rendered dev: 9 objects, prod: 10 objects, staging: 10 objects into rendered/")
    assert run_in_process("render", "--check", cwd=fleet).exit_code == 0
    workflow = yaml.safe_load((fleet / ".github" / "workflows" / "mlgitops.yml").read_text())
    commands = [step.get("run", "") for step in workflow["jobs"]["check"]["steps"]]
    assert "mlgitops render --check" in commands


def test_init_pins_ci_and_pre_commit_to_the_running_version_installable_before_pypi(tmp_path: Path) -> None:
    from mlgitops import HOME, __version__

    assert run_in_process("init", "fleet", cwd=tmp_path).exit_code == 0
    fleet = tmp_path / "fleet"
    workflow = yaml.safe_load((fleet / ".github" / "workflows" / "mlgitops.yml").read_text())
    installs = [step["run"] for step in workflow["jobs"]["check"]["steps"] if "pip install" in step.get("run", "")]
    # Not `pip install mlgitops`: that needs a PyPI release; the git tag of this version always exists.
    assert installs == [f'python -m pip install "mlgitops @ git+{HOME}@v{__version__}"']
    pre_commit = yaml.safe_load((fleet / ".pre-commit-config.yaml").read_text())
    assert pre_commit == {
        "repos": [{"repo": HOME, "rev": f"v{__version__}", "hooks": [{"id": "mlgitops-render-check"}, {"id": "mlgitops-lint"}]}]
    }
    hooks = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert {"mlgitops-render-check", "mlgitops-lint"} <= hooks
    # Every action the workflow uses is pinned to a full commit SHA.
    uses = [step["uses"] for step in workflow["jobs"]["check"]["steps"] if "uses" in step]
    assert uses
    assert all(len(use.partition("@")[2]) == 40 for use in uses)


def test_a_later_version_pins_its_own_tag() -> None:
    from mlgitops.commands.init import scaffold_files

    files = scaffold_files("2.3.4")
    assert "git+https://github.com/mlgitops/mlgitops@v2.3.4" in files[".github/workflows/mlgitops.yml"]
    assert "rev: v2.3.4" in files[".pre-commit-config.yaml"]
    assert "__MLGITOPS" not in "".join(files.values())


def test_init_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.yaml").write_text("mine\n")
    result = run_in_process("init", ".", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "error: environments/dev.yaml already exists; init writes only into a new repository\n"
    assert (tmp_path / "environments" / "dev.yaml").read_text() == "mine\n"
    assert not (tmp_path / "environments" / "base.yaml").exists()


def test_init_never_writes_through_a_dangling_link(tmp_path: Path) -> None:
    (tmp_path / "repo" / "environments").mkdir(parents=True)
    (tmp_path / "repo" / "environments" / "base.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    result = run_in_process("init", "repo", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: repo/environments/base.yaml already exists; init writes only into a new repository\n",
    )
    assert not (tmp_path / "elsewhere.yaml").exists()


def test_init_never_writes_through_a_linked_folder(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / ".github").symlink_to(tmp_path / "elsewhere")
    result = run_in_process("init", "repo", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: repo/.github is a symbolic link; mlgitops never writes through links (remove it)\n",
    )
    assert list((tmp_path / "elsewhere").iterdir()) == []
    assert not (tmp_path / "repo" / "environments").exists()
