"""A finding on a rendered object names the environment field behind it in every format `lint` writes.

The example fleet is copied into a git repository and two rendered files are edited as a bad hand edit (or a
stale render) would: prod's resnet-serve loses its image digest (a value written in environments/prod.yaml) and
chat-llm's pod runs as root (its `security` is inherited from environments/base.yaml). Each format must point
reviewers at the environment file: text (`from` line), JSON (`source`), GitHub annotations (`file=`), JUnit,
SARIF (primary location, rendered file related), with the fix in environment-file terms.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mlgitops.policy import load_catalog
from tests.support import REPO, lint_findings, run_cli

DEPLOYMENT = "rendered/prod/deployment-resnet-serve.yaml"
LEADER_WORKER_SET = "rendered/prod/leaderworkerset-chat-llm.yaml"
IMAGE = "ghcr.io/acme/resnet-serve:1.4.2"


def _position(file: Path, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """1-based line and column where ``needle`` starts (its ``occurrence``-th match)."""
    lines = file.read_text().splitlines()
    found = [(number, text.index(needle) + 1) for number, text in enumerate(lines, 1) if needle in text]
    return found[occurrence]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sources")
    shutil.copytree(REPO / "environments", root / "environments")
    shutil.copytree(REPO / "rendered", root / "rendered")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    deployment = root / DEPLOYMENT
    text = deployment.read_text()
    pinned = next(word for word in text.split() if word.startswith(IMAGE + "@sha256:"))
    deployment.write_text(text.replace(pinned, IMAGE))
    lws = root / LEADER_WORKER_SET
    lws.write_text(lws.read_text().replace("runAsUser: 1000", "runAsUser: 0", 1))
    return root


def _lint(fleet: Path, output_format: str) -> str:
    result = run_cli("lint", "rendered", "--kubernetes-version", "1.34", "-o", output_format, cwd=fleet)
    assert result.exit_code == 1, result.stderr
    return result.stdout


def _expected(fleet: Path) -> dict[str, tuple[str, int, int]]:
    """rule → the environment file, line and column of the value that produced the offending field."""
    image_line, image_column = _position(fleet / "environments/prod.yaml", f"image: {IMAGE}@sha256:")
    # chat-llm's `security:` mapping in base.yaml (prod overrides other fields of chat-llm, not this one).
    base = (fleet / "environments/base.yaml").read_text().splitlines()
    chat = next(number for number, text in enumerate(base, 1) if text.strip() == "- name: chat-llm")
    security = next(number for number in range(chat, len(base)) if base[number - 1].strip() == "security:")
    column = base[security].index(base[security].strip()) + 1
    return {
        "image-digest": ("environments/prod.yaml", image_line, image_column + len("image: ")),
        "security-non-root": ("environments/base.yaml", security + 1, column),
    }


def test_json_source_is_the_environment_field_and_the_fix_speaks_of_it(fleet: Path) -> None:
    findings: list[dict[str, Any]] = lint_findings(_lint(fleet, "json"))
    assert findings
    for finding in findings:
        assert finding["location"]["file"].startswith("rendered/")
        assert finding["source"] is not None, finding
        assert finding["source"]["file"].startswith("environments/"), finding
    catalog = load_catalog()
    for rule, (file, line, column) in _expected(fleet).items():
        (finding,) = [f for f in findings if f["rule"] == rule]
        assert (finding["source"]["file"], finding["source"]["line"], finding["source"]["column"]) == (file, line, column)
        assert finding["fix"] == catalog.policies[rule].render_fix
        assert finding["fix"] != catalog.policies[rule].fix


def test_text_has_a_from_line_under_each_rendered_finding(fleet: Path) -> None:
    lines = _lint(fleet, "text").splitlines()
    for rule, (file, line, column) in _expected(fleet).items():
        (index,) = [i for i, text in enumerate(lines) if f" {rule}: " in text]
        assert lines[index].startswith("rendered/prod/")
        assert lines[index + 1] == f"  from {file}:{line}:{column}"


def test_github_annotations_land_on_the_environment_files(fleet: Path) -> None:
    annotations = _lint(fleet, "github").splitlines()
    assert annotations
    assert all(line.split(" ", 1)[1].startswith("file=environments/") for line in annotations)
    for rule, (file, line, column) in _expected(fleet).items():
        (annotation,) = [a for a in annotations if f"title={rule}::" in a]
        assert annotation.startswith(f"::error file={file},line={line},col={column},title={rule}::")
        assert "(rendered at rendered/prod/" in annotation


def test_junit_names_each_case_by_the_environment_field(fleet: Path) -> None:
    report = _lint(fleet, "junit")
    for rule, (file, line, column) in _expected(fleet).items():
        assert f'classname="{rule}" name="{file}:{line}:{column} ' in report
    assert f"(rendered at {DEPLOYMENT}:" in report


def test_sarif_primary_location_is_the_field_and_the_rendered_file_is_related(fleet: Path) -> None:
    results = json.loads(_lint(fleet, "sarif"))["runs"][0]["results"]
    for rule, (file, line, column) in _expected(fleet).items():
        (result,) = [r for r in results if r["ruleId"] == rule]
        primary = result["locations"][0]["physicalLocation"]
        assert primary["artifactLocation"]["uri"] == file
        assert (primary["region"]["startLine"], primary["region"]["startColumn"]) == (line, column)
        (related,) = result["relatedLocations"]
        assert related["physicalLocation"]["artifactLocation"]["uri"].startswith("rendered/prod/")


def test_render_reports_the_same_field_as_lint(fleet: Path, tmp_path: Path) -> None:
    """One mapping: the environment edited so render finds the same problem points at the same line lint named."""
    shutil.copytree(fleet / "environments", tmp_path / "environments")
    prod = tmp_path / "environments/prod.yaml"
    text = prod.read_text()
    pinned = next(word for word in text.split() if word.startswith(IMAGE + "@sha256:"))
    prod.write_text(text.replace(pinned, IMAGE))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = run_cli("render", "--check", cwd=tmp_path)
    file, line, column = _expected(fleet)["image-digest"]
    assert f"{file}:{line}:{column}: error image-digest:" in result.stdout + result.stderr
