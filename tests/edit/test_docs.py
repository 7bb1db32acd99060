"""The documentation's Renovate manager finds every image of the environment files; its promotion workflow calls real options."""

from __future__ import annotations

import json
import re
import shlex

import yaml

from tests.support import REPO, documentation, run_in_process
from tests.test_workflows import _commands

README = documentation()


def _block(language: str, first_line: str) -> str:
    """The documentation's code block in ``language`` whose first line is ``first_line``."""
    for match in re.finditer(rf"```{language}\n(.*?)```", README, re.DOTALL):
        if match.group(1).startswith(first_line):
            return match.group(1)
    raise AssertionError(f"no {language} block starting with {first_line!r} in the documentation")


def test_the_renovate_manager_matches_every_image_of_the_environment_files() -> None:
    config = json.loads(
        "\n".join(line for line in _block("json5", "// renovate.json5").splitlines() if not line.lstrip().startswith("//"))
    )
    manager = config["customManagers"][0]
    pattern = re.compile(manager["matchStrings"][0].replace("(?<", "(?P<"))
    files = [
        *sorted((REPO / "environments").glob("*.yaml")),
        *sorted((REPO / "generator" / "scaffold" / "environments").glob("*.yaml")),
    ]
    file_pattern = re.compile(manager["managerFilePatterns"][0].strip("/"))
    found = 0
    for path in files:
        assert file_pattern.search(path.relative_to(path.parent.parent).as_posix())
        text = path.read_text()
        images = [line.split(":", 1)[1].strip() for line in text.splitlines() if re.match(r"\s*(image|[a-z]+Image):", line)]
        matches = list(pattern.finditer(text))
        assert len(matches) == len(images), path
        for match, image in zip(matches, images, strict=True):
            digest = f"@{match['currentDigest']}" if match["currentDigest"] else ""
            assert f"{match['depName']}:{match['currentValue']}{digest}" == image
            found += 1
    assert found >= 10
    assert config["postUpgradeTasks"]["commands"] == ["mlgitops render"]


def test_the_promotion_workflow_is_yaml_and_calls_real_options() -> None:
    workflow = yaml.safe_load(_block("yaml", "# .github/workflows/promote.yml"))
    commands = _commands(workflow)
    assert [shlex.split(command)[1] for command in commands] == ["promote"]
    help_text = run_in_process("promote", "--help").stdout
    options = [word for word in shlex.split(commands[0]) if word.startswith("--")]
    assert options == ["--from", "--to", "--pr-body", "--format"]
    assert all(option in help_text for option in options)
