"""Every action this repository, its composite action, the scaffold and the documentation (README.md, docs/) use runs on Node 24.

GitHub moves hosted runners from Node 20 to Node 24 in 2026; an action whose `runs.using` is `node20` stops
running there. The majors below are the first release of each action whose action.yml says `using: node24`
(read in each repository at its tag: actions/checkout v5.0.0, actions/setup-python v6.0.0,
actions/upload-artifact v6.0.0, actions/download-artifact v7.0.0, actions/github-script v8.0.0,
github/codeql-action v4 (upload-sarif/action.yml), peter-evans/create-pull-request v8.0.0).
pypa/gh-action-pypi-publish is a Docker action (`using: docker`): no Node at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import REPO, documentation_pages

FIRST_NODE24_MAJOR = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/upload-artifact": 6,
    "actions/download-artifact": 7,
    "actions/github-script": 8,
    "github/codeql-action/upload-sarif": 4,
    "peter-evans/create-pull-request": 8,
}
DOCKER_ACTIONS = {"pypa/gh-action-pypi-publish"}
USES = re.compile(r"uses:\s*(?P<action>[\w./-]+)@(?P<ref>[0-9a-f]{40}|[\w.-]+)(?:\s*#\s*v(?P<major>\d+)[\d.]*)?")


def _files() -> list[Path]:
    workflows = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    scaffold = REPO / "generator" / "scaffold"
    documentation = [REPO / page for page in documentation_pages()]
    return [*workflows, REPO / "action.yml", scaffold / "workflow.yml", scaffold / "pr-workflow.yml", *documentation]


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_node24_release(path: Path) -> None:
    seen = 0
    for match in USES.finditer(path.read_text(encoding="utf-8")):
        action = match["action"]
        if action.startswith(("mlgitops/", "./")):
            continue  # this project's own action: tagged with the project's releases
        seen += 1
        assert len(match["ref"]) == 40, f"{path.name}: {action}@{match['ref']} is not pinned to a commit"
        assert match["major"], f"{path.name}: {action} has no '# vX.Y.Z' comment saying which release the pin is"
        if action in DOCKER_ACTIONS:
            continue
        assert action in FIRST_NODE24_MAJOR, f"{path.name}: {action} is new here: add its first Node 24 major"
        assert int(match["major"]) >= FIRST_NODE24_MAJOR[action], f"{path.name}: {action} v{match['major']} runs on Node 20"
    assert seen or path.suffix == ".md"


def test_the_pin_table_has_teeth() -> None:
    old = "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"
    match = USES.search(old)
    assert match is not None
    assert int(match["major"]) < FIRST_NODE24_MAJOR[match["action"]]


def test_dependabot_keeps_the_actions_current() -> None:
    import yaml

    config = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    assert {"github-actions", "pip"} <= {update["package-ecosystem"] for update in config["updates"]}
