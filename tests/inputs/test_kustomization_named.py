"""A kustomization file named alone on lint's command line (issue 28, item 8): one located line saying what to do."""

from __future__ import annotations

from pathlib import Path

from tests.support import run_cli, write

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n"


def _app(tmp_path: Path, kustomization: str, name: str = "kustomization.yaml") -> Path:
    write(tmp_path / "app" / "settings.yaml", CONFIG_MAP)
    return write(tmp_path / "app" / name, kustomization)


def test_a_kustomization_named_alone_says_what_it_is_and_to_lint_its_folder(tmp_path: Path) -> None:
    _app(tmp_path, "resources:\n  - settings.yaml\n")
    result = run_cli("lint", "app/kustomization.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert line == (
        "error: app/kustomization.yaml:1:1: kustomization.yaml is a kustomization (what kustomize builds), not "
        "Kubernetes objects: lint its folder instead (mlgitops lint app): lint reads the files it lists"
    )
    assert "found no" not in result.stderr
    assert "Traceback" not in result.stderr
    assert run_cli("lint", "app", cwd=tmp_path).exit_code == 0  # what the line says to do works


def test_one_that_transforms_what_it_lists_is_built_and_the_line_says_so(tmp_path: Path) -> None:
    _app(tmp_path, "resources:\n  - settings.yaml\ncommonLabels: {team: vision}\n", name="kustomization.yml")
    result = run_cli("lint", "kustomization.yml", cwd=tmp_path / "app")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: kustomization.yml:1:1: kustomization.yml is a kustomization")
    assert "(mlgitops lint .): lint builds it with kubectl kustomize" in result.stderr


def test_beside_other_files_it_is_skipped_as_in_a_folder(tmp_path: Path) -> None:
    _app(tmp_path, "resources:\n  - settings.yaml\n")
    result = run_cli("lint", "app/kustomization.yaml", "app/settings.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "kustomization" not in result.stderr


def test_a_broken_kustomization_named_alone_reports_where_it_breaks(tmp_path: Path) -> None:
    _app(tmp_path, "resources: [\n")
    result = run_cli("lint", "app/kustomization.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: app/kustomization.yaml:2:1: invalid YAML")
