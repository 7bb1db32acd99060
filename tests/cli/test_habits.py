"""kubectl, helm and ruff habits: -h, short options, -o, --quiet/--verbose everywhere, colour and progress only
on a terminal, `template`/`render --stdout`, and shell completion of environment names and rule ids."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from benchmarks.fleet import write_fleet
from mlgitops.cli import _COMMANDS, cli
from tests.support import REPO, kubectl, lint_findings, run_cli, run_in_process, write

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _all_commands() -> Iterator[list[str]]:
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        yield [name]
        if isinstance(command, click.Group):
            for sub in command.list_commands(None):  # type: ignore[arg-type]
                yield [name, sub]


COMMANDS = list(_all_commands())


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(words) for words in COMMANDS])
def test_every_command_takes_h_quiet_and_verbose(words: list[str]) -> None:
    result = run_in_process(*words, "-h")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Usage: ")
    assert "-q, --quiet" in result.stdout
    assert "-v, --verbose" in result.stdout
    assert "-h, --help" in result.stdout


def test_the_group_takes_them_too_and_a_new_command_gets_them_without_opting_in(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_in_process("-h").stdout.startswith("Usage: ")
    assert {"render", "template", "lint", "diff", "init", "completion"} <= set(cli.list_commands(None))  # type: ignore[arg-type]
    # A command added later (issue 19's set/promote, say) is registered by name only ...
    monkeypatch.setitem(_COMMANDS, "sample", ("tests.cli.sample_command", "sample", "A command added later."))
    result = run_in_process("sample", "-h")
    assert "-q, --quiet" in result.stdout
    assert "-v, --verbose" in result.stdout
    assert run_in_process("sample", "-q").stdout == "quiet\n"
    assert run_in_process("sample", "-vv").stdout == "verbosity 2\n"


def test_lint_and_diff_take_o_and_the_old_format_alias(fleet: Path) -> None:
    for words in (["lint"], ["diff"]):
        help_text = run_in_process(*words, "-h").stdout
        assert "-o, --output-format, --format" in help_text
    assert (
        run_in_process("lint", "rendered", "-o", "json", cwd=fleet).stdout
        == run_in_process("lint", "rendered", "--format", "json", cwd=fleet).stdout
    )
    render_help = run_in_process("render", "-h").stdout
    assert "-e, --env NAME" in render_help
    assert "-d, --environments-dir" in render_help


def _command(words: list[str]) -> click.Command:
    command: click.Command = cli
    for word in words:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), word)
        assert found is not None
        command = found
    return command


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(words) for words in COMMANDS])
def test_every_output_format_and_environment_option_takes_the_same_short_forms(words: list[str]) -> None:
    # One spelling everywhere (set and promote included): -o/--output-format (--format kept), -e/--env, -d, -p.
    shorts = {"output_format": "-o", "environments_dir": "-d", "policy_dirs": "-p"}
    for parameter in _command(words).params:
        if not isinstance(parameter, click.Option):
            continue
        if parameter.name in shorts:
            assert shorts[parameter.name] in parameter.opts, (words, parameter.opts)
        if parameter.name == "output_format":
            assert {"--output-format", "--format"} <= set(parameter.opts), (words, parameter.opts)
        if "--env" in parameter.opts:
            assert "-e" in parameter.opts, (words, parameter.opts)
        if set(parameter.opts) & {"--env", "--from", "--to"}:
            assert parameter._custom_shell_complete is not None, (words, parameter.opts)  # environment names complete


def test_quiet_prints_only_results_and_verbose_says_more(fleet: Path) -> None:
    quiet = run_in_process("lint", "rendered", "-q", cwd=fleet)
    verbose = run_in_process("-v", "lint", "rendered", cwd=fleet)
    # The findings are the result (stdout, also when quiet); the summary and notes on stderr are not.
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, verbose.stdout, "")
    assert re.search(r"0 error\(s\), 0 warning\(s\), \d+ info, \d+ waived in \d+ file\(s\)", verbose.stderr)
    assert re.search(r"read \d+ file\(s\), \d+ object\(s\) in [0-9.]+ s", verbose.stderr)
    rendered = run_in_process("render", "-v", cwd=fleet)
    assert rendered.stdout.startswith("rendered ")
    assert "loaded 3 environment(s)" in rendered.stderr
    assert (run_in_process("init", "new", "-q", cwd=fleet).stdout, (fleet / "new" / ".pre-commit-config.yaml").is_file()) == (
        "",
        True,
    )


def test_template_and_render_stdout_print_one_stream_of_what_kustomize_builds(fleet: Path) -> None:
    stream = run_in_process("template", "prod", cwd=fleet)
    assert stream.exit_code == 0, stream.stderr
    assert run_in_process("render", "--stdout", "-e", "prod", cwd=fleet).stdout == stream.stdout
    objects = [document for document in yaml.safe_load_all(stream.stdout) if document]
    built: list[dict[str, object]] = []
    for root in (fleet / "rendered" / "prod", fleet / "rendered" / "prod" / "cluster"):
        out = subprocess.run([kubectl(), "kustomize", str(root)], capture_output=True, text=True, check=True).stdout
        built += [document for document in yaml.safe_load_all(out) if document]

    def key(obj: dict[str, object]) -> tuple[str, str]:
        return str(obj["kind"]), str(obj["metadata"]["name"])  # type: ignore[index]

    assert sorted(objects, key=key) == sorted(built, key=key)
    # Nothing was written, and the stream is the render pipeline's: a bad environment is refused the same way.
    write(fleet / "environments" / "prod.yaml", (fleet / "environments" / "prod.yaml").read_text() + "bogus: 1\n")
    refused = run_in_process("template", "prod", cwd=fleet)
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert "unknown field 'bogus'" in refused.stderr
    assert run_in_process("render", "--stdout", "--check", cwd=fleet).exit_code == 2


def test_the_stream_gives_extra_manifests_the_namespace_and_labels_kustomize_gives_them(tmp_path: Path) -> None:
    from mlgitops.render.kustomize import KUSTOMIZE_CLUSTER_SCOPED, built

    kinds = [
        *sorted(KUSTOMIZE_CLUSTER_SCOPED),
        ("rbac.authorization.k8s.io/v1", "RoleBinding"),
        ("v1", "ServiceAccount"),
        ("resource.k8s.io/v1", "DeviceClass"),  # cluster-scoped, but newer than kustomize's OpenAPI
        ("kueue.x-k8s.io/v1beta1", "ClusterQueue"),  # a custom resource: kustomize cannot know its scope
    ]
    objects: list[dict[str, Any]] = [
        {"apiVersion": api, "kind": kind, "metadata": {"name": "x", "labels": {"team": "mine", "keep": "yes"}}}
        for api, kind in kinds
    ]
    service = {"service": {"name": "converter", "namespace": "elsewhere"}}
    objects += [
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "y"}},
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "z"},
            "spec": {"conversion": {"webhook": {"clientConfig": service}}},
        },
    ]
    root = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "ml-dev",
        "labels": [{"pairs": {"team": "ml", "app.kubernetes.io/managed-by": "mlgitops"}, "includeSelectors": False}],
        "resources": ["objects.yaml"],
    }
    write(tmp_path / "objects.yaml", yaml.safe_dump_all(objects))
    write(tmp_path / "kustomization.yaml", yaml.safe_dump(root))
    out = subprocess.run([kubectl(), "kustomize", str(tmp_path)], capture_output=True, text=True, check=True).stdout

    def key(obj: dict[str, Any]) -> tuple[str, str, str]:
        return str(obj["apiVersion"]), str(obj["kind"]), str(obj["metadata"]["name"])

    expected = sorted((document for document in yaml.safe_load_all(out) if document), key=key)
    assert sorted((built(obj, root) for obj in objects), key=key) == expected
    assert objects[0]["metadata"] == {"name": "x", "labels": {"team": "mine", "keep": "yes"}}  # not modified


def _on_a_terminal(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    """Run mlgitops with stdout and stderr on a pseudo-terminal; everything it printed."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "mlgitops.cli", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, "TERM": "xterm", **(env or {})},
    )
    os.close(terminal)
    chunks = []
    while True:
        ready, _, _ = select.select([controller], [], [], timeout)
        if not ready:
            process.kill()
            raise AssertionError("no output in time")
        try:
            data = os.read(controller, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=timeout)
    os.close(controller)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def findings(tmp_path: Path) -> Path:
    write(tmp_path / "serving.yaml", (REPO / "tests" / "manifests" / "multi_document" / "serving.yaml").read_text())
    return tmp_path


