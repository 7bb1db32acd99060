"""The repository's policy configuration (.mlgitops.yaml): rules on/off, severities, extra policy folders."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import Location, UserError, UserErrors
from generator.kube.manifest import Manifest
from generator.yaml.reader import iter_documents
from generator.yaml.text import CONFIG_FILE_BYTES, read_user_text

CONFIG_FILE = ".mlgitops.yaml"

_CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "policies": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "rules": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "enabled": {"type": "boolean"},
                    "severity": {"enum": ["error", "warning", "info"]},
                    "environments": {"type": "array", "items": {"type": "string"}},
                    "params": {"type": "object"},
                },
            },
        },
    },
}


@dataclass
class RuleSettings:
    """How the repository configures one rule; ``None`` keeps the policy file's own value."""

    enabled: bool | None = None
    severity: str | None = None
    environments: tuple[str, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    location: Location | None = None
    """Where the rule is named in the config file, to point at a rule that does not exist."""


@dataclass
class PolicyConfig:
    """Settings from .mlgitops.yaml; every field is optional."""

    file: str | None = None
    policy_folders: list[Path] = field(default_factory=list)
    rules: dict[str, RuleSettings] = field(default_factory=dict)


def find_config(start: Path) -> Path | None:
    """The nearest .mlgitops.yaml from ``start`` upwards, stopping at the repository root."""
    folder = start.resolve()
    if folder.is_file():
        folder = folder.parent
    for candidate in [folder, *folder.parents]:
        if (candidate / CONFIG_FILE).is_file():
            return candidate / CONFIG_FILE
        if (candidate / ".git").exists():
            break
    return None


def load_config(start: Path, explicit: Path | None = None) -> PolicyConfig:
    path = explicit or find_config(start)
    if path is None:
        return PolicyConfig()
    from generator.paths import shown_path

    shown = shown_path(path)
    text = read_user_text(path, shown, CONFIG_FILE_BYTES, "policy configuration")
    documents = list(iter_documents(text, shown))
    if not documents or documents[0][2] is None:
        return PolicyConfig(file=shown)
    _, node, document = documents[0]
    located = Manifest(obj=document if isinstance(document, dict) else {}, file=shown, node=node)
    from jsonschema import Draft202012Validator

    from generator.kube.schema import problems_of

    problems = problems_of(Draft202012Validator(_CONFIG_SCHEMA), document)
    if problems:
        raise UserErrors(
            [
                UserError(
                    f"{'.'.join(map(str, p.path)) or '(config)'}: {p.message}",
                    located.locate(p.path, key=p.message.startswith("unknown field")),
                )
                for p in problems
            ]
        )
    rules = {
        rule: RuleSettings(
            enabled=settings.get("enabled"),
            severity=settings.get("severity"),
            environments=tuple(settings["environments"]) if "environments" in settings else None,
            params=dict(settings.get("params") or {}),
            location=located.locate(("rules", rule), key=True),
        )
        for rule, settings in (document.get("rules") or {}).items()
    }
    folders = [path.parent / folder for folder in document.get("policies") or []]
    return PolicyConfig(file=shown, policy_folders=folders, rules=rules)


def config_schema() -> str:
    return json.dumps(_CONFIG_SCHEMA, indent=2)
