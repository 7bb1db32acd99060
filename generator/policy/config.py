"""The repository's configuration (.mlgitops.yaml): rules on/off, severities, extra policy folders, promoted fields."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from mlgitops.errors import Location, UserError
from mlgitops.kube.manifest import Manifest
from mlgitops.paths import is_inside
from mlgitops.policy.policy_file import FileModel, SeverityWord, Text, validated
from mlgitops.yaml.reader import iter_documents
from mlgitops.yaml.text import CONFIG_FILE_BYTES, read_user_text

CONFIG_FILE = ".mlgitops.yaml"


class RuleSettings(FileModel):
    """How the repository configures one rule (``rules.<id>``); a field left out keeps the policy file's own value."""

    model_config = ConfigDict(defer_build=True)  # built when a repository has a .mlgitops.yaml

    enabled: bool | None = None
    severity: SeverityWord | None = None
    environments: list[str] | None = None
    """The environments the rule applies in (all of them without this)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Parameters of the rule, each of the type of the policy's own default."""


class PromoteSettings(FileModel):
    """What `mlgitops promote` copies when --field is not given."""

    model_config = ConfigDict(defer_build=True)  # built when a repository has a .mlgitops.yaml

    fields: Annotated[list[Text], Field(min_length=1)] | None = None


class ConfigFile(FileModel):
    """The repository's `.mlgitops.yaml`: extra policy folders, rule settings, promoted fields. Every key is optional."""

    model_config = ConfigDict(defer_build=True)  # built when a repository has a .mlgitops.yaml

    policies: list[Text] = Field(default_factory=list)
    gitops: list[Literal["argocd", "flux"]] | None = None
    """The GitOps engines that sync the manifests (rules job-gitops-ttl, hpa-replicas, pvc-prune-protection)."""
    """Extra policy folders, relative to this file and inside the repository."""
    rules: dict[str, RuleSettings] = Field(default_factory=dict)
    promote: PromoteSettings = Field(default_factory=PromoteSettings)


@dataclass
class PolicyConfig:
    """Settings from .mlgitops.yaml; every field is optional. ``file`` is the file applied (as shown), if any."""

    file: str | None = None
    policy_folders: list[Path] = field(default_factory=list)
    rules: dict[str, RuleSettings] = field(default_factory=dict)
    promote_fields: tuple[str, ...] = ()
    """What `mlgitops promote` copies when --field is not given (`promote: {fields: [...]}`)."""
    gitops: tuple[str, ...] | None = None
    """The GitOps engines the configuration names (`gitops: [argocd, flux]`); None: not said."""
    written: Manifest | None = None
    """The file's document with positions, to point at a rule or parameter the catalog does not have."""

    def locate(self, path: tuple[str | int, ...], *, key: bool = False) -> Location | None:
        """Where ``path`` (e.g. ``("rules", "image-tag")``) is written in the file, or None without a file."""
        if self.written is not None:
            return self.written.locate(path, key=key)
        return Location(self.file, 1, 1) if self.file else None


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
    if len(documents) > 1:
        raise UserError("a policy configuration holds one YAML document; found several ('---')", Location(shown, 1, 1))
    if not documents or documents[0][2] is None:
        return PolicyConfig(file=shown)
    _, node, document = documents[0]
    written = validated(ConfigFile, document, text, shown)
    located = Manifest(obj=document, file=shown, node=node)
    folders = []
    for index, folder in enumerate(written.policies):
        if not is_inside(path.parent / folder, repository):
            # Folders on the command line may lie anywhere; a committed config names only the repository's own.
            raise UserError(
                f"policies[{index}]: {folder!r} leads outside the repository; name policy folders inside it "
                "(or pass --policies DIR on the command line)",
                located.locate(("policies", index)),
            )
        folders.append(path.parent / folder)
    return PolicyConfig(
        file=shown,
        policy_folders=folders,
        rules=dict(written.rules),
        promote_fields=tuple(written.promote.fields or ()),
        gitops=tuple(written.gitops) if written.gitops is not None else None,
        written=located,
    )


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
