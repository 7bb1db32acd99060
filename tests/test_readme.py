"""The documentation's examples are what the tools accept, and its install and CI sections are what `init` writes.

The documentation is README.md and the pages of docs/ (tests/support.py `documentation()`); the README itself keeps
the install and the two set-up commands.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mlgitops import HOME, __version__
from mlgitops.output.installation import released
from mlgitops.scaffold.parts import scaffold_files
from tests.support import REPO, documentation, documentation_pages

README = (REPO / "README.md").read_text(encoding="utf-8")
DOCUMENTATION = documentation()
_BLOCK = re.compile(r"^( *)```yaml\n(.*?)^\1```", re.DOTALL | re.MULTILINE)


class _EditorLoader(yaml.SafeLoader):
    """Reads an example as an editor's (and GitHub's) YAML 1.2 reader does: `until: 2027-06-30` is a string,
    not a date, and `on:` a key, not a boolean; only true and false are booleans."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_EditorLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _load(text: str) -> Any:
    return yaml.load(text, Loader=_EditorLoader)  # a SafeLoader without timestamps


def _yaml_blocks() -> list[tuple[str, str]]:
    """Every YAML block of the documentation, by ``page:line``."""
    return [
        (f"{page}:{text[: match.start()].count(chr(10)) + 1}", textwrap.dedent(match.group(2)))
        for page, text in documentation_pages().items()
        for match in _BLOCK.finditer(text)
    ]


