"""How lint reads its input: files, folders, links, stdin, kustomize roots, and what it says when it cannot."""

from __future__ import annotations

import json
import os
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.policy.test_lint import MULTI, SEED_PAIRS
from tests.support import kubectl, lint_findings, run_cli, run_in_process, write


def test_unparseable_input_is_exit_2_with_a_location_never_skipped(tmp_path: Path) -> None:
    write(tmp_path / "ok.yaml", MULTI)
    write(tmp_path / "broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n")
    result = run_in_process("lint", ".", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: broken.yaml:4:1: invalid YAML:")
    assert "Traceback" not in result.stderr


def test_folder_links_leading_outside_are_refused_and_loops_end(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "manifests" / "ok.yaml", MULTI)
    write(tmp_path / "home" / "credentials.yaml", "password: hunter2\n")
    (repo / "manifests" / "creds.yaml").symlink_to(tmp_path / "home" / "credentials.yaml")
    (repo / "manifests" / "zero.yaml").symlink_to("/dev/zero")
    (repo / "manifests" / "again").symlink_to(repo / "manifests")  # a loop back to its own folder
    (repo / "manifests" / "same.yaml").symlink_to("ok.yaml")  # the same file twice is read once
    result = run_cli("lint", "manifests", "--format", "json", cwd=repo, timeout=60)
    assert result.exit_code == 2
    # The links are refused one by one; what is inside the folder is still linted.
    assert result.stderr.startswith(
        "error: manifests/creds.yaml:1:1: a symbolic link leading outside manifests/ is not followed; "
        "name its target on the command line to lint it\n"
        "error: manifests/zero.yaml:1:1: a symbolic link leading outside manifests/ is not followed; "
        "name its target on the command line to lint it\n"
    )
    assert {f["location"]["file"] for f in lint_findings(result.stdout)} == {"manifests/ok.yaml"}
    assert "hunter2" not in result.stdout + result.stderr
    (repo / "manifests" / "creds.yaml").unlink()
    (repo / "manifests" / "zero.yaml").unlink()
    clean = run_cli("lint", "manifests", "--format", "json", cwd=repo, timeout=60)
    assert clean.exit_code in (0, 1), clean.stderr
    assert {f["location"]["file"] for f in lint_findings(clean.stdout)} == {"manifests/ok.yaml"}


def test_a_device_named_on_the_command_line_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    result = run_cli("lint", "zero.yaml", cwd=tmp_path, timeout=60)
    assert result.exit_code == 2
    assert result.stderr == "error: zero.yaml: not a regular file or folder; name YAML files or folders of them\n"


def test_stdin_is_linted_as_a_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "mlgitops.cli", "lint", "-", "--format", "json"],
        input=SEED_PAIRS["hpa-metrics"][0],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    findings = lint_findings(completed.stdout)
    assert completed.returncode == 1
    assert [f["location"]["file"] for f in findings if f["rule"] == "hpa-metrics"] == ["<stdin>"]


def test_a_kustomize_root_with_patches_is_built_before_linting(tmp_path: Path) -> None:
    kubectl()
    write(tmp_path / "app" / "hpa.yaml", SEED_PAIRS["hpa-metrics"][1])
    write(
        tmp_path / "app" / "kustomization.yaml",
        """\
resources: [hpa.yaml]
patches:
  - target: {kind: HorizontalPodAutoscaler, name: ml-hpa}
    patch: |
      - op: remove
        path: /spec/metrics
""",
    )
    result = run_in_process("lint", "app", "--format", "json", cwd=tmp_path)
    findings = lint_findings(result.stdout)
    metrics = [f for f in findings if f["rule"] == "hpa-metrics"]
    assert metrics
    # kustomize's origin annotations lead back to the file the HPA was written in (the patch removed
    # its metrics, so the finding points at the nearest field that is there), not the built stream.
    assert metrics[0]["location"]["file"] == "app/hpa.yaml"
    hpa_line = SEED_PAIRS["hpa-metrics"][1].splitlines().index("spec:") + 1
    assert metrics[0]["location"]["line"] in (1, hpa_line)
    assert "(built)" not in result.stdout
    # The annotation kustomize added for us is not part of the object the rules see.
    assert "config.kubernetes.io/origin" not in result.stdout


