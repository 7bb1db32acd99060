"""SARIF for GitHub code scanning: every property code scanning relies on, from any working directory.

Checked against the SARIF 2.1.0 schema (vendored in tests/upstream/schemas) and GitHub's documented requirements:
repository-relative URIs with %SRCROOT%, no invented URI for stdin, rule help (text, Markdown, helpUri),
tags and security-severity, partialFingerprints that survive moved lines, invocations with the exit
status, and rendered objects reported at their environment-file line with the rendered file related.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mlgitops import HOME, __version__
from mlgitops.output import inert
from tests.support import REPO, run_in_process, sarif_schema, write

DEPLOYMENT = "rendered/prod/deployment-resnet-serve.yaml"


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository whose fleet lives in `platform/`, with a privileged container added to one rendered file."""
    fleet = tmp_path / "platform"
    shutil.copytree(REPO / "environments", fleet / "environments")
    shutil.copytree(REPO / "rendered", fleet / "rendered")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    deployment = fleet / DEPLOYMENT
    text = deployment.read_text()
    deployment.write_text(
        text.replace("allowPrivilegeEscalation: false\n", "allowPrivilegeEscalation: false\n          privileged: true\n", 1)
    )
    return tmp_path


def _sarif(cwd: Path, *args: str, expect: int = 1) -> dict[str, Any]:
    result = run_in_process("lint", *args, "-o", "sarif", cwd=cwd)
    assert result.exit_code == expect, result.stderr
    log: dict[str, Any] = json.loads(result.stdout)
    return log


def _validate(log: dict[str, Any]) -> None:
    schema = sarif_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [error.message for error in validator.iter_errors(log)] == []


def _expected_source() -> tuple[str, int, int]:
    """The environment field behind the container made privileged: the first with allowPrivilegeEscalation, prod's
    init container fetch-weights (its item, as the environment sets no `security` of its own there)."""
    rendered = (REPO / DEPLOYMENT).read_text()
    first = rendered.index("allowPrivilegeEscalation: false")
    assert rendered.rindex("name: ", 0, first) == rendered.rindex("name: fetch-weights", 0, first)
    lines = (REPO / "environments" / "prod.yaml").read_text().splitlines()
    (line,) = [number for number, text in enumerate(lines, 1) if text.strip() == "- name: fetch-weights"]
    return "prod.yaml", line, lines[line - 1].index("name") + 1


def test_the_log_is_valid_sarif_and_the_same_from_any_working_directory(repository: Path) -> None:
    from_root = _sarif(repository, "platform/rendered")
    from_fleet = _sarif(repository / "platform", "rendered")
    from_deep = _sarif(repository / "platform" / "rendered", "prod", "staging", "dev", "argocd", "flux")
    _validate(from_root)
    results = from_root["runs"][0]["results"]
    assert results
    assert from_fleet["runs"][0]["results"] == results
    assert sorted(json.dumps(r, sort_keys=True) for r in from_deep["runs"][0]["results"]) == sorted(
        json.dumps(r, sort_keys=True) for r in results
    )
    for result in results:
        for location in [*result["locations"], *result.get("relatedLocations", [])]:
            artifact = location["physicalLocation"]["artifactLocation"]
            assert artifact["uriBaseId"] == "%SRCROOT%"
            assert artifact["uri"].startswith("platform/")
            assert not artifact["uri"].startswith(("/", "file:", ".."))


def test_a_rendered_object_is_reported_at_its_environment_file_line(repository: Path) -> None:
    (result,) = [r for r in _sarif(repository, "platform/rendered")["runs"][0]["results"] if r["ruleId"] == "security-privileged"]
    name, line, column = _expected_source()
    primary = result["locations"][0]["physicalLocation"]
    assert primary["artifactLocation"]["uri"] == f"platform/environments/{name}"
    assert (primary["region"]["startLine"], primary["region"]["startColumn"]) == (line, column)
    (related,) = result["relatedLocations"]
    assert related["id"] == 1
    assert related["physicalLocation"]["artifactLocation"]["uri"] == f"platform/{DEPLOYMENT}"
    rendered_line = (repository / "platform" / DEPLOYMENT).read_text().splitlines().index("          privileged: true") + 1
    assert related["physicalLocation"]["region"]["startLine"] == rendered_line
    # The message links to the related location, with its own brackets escaped.
    assert result["message"]["text"].endswith(f"(rendered at [platform/{DEPLOYMENT}:{rendered_line}](1))")
    assert "\\[Deployment ml-prod/resnet-serve\\]" in result["message"]["text"]


