"""The shipped catalog is data: every rule the issue names, each file fitting the policy model, each tested by its examples."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from mlgitops.kube.schema import problems_of
from mlgitops.policy import Catalog, PolicyContext, evaluate, load_catalog
from mlgitops.policy.catalog import POLICY_SCHEMA, policy_files, shipped_catalog
from mlgitops.policy.checks import registered
from mlgitops.policy.policy_file import PolicyFile, policy_file_schema
from tests.policy.linting import REPO, manifests_of
from tests.support import CliResult

ISSUE_RULES = {
    "resources-requests",
    "resources-limits",
    "emptydir-data",
    "hpa-metrics",
    "gpu-limits",
    "gpu-toleration",
    "gpu-node-selection",
    "gpu-shm",
    "emptydir-size",
    "schedulable",
    "hpa-target",
    "hpa-replicas",
    "pvc-reference",
    "pvc-rwo-shared",
    "pvc-prune-protection",
    "image-tag",
    "image-digest",
    "serving-probes",
    "job-restart-policy",
    "job-gitops-ttl",
    "security-privileged",
    "security-non-root",
    "security-host-access",
    "plaintext-secret",
    "schema",
    "waiver-invalid",
}
POLICY_FILES = policy_files(REPO / "policies")
EDITOR_SCHEMA = REPO / "policies" / POLICY_SCHEMA


def test_the_catalog_ships_from_the_repositorys_policies_folder() -> None:
    assert shipped_catalog().resolve() == (REPO / "policies").resolve()


def test_every_rule_of_the_issue_is_in_the_catalog(catalog: Catalog) -> None:
    assert ISSUE_RULES - set(catalog.policies) == set()


def test_the_editor_schema_is_the_policy_file_models_own() -> None:
    regenerate = (
        "regenerate it: python -c 'import json; from mlgitops.policy.policy_file import policy_file_schema; "
        'open("policies/policy.schema.json", "w").write(json.dumps(policy_file_schema(), indent=2) + "\\n")\''
    )
    assert EDITOR_SCHEMA.read_text(encoding="utf-8") == json.dumps(policy_file_schema(), indent=2) + "\n", regenerate


@pytest.mark.parametrize("path", POLICY_FILES, ids=[p.stem for p in POLICY_FILES])
def test_each_policy_file_fits_the_model_and_the_editor_schema_and_is_named_by_its_rule(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert problems_of(Draft202012Validator(json.loads(EDITOR_SCHEMA.read_text(encoding="utf-8"))), document) == []
    written = PolicyFile.model_validate(document, context={"rule": path.stem})
    assert written.id is None, "the file's name is the rule's id: the shipped catalog does not repeat it"
    assert written.examples.pass_
    assert written.examples.fail
    assert (written.schema_ is None) != (written.check is None)
    if written.check is not None:
        assert written.check in registered()
    else:
        Draft202012Validator.check_schema(written.schema_)


def test_each_registered_check_has_exactly_one_policy_file_named_by_its_rule_and_each_check_is_registered() -> None:
    named: dict[str, list[str]] = {}
    for path in POLICY_FILES:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "check" in document:
            named.setdefault(document["check"], []).append(path.stem)
    assert {rule: [rule] for rule in registered()} == named


def test_one_check_serves_the_four_reference_rules() -> None:
    checks = registered()
    rules = ("secret-reference", "configmap-reference", "serviceaccount-reference", "pvc-reference")
    assert len({checks[rule] for rule in rules}) == 1


def test_every_example_of_the_shipped_catalog_behaves(mlgitops: Callable[..., CliResult], catalog: Catalog) -> None:
    result = mlgitops("policy", "test")
    assert result.exit_code == 0, result.stdout
    examples = sum(len(p.examples_pass) + len(p.examples_fail) for p in catalog.policies.values())
    assert result.stderr == f"{examples} examples passed, 0 failed\n"
    assert len(result.stdout.splitlines()) == examples


def test_a_clean_run_answers_valid_without_building_the_explaining_validator() -> None:
    # jsonschema's validator (slow, but it explains failures) is built only when a target fails.
    fresh = load_catalog()
    files = sorted((REPO / "rendered" / "dev").glob("*.yaml"))
    manifests = [m for path in files if path.name != "kustomization.yaml" for m in manifests_of(path.read_text(), path.name)]
    assert evaluate(manifests, fresh, PolicyContext(environment="dev")) == []
    schema_policies = [p for p in fresh.policies.values() if p.validator is not None]
    assert len(schema_policies) >= 10
    assert [p.id for p in schema_policies if p.validator._detailed is not None] == []
