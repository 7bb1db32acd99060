"""The repository's configuration (.mlgitops.yaml): rules on/off, severities, extra policy folders, promoted fields."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgitops.errors import Location, UserError, UserErrors
from mlgitops.kube.manifest import Manifest
from mlgitops.paths import is_inside
from mlgitops.policy.severity import Severity
from mlgitops.yaml.reader import iter_documents
from mlgitops.yaml.text import CONFIG_FILE_BYTES, read_user_text

CONFIG_FILE = ".mlgitops.yaml"

_CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "policies": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "promote": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"fields": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}},
        },
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
    severity: Severity | None = None
    environments: tuple[str, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    location: Location | None = None
    """Where the rule is named in the config file, to point at a rule that does not exist."""
    param_locations: dict[str, Location] = field(default_factory=dict)
    """Where each parameter is set, to point at a value of the wrong type."""


@dataclass
class PolicyConfig:
    """Settings from .mlgitops.yaml; every field is optional. ``file`` is the file applied (as shown), if any."""

    file: str | None = None
    policy_folders: list[Path] = field(default_factory=list)
    rules: dict[str, RuleSettings] = field(default_factory=dict)
    promote_fields: tuple[str, ...] = ()
    """What `mlgitops promote` copies when --field is not given (`promote: {fields: [...]}`)."""


def find_config(start: Path) -> Path | None:
    """The nearest .mlgitops.yaml from ``start`` upwards, stopping at the repository root.

    Outside a git repository the search stops at the working directory (or at ``start`` when it
    lies elsewhere): a stray .mlgitops.yaml in a parent folder, or in /tmp, is never applied.
    """
    from mlgitops.paths import repository_root

    folder = start.resolve()
    if folder.is_file():
        folder = folder.parent
    top = repository_root(folder)
    for candidate in [folder, *folder.parents]:
        if (candidate / CONFIG_FILE).is_file() or (candidate / CONFIG_FILE).is_symlink():
            return candidate / CONFIG_FILE
        if candidate == top:
            break
    return None


def refuse_outside_link(path: Path, boundary: Path, shown: str, what: str) -> None:
    """Refuse, without reading it, a ``what`` file that is a link leading outside ``boundary``.

    Its content would come back in error messages: a link to a CI runner's token file must not.
    """
    from mlgitops.paths import is_inside

    if path.is_symlink() and not is_inside(path, boundary):
        raise UserError(
            f"this {what} file is a symbolic link leading outside {boundary.name or boundary}/; it is not read "
            "(copy the file into the repository, or name its target itself)",
            Location(shown, 1, 1),
        )


def load_config(start: Path, explicit: Path | None = None) -> PolicyConfig:
    path = explicit or find_config(start)
    if path is None:
        return PolicyConfig()
    from mlgitops.paths import repository_root, shown_path

    shown = shown_path(path)
    repository = repository_root(path.parent)
    refuse_outside_link(path, repository, shown, "policy configuration")
    text = read_user_text(path, shown, CONFIG_FILE_BYTES, "policy configuration")
    documents = list(iter_documents(text, shown))
    if not documents or documents[0][2] is None:
        return PolicyConfig(file=shown)
    _, node, document = documents[0]
    located = Manifest(obj=document if isinstance(document, dict) else {}, file=shown, node=node)
    from jsonschema import Draft202012Validator

    from mlgitops.kube.schema import problems_of

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
            severity=Severity(settings["severity"]) if settings.get("severity") is not None else None,
            environments=tuple(settings["environments"]) if "environments" in settings else None,
            params=dict(settings.get("params") or {}),
            location=located.locate(("rules", rule), key=True),
            param_locations={name: located.locate(("rules", rule, "params", name)) for name in settings.get("params") or {}},
        )
        for rule, settings in (document.get("rules") or {}).items()
    }
    folders = []
    for index, folder in enumerate(document.get("policies") or []):
        if not is_inside(path.parent / folder, repository):
            # Folders on the command line may lie anywhere; a committed config names only the repository's own.
            raise UserError(
                f"policies[{index}]: {folder!r} leads outside the repository; name policy folders inside it "
                "(or pass --policies DIR on the command line)",
                located.locate(("policies", index)),
            )
        folders.append(path.parent / folder)
    promote = tuple((document.get("promote") or {}).get("fields") or ())
    return PolicyConfig(file=shown, policy_folders=folders, rules=rules, promote_fields=promote)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else "null"


def param_problem(name: str, default: Any, value: Any) -> str | None:
    """Why a configured parameter does not fit the policy's own default (its declared type), or None."""
    shown = json.dumps(default)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    if _kind(value) != _kind(default):
        return f"params.{name} must be {_kind(default)}, like the policy's default {shown}"
    if isinstance(default, list) and default and isinstance(value, list):
        wanted = _kind(default[0])
        if any(_kind(item) != wanted for item in value):
            return f"params.{name} must be a list of {wanted} values, like the policy's default {shown}"
    return None


def config_schema() -> str:
    return json.dumps(_CONFIG_SCHEMA, indent=2)