def test_a_kustomize_root_that_does_not_build_shows_kubectls_message(tmp_path: Path) -> None:
    kubectl()
    write(tmp_path / "app" / "hpa.yaml", SEED_PAIRS["hpa-metrics"][1])
    write(
        tmp_path / "app" / "kustomization.yaml",
        "resources: [hpa.yaml]\npatches:\n  - target: {kind: HorizontalPodAutoscaler, name: ml-hpa}\n"
        "    patch: |\n      - op: remove\n        path: /spec/nothing/here\n",
    )
    write(tmp_path / "other" / "hpa.yaml", SEED_PAIRS["hpa-metrics"][0])
    result = run_in_process("lint", "app", "other", cwd=tmp_path)
    assert result.exit_code == 2
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith("error: kubectl kustomize app failed: ")
    assert "nothing" in error  # kubectl's own words about the failing patch, not a fragment of its log
    assert error.rstrip()[-1] not in ">|"
    assert "hpa-metrics" in result.stdout  # the other folder is still linted


def test_a_file_named_with_a_trailing_slash_is_linted_like_the_file(tmp_path: Path) -> None:
    write(tmp_path / "pods.yaml", MULTI)
    plain = run_in_process("lint", "pods.yaml", "--format", "json", cwd=tmp_path)
    for spelling in ("pods.yaml/", "./pods.yaml//"):
        slashed = run_in_process("lint", spelling, "--format", "json", cwd=tmp_path)
        assert (slashed.exit_code, slashed.stdout) == (plain.exit_code, plain.stdout), slashed.stderr


def test_a_kustomization_linked_from_outside_the_folder_is_not_read(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "app" / "pods.yaml", MULTI)
    write(tmp_path / "home" / "kustomization.yaml", "namePrefix: p-\nresources:\n- https://deploy:s3cr3t@git.example.com/x\n")
    (repo / "app" / "kustomization.yaml").symlink_to(tmp_path / "home" / "kustomization.yaml")
    result = run_in_process("lint", "app", cwd=repo)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: app/kustomization.yaml:1:1: a symbolic link leading outside app/ is not followed; "
        "name its target on the command line to lint it\n"
    )
    assert "s3cr3t" not in result.stdout + result.stderr


def test_a_folder_that_cannot_be_searched_is_a_located_error_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    from typing import Any

    from mlgitops.inputs.collect import collect

    write(tmp_path / "app" / "pods.yaml", MULTI)
    (tmp_path / "app" / "locked").mkdir()
    locked = str(tmp_path / "app" / "locked")
    # CI runs as root, for whom chmod 000 locks nothing: refuse the folder as the kernel would.
    real_stat, real_scandir = os.stat, os.scandir

    def refused(path: Any) -> PermissionError:
        return PermissionError(13, "Permission denied", str(path))

    def stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        if os.path.abspath(path).startswith(locked + os.sep):
            raise refused(path)
        return real_stat(path, *args, **kwargs)

    def scandir(path: Any) -> Any:
        if os.path.abspath(path) == locked:
            raise refused(path)
        return real_scandir(path)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.chdir(tmp_path)
    found = collect(["app"])
    assert [error.one_line() for error in found.errors] == ["app/locked: cannot read this folder: Permission denied"]
    assert {manifest.file for manifest in found.manifests} == {"app/pods.yaml"}


@pytest.mark.skipif(not hasattr(os, "fsencode") or sys.platform != "linux", reason="file names of any bytes are a Linux habit")
def test_a_file_name_that_is_not_utf8_is_shown_escaped_in_every_format(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"\xff\xfe.yaml"), "w", encoding="utf-8") as stream:
        stream.write(MULTI)
    for arguments in (["app"], [os.fsdecode(os.path.join(b"app", b"\xff\xfe.yaml"))]):
        outputs = {
            form: run_in_process("lint", *arguments, "--format", form, cwd=tmp_path)
            for form in ("json", "sarif", "junit", "text")
        }
        assert {result.exit_code for result in outputs.values()} == {1}, {f: r.stderr for f, r in outputs.items()}
        assert {f["location"]["file"] for f in lint_findings(outputs["json"].stdout)} == {"app/\\xff\\xfe.yaml"}
        sarif = json.loads(outputs["sarif"].stdout)
        assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(".yaml")
        ElementTree.fromstring(outputs["junit"].stdout)  # well-formed
        assert "app/\\xff\\xfe.yaml:" in outputs["text"].stdout


