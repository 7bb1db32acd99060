"""A mistake in a policy file or in `.mlgitops.yaml` is one located line (file:line:column: field: what to do).

Policy files and the configuration are read into typed models (policy/policy_file.py, policy/config.py);
their errors go through the same wording as environment files' (load/validation.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlgitops.errors import UserError
from mlgitops.policy import load_catalog, load_config
from tests.policy.linting import write
from tests.support import CliResult

POLICY = """\
title: Workloads carry a team label
severity: warning
tags: [ownership]
rationale: On-call needs to know whom to page.
fix: Add metadata.labels.team.
match:
  kinds: [Deployment]
schema:
  type: object
  required: [metadata]
examples:
  pass:
    - |
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: a, labels: {team: ml}}
  fail:
    - manifest: |
        apiVersion: apps/v1
        kind: Deployment
      at: [1, 1]
"""
SCHEMA = "schema:\n  type: object\n  required: [metadata]\n"
F = "mine/team-label.yaml"
PLACEHOLDERS = "{detail}, {kind}, {name}, {target}, {text}, {value}"


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # messages show paths relative to the working folder


def _policy_errors(tmp_path: Path, text: str, name: str = "team-label") -> list[str]:
    write(tmp_path / "mine" / f"{name}.yaml", text)
    with pytest.raises(UserError) as raised:
        load_catalog([tmp_path / "mine"])
    return raised.value.one_line().splitlines()


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        pytest.param(
            "severity: warning",
            "sevrity: warning",
            f"{F}:2:1: sevrity: unknown field 'sevrity' (did you mean 'severity'?)",
            id="unknown-key",
        ),
        pytest.param(
            "tags: [ownership]",
            "tags: ownership",
            f"{F}:3:7: tags: input should be a valid list (got 'ownership')",
            id="wrong-type",
        ),
        pytest.param(
            "title: Workloads carry a team label",
            "title: 42",
            f"{F}:1:8: title: input should be a valid string (got 42)",
            id="number-for-text",
        ),
        pytest.param(
            "severity: warning",
            "severity: fatal",
            f"{F}:2:11: severity: 'fatal' is not allowed: input should be 'error', 'warning' or 'info'",
            id="bad-severity",
        ),
        pytest.param(
            "title:",
            "id: team-labels\ntitle:",
            f"{F}:1:5: id: 'team-labels' is not this file's name 'team-label': a rule's id is its file's name; rename the file "
            "to team-labels.yaml, or remove id:",
            id="id-not-the-file-name",
        ),
        pytest.param(
            SCHEMA,
            "check: gpu-tolerations\n",
            f"{F}:8:8: check: no built-in check 'gpu-tolerations' (have: ambiguous-yaml-value, api-validation, ",
            id="unknown-check",
        ),
        pytest.param(
            "schema:\n",
            "check: gpu-toleration\nschema:\n",
            f"{F}:8:8: check: give schema: or check:, not both",
            id="schema-and-check",
        ),
        pytest.param(
            SCHEMA,
            "",
            f"{F}:1:1: check: give schema: (a JSON Schema its target must satisfy) or check: (a built-in check)",
            id="neither-schema-nor-check",
        ),
        pytest.param(
            "tags: [ownership]",
            "tags: [ownership]\nsecuritySeverity: 7.5",
            f"{F}:4:19: securitySeverity: only rules tagged security have a security severity: add security to tags, or "
            "remove this",
            id="security-severity-without-the-tag",
        ),
        pytest.param(
            "match:",
            "target: containers\nmatch:",
            f"{F}:6:9: target: 'containers' is not allowed: input should be 'object', 'pod', 'container', 'initContainer' or "
            "'anyContainer'",
            id="unknown-target",
        ),
        pytest.param(
            "kinds: [Deployment]",
            "kind: [Deployment]",
            f"{F}:7:3: match.kind: unknown field 'kind' (did you mean 'kinds'?)",
            id="nested-typo",
        ),
        pytest.param(
            "match:",
            "message: '{nme}'\nmatch:",
            f"{F}:6:10: message: '{{nme}}' is not a placeholder; use only {PLACEHOLDERS}",
            id="message-placeholder",
        ),
        pytest.param(
            "at: [1, 1]",
            "at: [1]",
            f"{F}:21:11: examples.fail[0].at: list should have at least 2 items after validation, not 1 (got a list)",
            id="example-position",
        ),
    ],
)
def test_a_mistake_in_a_policy_file_is_one_located_line(tmp_path: Path, replace: str, by: str, expected: str) -> None:
    assert replace in POLICY
    errors = _policy_errors(tmp_path, POLICY.replace(replace, by))
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected)


def test_an_examples_node_pools_are_checked_like_the_rest(tmp_path: Path) -> None:
    pools = "      at: [1, 1]\n      nodePools:\n        - labels: {a: b}\n          allocatable: {cpu: lots}\n"
    assert _policy_errors(tmp_path, POLICY.replace("      at: [1, 1]\n", pools)) == [
        f"{F}:23:11: examples.fail[0].nodePools[0].name: missing required field 'name'",
        f"{F}:24:24: examples.fail[0].nodePools[0].allocatable: cpu: 'lots' is not a Kubernetes quantity (a number with an "
        "optional suffix such as m, k, M, G, Ki, Mi, Gi or Ti, e.g. '500m' or '32Gi')",
    ]


def test_the_file_name_is_the_rule_id(tmp_path: Path) -> None:
    assert _policy_errors(tmp_path, POLICY, "Team_Label") == [
        "mine/Team_Label.yaml:1:1: the file's name is the rule's id: 'Team_Label' is not lowercase words of letters and digits "
        "joined by '-' (like gpu-toleration); rename the file"
    ]
    write(tmp_path / "ok" / "team-label.yaml", "id: team-label\n" + POLICY)
    assert load_catalog([tmp_path / "ok"]).policies["team-label"].file.endswith("ok/team-label.yaml")


def test_every_mistake_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = POLICY.replace("title: Workloads carry a team label\n", "").replace("severity: warning", "severity: fatal")
    assert _policy_errors(tmp_path, text) == [
        f"{F}:1:1: title: missing required field 'title'",
        f"{F}:1:11: severity: 'fatal' is not allowed: input should be 'error', 'warning' or 'info'",
    ]


def test_a_broken_policy_stops_policy_test_with_exit_2_and_no_traceback(
    tmp_path: Path, mlgitops: Callable[..., CliResult]
) -> None:
    write(tmp_path / "team" / "team-label.yaml", POLICY.replace("severity: warning", "severity: fatal"))
    result = mlgitops("policy", "test", "team")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: team/team-label.yaml:2:11: severity: 'fatal' is not allowed: input should be 'error', 'warning' or 'info'\n"
    )


def _config_errors(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    write(tmp_path / ".mlgitops.yaml", text)
    with pytest.raises(UserError) as raised:
        load_catalog(config=load_config(tmp_path))
    return raised.value.one_line().splitlines()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "rule:\n  image-tag: {enabled: false}\n",
            ".mlgitops.yaml:1:1: rule: unknown field 'rule' (did you mean 'rules'?)",
            id="unknown-key",
        ),
        pytest.param(
            "rules:\n  image-tag: {severty: error}\n",
            ".mlgitops.yaml:2:15: rules.image-tag.severty: unknown field 'severty' (did you mean 'severity'?)",
            id="unknown-rule-setting",
        ),
        pytest.param(
            "rules:\n  image-tag: {enabled: 'yes'}\n",
            ".mlgitops.yaml:2:24: rules.image-tag.enabled: input should be a valid boolean (got 'yes')",
            id="wrong-type",
        ),
        pytest.param(
            "rules:\n  image-tag: {severity: fatal}\n",
            ".mlgitops.yaml:2:25: rules.image-tag.severity: 'fatal' is not allowed: input should be 'error', 'warning' or 'info'",
            id="bad-severity",
        ),
        pytest.param(
            "policies: ops\n", ".mlgitops.yaml:1:11: policies: input should be a valid list (got 'ops')", id="folder-not-a-list"
        ),
        pytest.param(
            "promote: {fields: []}\n",
            ".mlgitops.yaml:1:19: promote.fields: list should have at least 1 item after validation, not 0 (got a list)",
            id="no-promoted-field",
        ),
        pytest.param(
            "rules: {}\n---\nrules: {}\n",
            ".mlgitops.yaml:1:1: a policy configuration holds one YAML document; found several ('---')",
            id="two-documents",
        ),
        pytest.param("- rules\n", ".mlgitops.yaml:1:1: input should be a mapping of fields (got a list)", id="not-a-mapping"),
        pytest.param(
            "rules:\n  imagetag: {enabled: false}\n",
            ".mlgitops.yaml:2:3: rules.imagetag: no such policy (see `mlgitops policy list`)",
            id="unknown-rule",
        ),
    ],
)
def test_a_mistake_in_the_configuration_is_one_located_line(tmp_path: Path, text: str, expected: str) -> None:
    assert _config_errors(tmp_path, text) == [expected]


def test_a_severity_from_the_configuration_is_the_enum(tmp_path: Path) -> None:
    from mlgitops.policy import Severity

    (tmp_path / ".git").mkdir()
    write(tmp_path / ".mlgitops.yaml", "rules:\n  network-policy: {severity: error}\n")
    catalog = load_catalog(config=load_config(tmp_path))
    assert catalog.policies["network-policy"].severity is Severity.ERROR