def test_colour_on_a_terminal_only_and_never_with_no_color(findings: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    coloured = _on_a_terminal(["lint", "serving.yaml"], findings, {"NO_COLOR": ""})
    assert ANSI.search(coloured)
    assert "error serving-probes" in ANSI.sub("", coloured)
    assert "\x1b[31m" in coloured  # errors in red
    assert not ANSI.search(_on_a_terminal(["lint", "serving.yaml"], findings, {"NO_COLOR": "1"}))
    piped = subprocess.run(
        [sys.executable, "-m", "mlgitops.cli", "lint", "serving.yaml"],
        cwd=findings,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert piped.stdout
    assert not ANSI.search(piped.stdout + piped.stderr)


def test_progress_on_a_terminal_never_piped_or_quiet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_fleet(tmp_path / "environments", 100)  # 300 workloads over three environments: a progress line's worth
    shown = _on_a_terminal(["render", "--stdout"], tmp_path, {"MLGITOPS_PROCESSES": "1"})
    assert "rendering" in shown
    assert "100%" in shown
    # Piped, --quiet, or below the minimum: nothing.
    from mlgitops.commands.console import QUIET, Console

    class Terminal:
        def __init__(self, tty: bool = True) -> None:
            self.text = ""
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

        def write(self, text: str) -> int:
            self.text += text
            return len(text)

        def flush(self) -> None:
            return None

    for console, total, minimum, expected in (
        (Console(), 500, 300, True),
        (Console(QUIET), 500, 300, False),
        (Console(), 50, 300, False),
    ):
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        with console.progress(total, "rendering", minimum) as advance:
            advance(total)
        monkeypatch.undo()
        assert ("rendering" in terminal.text) is expected


def _complete(words: str, cwd: Path) -> list[str]:
    env = {"_MLGITOPS_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split(" ")) - 1)}
    result = run_cli(cwd=cwd, env=env)
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


def test_completion_scripts_and_what_they_complete(fleet: Path) -> None:
    for shell in ("bash", "zsh", "fish"):
        script = run_in_process("completion", shell, cwd=fleet)
        assert script.exit_code == 0
        assert "_MLGITOPS_COMPLETE" in script.stdout
    assert run_in_process("completion", "tcsh", cwd=fleet).exit_code == 2
    # Environment names (abstract bases left out), for -e and for template's arguments.
    assert _complete("mlgitops render -e ", fleet) == ["dev", "prod", "staging"]
    assert _complete("mlgitops template p", fleet) == ["prod"]
    assert _complete("mlgitops lint --env s", fleet) == ["staging"]
    # Rule ids of the catalog.
    from mlgitops.policy import load_catalog

    gpu_rules = sorted(rule for rule in load_catalog().policies if rule.startswith("gpu-"))
    assert len(gpu_rules) >= 4
    assert _complete("mlgitops explain gpu-", fleet) == gpu_rules
    assert "render" in _complete("mlgitops ", fleet)


def test_the_console_script_leaves_with_every_exit_code_and_all_its_output(tmp_path: Path) -> None:
    """`entry` skips the heap teardown with os._exit: the buffered output and the exit code must survive it."""
    pods = "\n---\n".join(
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{number}\nspec:\n  containers:\n  - name: c\n    image: busybox:latest\n"
        for number in range(300)
    )
    (tmp_path / "pods.yaml").write_text(pods, encoding="utf-8")
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    script = "from mlgitops.cli import entry; entry()"

    def console(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, *args], cwd=tmp_path, capture_output=True, text=True, env=environment, check=False
        )

    findings = console("lint", "pods.yaml", "-o", "json")
    assert findings.returncode == 1
    assert (
        len({finding["object"]["name"] for finding in lint_findings(findings.stdout)}) == 300
    )  # a pipe: block-buffered, all of it written
    assert console("--version").returncode == 0
    assert console("lint", "missing.yaml").returncode == 2
    assert console("no-such-command").returncode == 2
