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
        ".gitattributes",
        ".github/dependabot.yml",
        ".github/workflows/mlgitops-pr.yml",
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


def test_init_pins_ci_and_pre_commit_to_this_editable_install_and_says_so(tmp_path: Path) -> None:
    from mlgitops import HOME, __version__

    result = run_in_process("init", "fleet", cwd=tmp_path)
    assert result.exit_code == 0
    # This checkout is an editable install: the files pin the version, which installs elsewhere only once published.
    assert result.stderr.startswith("note: this mlgitops was installed from an editable checkout (file://")
    fleet = tmp_path / "fleet"
    text = (fleet / ".github" / "workflows" / "mlgitops.yml").read_text()
    assert text.startswith("# NOTE: this mlgitops was installed from an editable checkout")
    workflow = yaml.safe_load(text)
    installs = [step["run"] for step in workflow["jobs"]["check"]["steps"] if "pip install" in step.get("run", "")]
    assert installs == [f'python -m pip install "mlgitops=={__version__}"']
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


def test_a_release_pins_its_version_and_tag_and_a_git_install_its_commit() -> None:
    from mlgitops.output.installation import from_direct_url, released
    from mlgitops.scaffold.parts import scaffold_files

    files = scaffold_files(released("2.3.4"))
    assert 'pip install "mlgitops==2.3.4"' in files[".github/workflows/mlgitops.yml"]
    assert "rev: v2.3.4" in files[".pre-commit-config.yaml"]
    assert "__MLGITOPS" not in "".join(files.values())
    assert "# NOTE" not in "".join(files.values())
    sha = "ab" * 20
    git = scaffold_files(from_direct_url({"url": "https://example.com/fork.git", "vcs_info": {"vcs": "git", "commit_id": sha}}))
    assert f'pip install "mlgitops @ git+https://example.com/fork.git@{sha}"' in git[".github/workflows/mlgitops-pr.yml"]
    assert f"rev: {sha}" in git[".pre-commit-config.yaml"]
    assert "repo: https://example.com/fork.git" in git[".pre-commit-config.yaml"]


def test_init_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.yaml").write_text("mine\n")
    result = run_in_process("init", ".", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "left alone environments/dev.yaml (exists: the environments part was left alone)" in result.stdout
    assert (tmp_path / "environments" / "dev.yaml").read_text() == "mine\n"
    assert not (tmp_path / "environments" / "base.yaml").exists()
    assert (tmp_path / ".github" / "workflows" / "mlgitops.yml").is_file()


def test_init_never_writes_through_a_dangling_link(tmp_path: Path) -> None:
    (tmp_path / "repo" / "environments").mkdir(parents=True)
    (tmp_path / "repo" / "environments" / "base.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    result = run_in_process("init", "repo", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "left alone repo/environments/base.yaml" in result.stdout
    assert not (tmp_path / "elsewhere.yaml").exists()
    assert (tmp_path / "repo" / "environments" / "base.yaml").is_symlink()


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