def test_rules_carry_help_tags_and_security_severity() -> None:
    from mlgitops.policy import load_catalog

    catalog = load_catalog()
    log = _sarif(REPO, "rendered", expect=0)
    driver = log["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"], driver["informationUri"]) == ("mlgitops", __version__, HOME)
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(rules) == set(catalog.policies)
    for rule_id, rule in rules.items():
        policy = catalog.policies[rule_id]
        # Policies are data (a repository may add its own): their text is inert in SARIF and Markdown.
        assert rule["shortDescription"]["text"] == inert.sarif_text(policy.title)
        assert rule["fullDescription"]["text"] == inert.sarif_text(policy.rationale)
        assert inert.sarif_text(policy.fix) in rule["help"]["text"]
        assert f"**Fix:** {inert.markdown_text(policy.fix)}" in rule["help"]["markdown"]
        assert "```yaml" in rule["help"]["markdown"]
        # This checkout is an editable install: no published page documents exactly this code (see
        # tests/test_installation.py for the links a release or a git install gets).
        assert "helpUri" not in rule
        assert rule["name"] != rule_id
        assert rule["name"][0].isupper()
        assert "-" not in rule["name"]
        assert (REPO / "policies" / f"{rule_id}.yaml").is_file()
        tags = rule["properties"]["tags"]
        assert set(policy.tags) <= set(tags)
        assert len(policy.tags) >= 1
        if "security" in tags:
            score = float(rule["properties"]["security-severity"])
            assert 0.0 < score <= 10.0
        else:
            assert "security-severity" not in rule["properties"]
    security = sorted(rule for rule, entry in rules.items() if "security" in entry["properties"]["tags"])
    assert {"security-privileged", "security-host-access", "security-non-root", "plaintext-secret"} <= set(security)
    assert float(rules["security-privileged"]["properties"]["security-severity"]) >= 9.0


def test_fingerprints_survive_lines_moving(repository: Path) -> None:
    before = _sarif(repository, "platform/rendered")["runs"][0]["results"]
    for path in (repository / "platform" / DEPLOYMENT, repository / "platform" / "environments" / "prod.yaml"):
        header, _, body = path.read_text().partition("\n")  # a generated file's header stays its first line
        path.write_text(f"{header}\n# a comment that moves every line below it\n\n{body}")
    after = _sarif(repository, "platform/rendered")["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]

    def lines(results: list[dict[str, Any]]) -> list[int]:
        return [
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
            for r in results
            if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "platform/environments/prod.yaml"
        ]

    assert lines(before)
    assert lines(after) == [line + 2 for line in lines(before)]
    assert all(r["partialFingerprints"]["mlgitops/v1"] for r in after)
    assert len({r["partialFingerprints"]["mlgitops/v1"] for r in after}) == len(after)


def test_invocations_record_the_exit_status(repository: Path) -> None:
    failing = _sarif(repository, "platform/rendered")["runs"][0]["invocations"]
    assert failing == [{"executionSuccessful": True, "exitCode": 1}]
    clean = _sarif(REPO, "rendered", expect=0)["runs"][0]["invocations"]
    assert clean == [{"executionSuccessful": True, "exitCode": 0}]
    write(repository / "broken" / "bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: [unclosed\n")
    result = run_in_process("lint", "broken", "-o", "sarif", cwd=repository)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: broken/bad.yaml:")
    log = json.loads(result.stdout)
    _validate(log)
    (invocation,) = log["runs"][0]["invocations"]
    assert (invocation["executionSuccessful"], invocation["exitCode"]) == (False, 2)
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "broken/bad.yaml",
        "uriBaseId": "%SRCROOT%",
    }


def test_stdin_gets_no_invented_uri_and_a_file_outside_the_repository_an_absolute_one(
    repository: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    manifest = (REPO / "tests" / "manifests" / "multi_document" / "serving.yaml").read_text()
    done = subprocess.run(
        [sys.executable, "-m", "mlgitops.cli", "lint", "-", "-o", "sarif"],
        input=manifest,
        cwd=repository,
        capture_output=True,
        text=True,
        check=False,
    )
    log = json.loads(done.stdout)
    _validate(log)
    results = log["runs"][0]["results"]
    assert results
    for result in results:
        (location,) = result["locations"]
        assert "physicalLocation" not in location
        assert location["logicalLocations"][0]["kind"] == "object"
        assert "<stdin>" not in json.dumps(result)
    outside = tmp_path_factory.mktemp("elsewhere") / "serving.yaml"
    outside.write_text(manifest)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in _sarif(repository, str(outside))["runs"][0]["results"]
    }
    assert uris == {outside.as_uri()}


def test_a_repositorys_own_policy_text_is_inert_in_rule_help() -> None:
    from mlgitops.output.sarif import RunFacts, sarif_log
    from mlgitops.policy.model import Example, Policy
    from mlgitops.policy.severity import Severity

    hostile = "see [docs](https://evil.example) <img src=x onerror=alert(1)> @octocat\n::error::forged **loud**"
    policy = Policy(
        id="team-rule",
        title=hostile,
        severity=Severity.WARNING,
        rationale=hostile,
        fix=hostile,
        file="ops/policies/team-rule.yaml",
        examples_fail=[Example(manifest="kind: Pod\n```\n[x](https://evil.example)\n")],
        examples_pass=[Example(manifest="kind: Pod\n")],
        tags=("security",),
    )
    log = json.loads(sarif_log([], {"team-rule": policy}, RunFacts("/repo", "/repo")))
    (rule,) = log["runs"][0]["tool"]["driver"]["rules"]
    markdown = rule["help"]["markdown"]
    assert "](https://evil.example)" not in markdown.replace("```\n[x](https://evil.example)", "")
    assert "<img" not in markdown
    assert "@octocat" not in markdown
    assert "\n::error::" not in json.dumps(rule)
    # The example keeps its own text, in a fence that its ``` line cannot close.
    assert "````yaml" in markdown
    assert "helpUri" not in rule  # a repository's own rule has no page in this project's repository
    assert rule["properties"]["security-severity"] == "5.0"  # tagged security without a score: by severity
