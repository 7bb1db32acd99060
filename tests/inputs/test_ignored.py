"""`lint .` leaves out what git ignores and what --exclude names; a folder named on the command line is linted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlgitops.inputs.ignored import Ignored
from tests.support import run_cli

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: x}}\ndata: {{a: '1'}}\n"
BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [broken\n"


def _repository(root: Path, files: dict[str, str]) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _linted(result_stderr: str) -> str:
    return next(line for line in result_stderr.splitlines() if line.startswith("read "))


def test_ignored_folders_and_files_are_left_out_of_a_folder_walk(tmp_path: Path) -> None:
    repo = _repository(
        tmp_path,
        {
            ".gitignore": "build/\n*.tmpl.yaml\n",
            "build/broken.yaml": BROKEN,  # would be a YAML error if it were read
            "ok/cm.yaml": CONFIG_MAP.format(name="ok"),
            "ok/cm.tmpl.yaml": BROKEN,
            "charts/cm.yaml": CONFIG_MAP.format(name="chart"),
        },
    )
    result = run_cli("lint", ".", "-v", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert _linted(result.stderr).startswith("read 2 file(s), 2 object(s)")


def test_a_nested_gitignore_and_a_negation_follow_gits_rules(tmp_path: Path) -> None:
    repo = _repository(
        tmp_path,
        {
            ".gitignore": "*.yaml\n!keep/\n",
            "keep/.gitignore": "!*.yaml\nlocal.yaml\n",
            "keep/a.yaml": CONFIG_MAP.format(name="a"),
            "keep/local.yaml": BROKEN,
            "top.yaml": BROKEN,
        },
    )
    ignored = Ignored()
    assert ignored.ignored(repo / "top.yaml", is_dir=False)
    assert not ignored.ignored(repo / "keep", is_dir=True)
    assert not ignored.ignored(repo / "keep" / "a.yaml", is_dir=False)  # the deeper file re-includes it
    assert ignored.ignored(repo / "keep" / "local.yaml", is_dir=False)
    result = run_cli("lint", ".", "-v", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert _linted(result.stderr).startswith("read 1 file(s), 1 object(s)")


def test_exclude_globs_leave_out_files_and_folders_even_when_named(tmp_path: Path) -> None:
    repo = _repository(
        tmp_path,
        {"charts/a.yaml": BROKEN, "ok/cm.yaml": CONFIG_MAP.format(name="ok"), "ok/b.gen.yaml": BROKEN},
    )
    result = run_cli("lint", ".", "--exclude", "charts/", "--exclude", "**/*.gen.yaml", "-v", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert _linted(result.stderr).startswith("read 1 file(s), 1 object(s)")
    named = run_cli("lint", "ok/b.gen.yaml", "ok/cm.yaml", "--exclude", "*.gen.yaml", cwd=repo)
    assert named.exit_code == 0, named.stderr


def test_a_folder_named_on_the_command_line_is_linted_even_if_ignored(tmp_path: Path) -> None:
    repo = _repository(tmp_path, {".gitignore": "build/\n", "build/cm.yaml": CONFIG_MAP.format(name="b")})
    result = run_cli("lint", "build", "-v", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert _linted(result.stderr).startswith("read 1 file(s), 1 object(s)")


@pytest.mark.parametrize("where", ["inside", "outside"])
def test_without_a_gitignore_nothing_is_left_out(tmp_path: Path, where: str) -> None:
    root = tmp_path / "repo"
    if where == "inside":
        _repository(root, {})
    (root / "a").mkdir(parents=True)
    (root / "a" / "cm.yaml").write_text(CONFIG_MAP.format(name="a"))
    assert not Ignored().ignored(root / "a" / "cm.yaml", is_dir=False)


def test_nothing_to_lint_names_what_was_left_out(tmp_path: Path) -> None:
    repo = _repository(tmp_path, {".gitignore": "build/\n", "build/cm.yaml": CONFIG_MAP.format(name="b")})
    result = run_cli("lint", ".", cwd=repo)
    assert result.exit_code == 2
    assert "nothing to lint: found no .yaml, .yml or .json files in . (1 file(s) or folder(s) there are left out by " in (
        result.stderr
    )
    excluded = run_cli("lint", ".", "--exclude", "build/", cwd=repo)
    assert "left out by .gitignore or --exclude" in excluded.stderr