def test_a_folder_named_twice_or_inside_another_argument_is_linted_once_without_a_false_error(tmp_path: Path) -> None:
    write(tmp_path / "app" / "pods.yaml", MULTI)
    write(tmp_path / "app" / "sub" / "more.yaml", MULTI.replace("name: ", "name: more-"))
    once = run_in_process("lint", "app", "--format", "json", cwd=tmp_path)
    assert once.exit_code == 1, once.stderr
    for arguments in (["app", "app/"], ["app", "app/sub"], ["app", "app/pods.yaml"]):
        result = run_in_process("lint", *arguments, "--format", "json", cwd=tmp_path)
        assert (result.exit_code, result.stdout) == (once.exit_code, once.stdout), result.stderr
        assert "nothing to lint" not in result.stderr
    (tmp_path / "empty").mkdir()  # a folder that really holds nothing still says so
    empty = run_in_process("lint", "app", "empty", cwd=tmp_path)
    assert empty.exit_code == 2
    assert "nothing to lint" in empty.stderr


def test_kubectl_errors_are_one_line_whether_klog_wrote_them_quoted_or_as_a_block() -> None:
    from mlgitops.inputs.kustomize_build import kubectl_message

    block = (
        'E1201 07:37:49.538948   20271 run.go:72] "command failed" err=<\n'
        "\taccumulating resources: accumulation err='accumulating resources from 'github.com/org/repo?ref=v1': "
        "failed to run '/usr/bin/git fetch --depth=1 https://github.com/org/repo v1': Could not resolve host: github.com\n"
        "\t: exit status 128\n"
        " >\n"
    )
    assert kubectl_message(block) == (
        "accumulating resources: accumulation err='accumulating resources from 'github.com/org/repo?ref=v1': "
        "failed to run '/usr/bin/git fetch --depth=1 https://github.com/org/repo v1': Could not resolve host: github.com "
        ": exit status 128"
    )
    quoted = 'E1201 run.go:72] "command failed" err="accumulating resources: \\"missing.yaml\\" not found"\n'
    assert kubectl_message(quoted) == 'accumulating resources: "missing.yaml" not found'
    assert kubectl_message("error: no kustomization file\n") == "no kustomization file"


def test_a_kustomization_reaching_beyond_its_folder_is_built_and_a_remote_one_refused(tmp_path: Path) -> None:
    kubectl()
    (tmp_path / ".git").mkdir()  # the repository root: bases inside it may be read
    write(tmp_path / "base" / "pods.yaml", MULTI)
    write(tmp_path / "base" / "kustomization.yaml", "resources:\n- pods.yaml\n")
    # Only a namespace over a base: nothing in this folder but the kustomization, so only a build shows what it holds.
    write(tmp_path / "overlays" / "prod" / "kustomization.yaml", "namespace: prod\nresources:\n- ../../base\n")
    overlay = run_cli("lint", "overlays/prod", "--format", "json", cwd=tmp_path, timeout=120)
    assert overlay.exit_code == 1, overlay.stderr
    assert {finding["object"]["namespace"] for finding in lint_findings(overlay.stdout)} == {"prod"}
    # `labels:` (kustomize's successor of commonLabels) changes every object: built, and its bad key found.
    write(tmp_path / "labelled" / "pods.yaml", MULTI)
    write(
        tmp_path / "labelled" / "kustomization.yaml",
        "resources:\n- pods.yaml\nlabels:\n- pairs: {Bad_Prefix.com/team: ml}\n  includeSelectors: true\n",
    )
    labelled = run_cli("lint", "labelled", "--format", "json", cwd=tmp_path, timeout=120)
    assert any("Bad_Prefix.com/team" in finding["message"] for finding in lint_findings(labelled.stdout)), labelled.stdout
    # A remote resource in a root with nothing else to build is refused too, at its entry.
    write(tmp_path / "remote" / "pods.yaml", MULTI)
    write(tmp_path / "remote" / "kustomization.yaml", "resources:\n  - pods.yaml\n  - github.com/org/repo?ref=v1\n")
    remote = run_cli("lint", "remote", cwd=tmp_path, timeout=120)
    assert remote.exit_code == 2
    assert remote.stderr.startswith("error: remote/kustomization.yaml:3:5: resources[1]: 'github.com/org/repo?ref=v1'")