def _environment_validator() -> Any:
    schema = json.loads((REPO / "environments" / "environment.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _errors(validator: Any, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}" for error in validator.iter_errors(document)]


def _classify(text: str) -> str:
    """Which tool reads this example; every YAML block of the documentation must be one of these."""
    document = _load(text)
    if text.startswith("# Written by `mlgitops init`"):
        return "init"
    if text.startswith("# rendered/"):
        return "rendered"
    if isinstance(document, list) and document and isinstance(document[0], dict) and "uses" in document[0]:
        return "action"
    if isinstance(document, dict) and "jobs" in document:
        return "workflow"
    if isinstance(document, list):
        return "workloads"
    environment = set(_environment_validator().schema["properties"])
    if set(document) <= environment:
        return "environment"
    if set(document) == {"metadata"}:
        return "manifest"
    if set(document) <= {"policies", "gitops", "rules", "promote"}:
        return "config"
    return "workload-fields"


def _contains(whole: Any, part: Any) -> bool:
    """``part`` is ``whole`` with fields (and list items) left out."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(key in whole and _contains(whole[key], value) for key, value in part.items())
    if isinstance(part, list):
        return isinstance(whole, list) and all(any(_contains(item, wanted) for item in whole) for wanted in part)
    return bool(whole == part)


BLOCKS = _yaml_blocks()


def test_examples_are_read_as_an_editor_reads_them() -> None:
    assert _load("until: 2027-06-30\nport: 8080\non: push\nflag: yes\nset: true\n") == {
        "until": "2027-06-30",
        "port": 8080,
        "on": "push",
        "flag": "yes",
        "set": True,
    }


def test_an_excerpt_must_match_its_file() -> None:
    assert _contains({"a": [{"b": 1, "c": 2}], "d": 3}, {"a": [{"b": 1}]})
    assert not _contains({"a": [{"b": 1}]}, {"a": [{"b": 2}]})
    assert not _contains({"a": 1}, {"e": 1})


def test_the_documentation_has_examples_of_every_kind() -> None:
    kinds = {_classify(text) for _, text in BLOCKS}
    assert kinds == {
        "init",
        "action",
        "workflow",
        "workloads",
        "environment",
        "manifest",
        "config",
        "workload-fields",
        "rendered",
    }


@pytest.mark.parametrize(("line", "text"), BLOCKS, ids=[line for line, _ in BLOCKS])
def test_every_yaml_example_of_the_documentation_is_accepted(line: str, text: str, tmp_path: Path) -> None:
    kind = _classify(text)
    document = _load(text)
    validator = _environment_validator()
    # One workload: the schema of a `workloads:` item (any kind).
    item_validator = jsonschema.Draft202012Validator(
        {
            "$defs": validator.schema["$defs"],
            "properties": validator.schema["properties"],
            "$ref": "#/properties/workloads/anyOf/0/items",
        }
    )
    if kind == "environment":
        assert _errors(validator, document) == []
    elif kind == "workloads":
        for item in document:
            assert _errors(item_validator, item) == []
    elif kind == "workload-fields":
        assert _errors(item_validator, {"name": "example", "kind": "serving", **document}) == []
    elif kind == "config":
        from mlgitops.policy import load_config

        (tmp_path / ".mlgitops.yaml").write_text(text, encoding="utf-8")
        (tmp_path / "ops" / "policies").mkdir(parents=True)
        config = load_config(tmp_path)
        assert config is not None
    elif kind == "manifest":
        annotations = document["metadata"]["annotations"]
        assert all(key.startswith("mlgitops.io/waive.") and "until=" in value for key, value in annotations.items())
    elif kind == "init":
        assert text in scaffold_files(released()).values()
    elif kind == "rendered":
        # An excerpt of a committed rendered file: every field it shows is in that file, with that value.
        path = text.splitlines()[0].removeprefix("# ").split(" ")[0]
        assert _contains(_load((REPO / path).read_text(encoding="utf-8")), document), path
    elif kind == "workflow":
        # A workflow to copy: GitHub's workflow schema, as check-jsonschema vendors it (tests/test_workflows.py).
        from tests.test_workflows import _vendored_schema

        schema = _vendored_schema("github-workflows")
        checker = jsonschema.validators.validator_for(schema)(schema)
        assert _errors(checker, document) == []
    elif kind == "action":
        assert document == [{"uses": f"{HOME.removeprefix('https://github.com/')}@v{__version__}"}]


def test_the_documented_patch_delete_of_a_label_is_accepted_by_the_schema_and_by_render(tmp_path: Path) -> None:
    document = {"extends": "base.yaml", "labels": {"tier": {"$patch": "delete"}}}
    assert _errors(_environment_validator(), document) == []
    from tests.support import run_in_process, write

    write(tmp_path / "environments" / "base.yaml", "abstract: true\nkubernetesVersion: '1.32'\nlabels: {tier: gold, team: a}\n")
    write(tmp_path / "environments" / "dev.yaml", "extends: base.yaml\nnamespace: dev\nlabels:\n  tier: {$patch: delete}\n")
    result = run_in_process("template", "dev", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    # Free-form maps still refuse what render refuses.
    assert _errors(_environment_validator(), {"labels": {"tier": {"$patch": "keep"}}}) != []
    assert _errors(_environment_validator(), {"labels": {"tier": 3}}) != []


def test_install_and_ci_sections_match_what_init_writes() -> None:
    files = scaffold_files(released())
    for name in (".github/workflows/mlgitops.yml", ".pre-commit-config.yaml"):
        assert f"```yaml\n{files[name]}```" in DOCUMENTATION, f"the documentation's copy of {name} differs from what init writes"
    assert f"For mlgitops {__version__} installed from PyPI," in DOCUMENTATION
    assert "python3 -m pip install mlgitops\n" in README


def test_every_install_line_is_true_today_or_says_when_it_becomes_true() -> None:
    # Nothing is on PyPI yet: `pip install mlgitops` appears once, under "Once 0.1.0 is released"; the git
    # install pins a commit; the workflow examples show what init writes for a release (mlgitops==X.Y.Z).
    assert "What is released: nothing yet." in README
    installs = re.findall(r"pip install\s+(\S.*?)\s*(?:#.*)?$", DOCUMENTATION, re.MULTILINE)
    mlgitops = [line for line in installs if "mlgitops" in line and "-e" not in line.split()]
    assert mlgitops.count("mlgitops") == 1
    assert README.index("Once 0.1.0 is released on PyPI") < README.index("python3 -m pip install mlgitops\n")
    assert '"mlgitops @ git+https://github.com/mlgitops/mlgitops@<commit>"' in mlgitops
    others = [line for line in mlgitops if line not in ("mlgitops", '"mlgitops @ git+https://github.com/mlgitops/mlgitops@<commit>"')]
    assert others
    assert set(others) == {f'"{released().requirement}"'}


def test_the_readme_gives_exactly_two_set_up_commands_and_ci_runs_the_second() -> None:
    commands = re.findall(r"^(?:\{ command -v promtool .*\}; \} && )?python3 -m venv \.venv && .*$", README, re.MULTILINE)
    assert len(commands) == 2
    assert commands[0] == "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/mlgitops render"
    # The test command installs promtool (Debian's prometheus package) where it is missing: the alert-rule tests run it.
    assert commands[1].endswith("python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest")
    assert "apt-get install -y -q --no-install-recommends prometheus" in commands[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip("\n").splitlines()[-1] == commands[1]
