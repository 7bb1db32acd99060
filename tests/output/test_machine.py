"""Machine-readable outputs carry their format's version and parse as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from mlgitops import __version__
from mlgitops.output.machine import SCHEMA_VERSION
from mlgitops.policy import load_catalog
from tests.support import REPO, run_cli


def _envelope(text: str, kind: str) -> dict[str, object]:
    document = json.loads(text)
    assert (document["kind"], document["schemaVersion"], document["mlgitopsVersion"]) == (kind, SCHEMA_VERSION, __version__)
    return document  # type: ignore[no-any-return]


def test_policy_list_json_lists_every_rule() -> None:
    result = run_cli("policy", "list", "-o", "json", cwd=REPO)
    assert result.exit_code == 0, result.stderr
    rules = _envelope(result.stdout, "RuleList")["rules"]
    catalog = load_catalog()
    assert [rule["id"] for rule in rules] == sorted(catalog.policies)  # type: ignore[union-attr,index]
    first = rules[0]  # type: ignore[index]
    assert set(first) == {"id", "severity", "title", "enabled", "tags", "file"}
    assert first["severity"] in {"error", "warning", "info"}


def test_explain_json_has_the_rationale_fix_and_examples() -> None:
    result = run_cli("explain", "gpu-limits", "-o", "json", cwd=REPO)
    assert result.exit_code == 0, result.stderr
    rule = _envelope(result.stdout, "Rule")["rule"]
    policy = load_catalog().policies["gpu-limits"]
    assert rule["rationale"] == policy.rationale  # type: ignore[index]
    assert rule["fix"] == policy.fix  # type: ignore[index]
    assert rule["examples"]["fail"] == [example.manifest for example in policy.examples_fail]  # type: ignore[index]


def test_explain_json_of_an_unknown_rule_is_a_usage_error() -> None:
    result = run_cli("explain", "no-such-rule", "-o", "json", cwd=REPO)
    assert result.exit_code == 2
    assert result.stdout == ""


def test_lint_json_is_a_versioned_report(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\ndata: {k: yes}\n")
    result = run_cli("lint", "cm.yaml", "-o", "json", cwd=tmp_path)
    document = _envelope(result.stdout, "LintReport")
    assert "ambiguous-yaml-value" in [finding["rule"] for finding in document["findings"]]  # type: ignore[union-attr,index]


def test_diff_json_is_a_versioned_review() -> None:
    from mlgitops.review.summary import Review, as_json

    review = Review(base="0" * 40, environments=[])
    document = _envelope(as_json(review), "Review")
    assert document["environments"] == []
