"""CI workflows, the composite action and pre-commit hooks are valid YAML and call only real commands."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli
from tests.support import REPO

FILES = [
    ".github/workflows/ci.yml",
    ".github/workflows/pr.yml",
    "action.yml",
    ".pre-commit-hooks.yaml",
    "generator/scaffold/workflow.yml",
]


def _commands(document: object) -> list[str]:
    """Every `mlgitops ...` invocation in run steps and hook entries."""
    found: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key in ("run", "entry") and isinstance(value, str):
                for line in value.splitlines():
                    line = re.sub(r"\$\{\{.*?\}\}", "X", line)
                    for part in re.split(r"\|\||&&|;|\|", line):
                        words = shlex.split(part, posix=True)
                        for index, word in enumerate(words):
                            if word.endswith("mlgitops") and index + 1 < len(words):
                                found.append(" ".join(words[index:]))
            else:
                found += _commands(value)
    elif isinstance(document, list):
        for item in document:
            found += _commands(item)
    return found


@pytest.mark.parametrize("name", FILES)
def test_file_is_yaml_and_every_mlgitops_call_parses(name: str) -> None:
    document = yaml.safe_load((REPO / name).read_text())
    commands = _commands(document)
    assert commands, f"{name} calls no mlgitops command"
    runner = CliRunner()
    for command in commands:
        words = shlex.split(command)[1:]
        words = [w for w in words if not w.startswith(">")]
        subcommand = words[0]
        assert cli.get_command(None, subcommand) is not None, f"{name}: unknown command {subcommand!r}"  # type: ignore[arg-type]
        help_text = runner.invoke(cli, [subcommand, "--help"]).output
        for word in words[1:]:
            if word.startswith("--"):
                assert word.split("=")[0] in help_text, f"{name}: {subcommand} has no option {word}"


def test_pr_workflow_updates_one_marked_comment() -> None:
    workflow = (REPO / ".github" / "workflows" / "pr.yml").read_text()
    from generator.review.summary import COMMENT_MARKER

    assert COMMENT_MARKER in workflow
    assert "updateComment" in workflow and "createComment" in workflow  # noqa: PT018


def test_ci_workflow_runs_tests_render_check_and_uploads_sarif() -> None:
    steps = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())["jobs"]["test"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert any("pytest" in run for run in runs)
    assert any("mlgitops render --check" in run for run in runs)
    assert any("--format sarif" in run for run in runs)
    assert any(step.get("uses", "").startswith("github/codeql-action/upload-sarif") for step in steps)


def test_scaffold_renders_and_lints_clean(tmp_path: Path) -> None:
    from tests.support import run_cli

    assert run_cli("init", "repo", cwd=tmp_path).exit_code == 0
    repo = tmp_path / "repo"
    assert run_cli("render", cwd=repo).exit_code == 0
    linted = run_cli("lint", "rendered", cwd=repo)
    assert linted.exit_code == 0, linted.stdout + linted.stderr
    assert linted.stdout == ""


def _workflow_files() -> list[Path]:
    """Every workflow (whatever its name) and the composite action: new files are covered as they appear."""
    workflows = sorted(p for p in (REPO / ".github" / "workflows").iterdir() if p.suffix in (".yml", ".yaml"))
    return [*workflows, REPO / "action.yml", REPO / "generator" / "scaffold" / "workflow.yml"]


def _zizmor() -> str:
    found = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    assert found is not None, "zizmor is a test dependency: pip install -e '.[test]'"
    return found


def test_every_workflow_and_the_action_pass_zizmor() -> None:
    # Template injection, unpinned actions, persisted credentials, excessive permissions...: offline
    # audits only (no network here), no ignore comments honoured.
    files = _workflow_files()
    completed = subprocess.run(
        [_zizmor(), "--offline", "--no-ignores", "--no-progress", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    findings = json.loads(completed.stdout or "[]")
    shown = [f"{f['ident']}: {json.dumps(f['locations'][0]['concrete'])[:200]}" for f in findings]
    assert (completed.returncode, shown) == (0, []), completed.stderr[-2000:]


def test_zizmor_catches_the_injection_this_repository_had(tmp_path: Path) -> None:
    # The check above has teeth: the pull-request workflow as it was fails it.
    bad = tmp_path / "pr.yml"
    bad.write_text(
        "on: pull_request\npermissions: {}\njobs:\n  s:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: mlgitops diff --base "origin/${{ github.base_ref }}"\n'
    )
    completed = subprocess.run(
        [_zizmor(), "--offline", "--no-progress", "--format", "json", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "template-injection" in {finding["ident"] for finding in json.loads(completed.stdout)}


@pytest.mark.parametrize("path", _workflow_files(), ids=lambda p: p.name)
def test_third_party_actions_are_pinned_to_full_commit_shas(path: Path) -> None:
    uses = re.findall(r"uses:\s*([^\s#]+)", path.read_text())
    assert uses
    for reference in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", reference), f"{path.name}: {reference} is not pinned to a commit"
