"""`lint` builds kustomize roots a pull request controls: nothing is fetched, run or read outside the repository.

Each attack runs the real CLI with a `git` wrapper first on PATH (kubectl kustomize shells out to git for
remote bases: the wrapper records every call) and a web server on the loopback address that records every
request; both must stay silent, and the refusal is one line at the entry that asked for it.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.support import CliResult, kubectl, run_cli, write
from tests.test_bad_inputs import POD as FINDINGS
from tests.test_hostile_inputs import _Recorder, server  # noqa: F401  # the recording web server fixture

POD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ml}\ndata: {a: b}\n"
FINDING_POD = FINDINGS.split("---")[1]
SENTINEL = "SENTINEL-kustomize-5e1f"


@pytest.fixture
def sealed(tmp_path: Path) -> tuple[Path, Path]:
    """A repository (with .git) holding root/, and the log a `git` wrapper first on PATH appends each call to."""
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    write(repository / "root" / "pod.yaml", POD)
    wrapper = tmp_path / "bin" / "git"
    log = tmp_path / "git-calls.log"
    real = shutil.which("git") or "/usr/bin/git"
    write(wrapper, f'#!/bin/sh\necho "git $*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return repository, log


def _lint(repository: Path, *args: str) -> CliResult:
    path = f"{repository.parent / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    return run_cli("lint", "root", *args, cwd=repository, env={"PATH": path, "GIT_TERMINAL_PROMPT": "0"}, timeout=120)


def _git_calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


# (files of the repository, the first line lint must print); {server} is the recording web server.
ATTACKS = {
    "local-folder-named-like-github": (
        {
            "root/kustomization.yaml": "namePrefix: x-\nresources:\n  - pod.yaml\n  - github.com/acme/base\n",
            "root/github.com/acme/base/kustomization.yaml": "resources: [pod.yaml]\n",
        },
        "root/kustomization.yaml:4:5: resources[1]: 'github.com/acme/base' is how kustomize names a remote git repository",
    ),
    "generator-folder-listing-a-url": (
        {
            "root/kustomization.yaml": "resources: [pod.yaml]\ngenerators: [gen]\n",
            "root/gen/kustomization.yaml": "resources:\n  - {server}/generated.yaml\n",
        },
        "root/gen/kustomization.yaml:2:5: resources[0]: '{server}/generated.yaml' is not a file or folder in the repository",
    ),
    "transformer-github-shorthand": (
        {"root/kustomization.yaml": "resources: [pod.yaml]\ntransformers:\n  - github.com/acme/transformers\n"},
        "root/kustomization.yaml:3:5: transformers[0]: 'github.com/acme/transformers' is not a file or folder",
    ),
    "component-scp-shorthand": (
        {
            "root/kustomization.yaml": "resources: [pod.yaml]\ncomponents: [comp]\n",
            "root/comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
            "resources:\n  - github.com:acme/base\n",
        },
        "root/comp/kustomization.yaml:4:5: resources[0]: 'github.com:acme/base' is not a file or folder",
    ),
    "validator-over-http": (
        {"root/kustomization.yaml": "namePrefix: x-\nresources: [pod.yaml]\nvalidators:\n  - {server}/validator\n"},
        "root/kustomization.yaml:4:5: validators[0]: '{server}/validator' is not a file or folder",
    ),
    "helm-chart-from-a-repository": (
        {"root/kustomization.yaml": "helmCharts:\n  - {name: app, repo: '{server}/charts', version: 1.0.0}\n"},
        "root/kustomization.yaml:1:1: helmCharts: kustomize would run helm",
    ),
    "generator-config-file-is-a-krm-function": (
        {
            "root/kustomization.yaml": "resources: [pod.yaml]\ngenerators: [fetch.yaml]\n",
            "root/fetch.yaml": "apiVersion: example.com/v1\nkind: Fetch\nmetadata:\n  name: f\n  annotations:\n"
            "    config.kubernetes.io/function: |\n      exec: {path: ./steal.sh}\n",
        },
        "root/kustomization.yaml:2:14: generators[0]: 'fetch.yaml' configures a KRM function",
    ),
    "generator-folder-of-function-configs": (
        {
            "root/kustomization.yaml": "resources: [pod.yaml]\ntransformers: [fns]\n",
            "root/fns/kustomization.yaml": "resources: [fn.yaml]\n",
            "root/fns/fn.yaml": "apiVersion: example.com/v1\nkind: Fetch\nmetadata: {name: f}\n",
        },
        "root/fns/kustomization.yaml:1:13: resources[0]: 'fn.yaml' configures the plugin 'Fetch'",
    ),
    "config-map-file-over-http": (
        {"root/kustomization.yaml": "resources: [pod.yaml]\nconfigMapGenerator:\n  - {name: s, files: ['{server}/s.json']}\n"},
        "root/kustomization.yaml:3:23: configMapGenerator[0].files[0]: '{server}/s.json' is a URL",
    ),
}


@pytest.mark.kubectl
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_no_kustomize_entry_makes_lint_fetch_or_run_git(sealed: tuple[Path, Path], server: str, attack: str) -> None:  # noqa: F811
    kubectl()
    repository, log = sealed
    files, expected = ATTACKS[attack]
    for name, text in files.items():
        write(repository / name, text.replace("{server}", server))
    result = _lint(repository)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"error: {expected.replace('{server}', server)}"), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert _Recorder.requests == []
    assert _git_calls(log) == []


@pytest.mark.kubectl
def test_a_local_folder_written_with_dot_slash_is_built_without_git(sealed: tuple[Path, Path], server: str) -> None:  # noqa: F811
    kubectl()
    repository, log = sealed
    write(repository / "root" / "kustomization.yaml", "namePrefix: x-\nresources:\n  - ./github.com/acme/base\n")
    write(repository / "root" / "github.com" / "acme" / "base" / "kustomization.yaml", "resources: [pod.yaml]\n")
    write(repository / "root" / "github.com" / "acme" / "base" / "pod.yaml", FINDING_POD)
    (repository / "root" / "pod.yaml").unlink()
    result = _lint(repository)
    assert result.exit_code == 1, result.stderr
    assert "Pod ml/x-p" in result.stdout  # the folder was built, with the prefix
    assert _git_calls(log) == []
    assert _Recorder.requests == []


@pytest.mark.kubectl
@pytest.mark.parametrize("how", ["generators", "components", "link-in-the-repository", "linked-kustomization-file"])
def test_nothing_outside_the_repository_is_read(sealed: tuple[Path, Path], how: str) -> None:
    kubectl()
    repository, log = sealed
    outside = repository.parent / "outside"
    write(outside / "token", f"{SENTINEL}\n")
    write(outside / "kustomization.yaml", "secretGenerator:\n  - {name: stolen, files: [token]}\n")
    entry, at = {
        "generators": ("generators:\n  - ../../outside\n", "root/kustomization.yaml:3:5: generators[0]: '../../outside' leads"),
        "components": ("components:\n  - ../../outside\n", "root/kustomization.yaml:3:5: components[0]: '../../outside' leads"),
        "link-in-the-repository": ("generators:\n  - secrets\n", "root/kustomization.yaml:3:5: generators[0]: 'secrets' leads"),
        "linked-kustomization-file": (
            "generators:\n  - secrets\n",
            "root/kustomization.yaml:3:5: generators[0]: 'secrets': its kustomization.yaml is a symbolic link leading outside",
        ),
    }[how]
    if how == "link-in-the-repository":
        (repository / "root" / "secrets").symlink_to(outside)
    elif how == "linked-kustomization-file":
        (repository / "root" / "secrets").mkdir(parents=True)
        (repository / "root" / "secrets" / "kustomization.yaml").symlink_to(outside / "kustomization.yaml")
    write(repository / "root" / "kustomization.yaml", "resources: [pod.yaml]\n" + entry)
    result = _lint(repository)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"error: {at}"), result.stderr
    assert SENTINEL not in result.stdout + result.stderr
    assert _git_calls(log) == []


@pytest.mark.kubectl
def test_allow_remote_never_runs_helm_or_plugins(sealed: tuple[Path, Path], server: str) -> None:  # noqa: F811
    kubectl()
    repository, _ = sealed
    write(repository / "root" / "kustomization.yaml", f"helmCharts:\n  - {{name: app, repo: '{server}/charts'}}\n")
    result = _lint(repository, "--allow-remote")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: root/kustomization.yaml:1:1: helmCharts: kustomize would run helm")
    assert _Recorder.requests == []
