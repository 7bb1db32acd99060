"""The repository's .mlgitops.yaml: found from the working folder up to the git root; switches, severities, folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlgitops.errors import UserError
from mlgitops.policy import PolicyContext, evaluate, load_catalog, load_config
from tests.policy.linting import REPO, manifests_of, write
from tests.support import CliResult

TRAINER = """\
apiVersion: v1
kind: Pod
metadata: {name: train, namespace: ml}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
    - name: trainer
      image: ghcr.io/acme/train:2.0
      resources:
        requests: {cpu: "4", memory: 16Gi}
        limits: {memory: 16Gi}
"""


def _rules(config_text: str, folder: Path, manifest: str = TRAINER, environment: str | None = None) -> dict[str, str]:
    write(folder / ".mlgitops.yaml", config_text)
    catalog = load_catalog(config=load_config(folder))
    found = evaluate(manifests_of(manifest), catalog, PolicyContext(environment=environment))
    return {f.rule: f.severity for f in found}


def test_no_config_file_means_the_catalog_as_shipped(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config = load_config(tmp_path / "deep" / "er")
    assert (config.file, config.rules, config.policy_folders) == (None, {}, [])


def test_the_config_is_found_from_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".mlgitops.yaml", "rules:\n  network-policy:\n    enabled: false\n")
    (tmp_path / "rendered" / "prod").mkdir(parents=True)
    config = load_config(tmp_path / "rendered" / "prod")
    assert config.file == ".mlgitops.yaml"
    assert config.rules["network-policy"].enabled is False


def test_the_search_stops_at_the_git_root(tmp_path: Path) -> None:
    write(tmp_path / ".mlgitops.yaml", "rules:\n  network-policy:\n    enabled: false\n")
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "manifests").mkdir()
    assert load_config(tmp_path / "repo" / "manifests").file is None


def test_rules_are_switched_off_and_their_severity_changed(tmp_path: Path) -> None:
    assert _rules("", tmp_path) == {"network-policy": "warning"}
    assert _rules("rules:\n  network-policy:\n    enabled: false\n", tmp_path) == {}
    assert _rules("rules:\n  network-policy:\n    severity: error\n", tmp_path) == {"network-policy": "error"}


def test_a_parameter_can_require_a_cpu_limit(tmp_path: Path) -> None:
    config = "rules:\n  network-policy: {enabled: false}\n  resources-limits:\n    params: {requireCpuLimit: true}\n"
    assert _rules(config, tmp_path) == {"resources-limits": "error"}


def test_a_rule_can_be_limited_to_some_environments(tmp_path: Path) -> None:
    config = "rules:\n  network-policy:\n    environments: [prod]\n"
    assert _rules(config, tmp_path, environment="dev") == {}
    assert _rules(config, tmp_path, environment="prod") == {"network-policy": "warning", "image-digest": "error"}


def test_the_data_path_words_of_emptydir_data_are_configurable(tmp_path: Path) -> None:
    scratch = (
        TRAINER.replace(
            "      resources:\n",
            "      volumeMounts: [{name: w, mountPath: /weights}]\n      resources:\n",
        )
        + "  volumes: [{name: w, emptyDir: {}}]\n"
    )
    base = "rules:\n  network-policy: {enabled: false}\n"
    assert _rules(base, tmp_path, scratch) == {}
    extended = base + "  emptydir-data:\n    params: {pathWords: [weights]}\n"
    assert _rules(extended, tmp_path, scratch) == {"emptydir-data": "error"}


def test_policy_folders_are_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = (REPO / "policies" / "serving-probes.yaml").read_text()
    write(tmp_path / "platform" / "policies" / "team-probes.yaml", shipped.replace("id: serving-probes", "id: team-probes"))
    write(tmp_path / "platform" / ".mlgitops.yaml", "policies: [policies]\n")
    monkeypatch.chdir(tmp_path)
    catalog = load_catalog(config=load_config(tmp_path / "platform"))
    assert catalog.policies["team-probes"].file == "platform/policies/team-probes.yaml"


def test_a_rule_the_catalog_does_not_have_is_a_located_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".mlgitops.yaml", "rules:\n  image-tag: {severity: warning}\n  imagetag: {enabled: false}\n")
    with pytest.raises(UserError) as raised:
        load_catalog(config=load_config(tmp_path))
    assert raised.value.one_line() == ".mlgitops.yaml:3:3: rules.imagetag: no such policy (see `mlgitops policy list`)"


def test_config_mistakes_stop_lint_with_exit_2(tmp_path: Path, mlgitops: Callable[..., CliResult]) -> None:
    write(tmp_path / "team.yaml", "rules:\n  image-tag:\n    severity: fatal\n")
    write(tmp_path / "m.yaml", TRAINER)
    result = mlgitops("lint", "m.yaml", "--config", "team.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: team.yaml:3:15: rules.image-tag.severity: 'fatal' is not allowed: input should be 'error', 'warning' or 'info'\n"
    )
    assert "Traceback" not in result.stderr
