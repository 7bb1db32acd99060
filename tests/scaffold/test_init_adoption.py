"""`mlgitops init` in a repository that already exists: adds what is missing, overwrites nothing, says what it left."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlgitops.output.installation import released
from mlgitops.scaffold.parts import PARTS, plan, scaffold_parts
from tests.support import run_cli, run_in_process

PRE_COMMIT = "repos:\n  - repo: https://github.com/psf/black\n    rev: 24.1.0\n    hooks:\n      - id: black\n"


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_an_existing_pre_commit_config_is_left_unchanged_and_gets_a_snippet(tmp_path: Path) -> None:
    (tmp_path / ".pre-commit-config.yaml").write_text(PRE_COMMIT)
    result = run_cli("init", ".", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / ".pre-commit-config.yaml").read_text() == PRE_COMMIT
    assert "left alone .pre-commit-config.yaml (exists: the pre-commit part was left alone)" in result.stdout
    snippet = result.stdout[result.stdout.index("add to .pre-commit-config.yaml:") :]
    # The printed lines, pasted under the existing repos:, make a config with both repositories.
    block = []
    for line in snippet.splitlines()[1:]:
        if not line.startswith("    "):
            break
        block.append(line[4:])
    assert block[0] == "under repos:"
    merged = yaml.safe_load(PRE_COMMIT + "\n".join(block[1:]) + "\n")
    assert [repo["hooks"][0]["id"] for repo in merged["repos"]] == ["black", "mlgitops-render-check"]
    assert (tmp_path / "environments" / "base.yaml").is_file()
    assert (tmp_path / ".github" / "workflows" / "mlgitops.yml").is_file()


def test_a_second_init_adds_nothing_and_changes_nothing(tmp_path: Path) -> None:
    assert run_cli("init", ".", cwd=tmp_path).exit_code == 0
    before = _snapshot(tmp_path)
    again = run_cli("init", ".", cwd=tmp_path)
    assert again.exit_code == 0, again.stderr
    assert _snapshot(tmp_path) == before
    assert "nothing to add: every part is already there" in again.stdout
    assert "add to" not in again.stdout  # its own files already hold what a snippet would add


def test_gitattributes_without_the_generated_line_gets_it_printed(tmp_path: Path) -> None:
    (tmp_path / ".gitattributes").write_text("*.png binary\n")
    result = run_cli("init", ".", "--only", "gitattributes", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / ".gitattributes").read_text() == "*.png binary\n"
    assert "add to .gitattributes:\n    rendered/** linguist-generated=true\n" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitattributes"]


def test_only_scaffolds_the_parts_named(tmp_path: Path) -> None:
    result = run_cli("init", "repo", "--only", "workflow,pre-commit", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    repo = tmp_path / "repo"
    assert sorted(_snapshot(repo)) == [".github/workflows/mlgitops.yml", ".pre-commit-config.yaml"]


def test_only_refuses_an_unknown_part_naming_the_parts(tmp_path: Path) -> None:
    result = run_cli("init", ".", "--only", "workflow,helm", cwd=tmp_path)
    assert result.exit_code == 2
    assert "'helm' is not a part; the parts are environments, schema, workflow" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_environment_files_of_another_name_leave_the_environments_part_alone(tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "qa.yaml").write_text("name: qa\n")
    result = run_cli("init", ".", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "environments").iterdir()) == ["environment.schema.json", "qa.yaml"]


@pytest.mark.parametrize("part", PARTS)
def test_every_part_is_written_alone_into_an_empty_repository(part: str) -> None:
    parts = scaffold_parts(released())
    steps = plan(parts, {}, frozenset({part}))
    expected = next(each.files for each in parts if each.name == part)
    assert steps.write == expected
    assert (steps.left_alone, steps.snippets) == ([], [])


def test_the_pull_request_workflow_is_safe_for_forks() -> None:
    parts = {part.name: part for part in scaffold_parts(released())}
    text = parts["pr-comment"].files[".github/workflows/mlgitops-pr.yml"]
    workflow = yaml.safe_load(text)
    assert list(workflow[True]) == ["pull_request"]  # PyYAML reads `on` as True; never pull_request_target
    steps = workflow["jobs"]["summary"]["steps"]
    comment = next(step for step in steps if "github-script" in step.get("uses", ""))
    assert comment["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert all(step.get("with", {}).get("persist-credentials") is not True for step in steps)
    assert any("GITHUB_STEP_SUMMARY" in step.get("run", "") for step in steps)


def test_a_second_init_that_only_prints_lines_says_nothing_was_written(tmp_path: Path) -> None:
    (tmp_path / ".gitattributes").write_text("*.png binary\n")
    result = run_in_process("init", ".", "--only", "gitattributes", cwd=tmp_path)
    assert "add to .gitattributes:" in result.stdout
    assert "no file written: add the lines above by hand" in result.stdout
    assert "nothing to add" not in result.stdout


def test_a_partial_init_names_the_next_step_of_what_it_wrote(tmp_path: Path) -> None:
    result = run_in_process("init", "repo", "--only", "workflow", cwd=tmp_path)
    assert "next: commit the files written" in result.stdout
    assert "environments/*.yaml" not in result.stdout


def test_the_local_install_note_speaks_each_files_language(tmp_path: Path) -> None:
    assert run_in_process("init", "repo", cwd=tmp_path).exit_code == 0
    repo = tmp_path / "repo"
    assert "set rev to a commit of" in (repo / ".pre-commit-config.yaml").read_text()
    assert "mlgitops @ git+" in (repo / ".github" / "workflows" / "mlgitops.yml").read_text()
    assert "NOTE" not in (repo / ".github" / "dependabot.yml").read_text()
