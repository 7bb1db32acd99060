"""Loading policies from YAML files: validated against policies/policy.schema.json, compiled once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mlgitops.errors import Location, UserError, UserErrors
from mlgitops.kube.manifest import Manifest
from mlgitops.paths import repository_root
from mlgitops.policy.config import refuse_outside_link
from mlgitops.policy.message import template_problem
from mlgitops.policy.model import Example, Policy
from mlgitops.policy.severity import Severity
from mlgitops.yaml.reader import iter_documents
from mlgitops.yaml.text import POLICY_FILE_BYTES, read_user_text

CATALOG_PACKAGE = "mlgitops_policies"
POLICY_SCHEMA = "policy.schema.json"


def shipped_catalog() -> Path:
    """The folder of the catalog that ships with mlgitops (policies/ in a checkout)."""
    # The package's own folder; importlib.resources would cost more import time than a lint of 100 files.
    from importlib import import_module

    return Path(str(import_module(CATALOG_PACKAGE).__file__)).parent


@cache
def policy_schema_validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads((shipped_catalog() / POLICY_SCHEMA).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


@dataclass
class Catalog:
    """Every policy by id, in a stable order."""

    policies: dict[str, Policy] = field(default_factory=dict)
    config_file: str | None = None
    """The .mlgitops.yaml applied (as shown in messages), if any."""

    def active(self) -> list[Policy]:
        return [policy for _, policy in sorted(self.policies.items()) if policy.enabled]

    def get(self, rule: str) -> Policy:
        if rule not in self.policies:
            raise UserError(f"no policy {rule!r} (see `mlgitops policy list`)")
        return self.policies[rule]


def policy_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise UserError(f"policy folder {folder} not found")
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_policy_file(path: Path, shown: str | None = None, *, trusted: bool = False) -> Policy:
    """One policy, with located errors for anything that does not fit the policy schema."""
    shown = shown or str(path)
    text = read_user_text(path, shown, POLICY_FILE_BYTES, "policy")
    documents = list(iter_documents(text, shown))
    if len(documents) != 1 or not isinstance(documents[0][2], dict):
        raise UserError("a policy file holds one YAML mapping", Location(shown, 1, 1))
    _, node, document = documents[0]
    located = Manifest(obj=document, file=shown, node=node)
    from mlgitops.kube.schema import problems_of

    # The shipped catalog is validated by the test suite; every other policy file is checked here.
    problems = [] if trusted else problems_of(policy_schema_validator(), document)
    if problems:
        raise UserErrors(
            [
                UserError(f"{_field(p.path)}: {p.message}", located.locate(p.path, key=p.message.startswith("unknown field")))
                for p in problems
            ]
        )
    return _compile(document, located, shown, trusted=trusted)


def _field(path: Iterable[Any]) -> str:
    return ".".join(str(p) for p in path) or "(policy)"


def _examples(entries: list[Any]) -> list[Example]:
    examples = []
    for entry in entries:
        if isinstance(entry, str):
            examples.append(Example(entry))
        else:
            at = entry.get("at")
            examples.append(
                Example(
                    entry["manifest"],
                    (int(at[0]), int(at[1])) if at else None,
                    entry.get("environment"),
                    list(entry.get("nodePools") or []),
                )
            )
    return examples


def _compile(document: dict[str, Any], located: Manifest, shown: str, *, trusted: bool = False) -> Policy:
    match = document.get("match") or {}
    policy = Policy(
        id=document["id"],
        title=document["title"],
        severity=Severity(document["severity"]),
        rationale=document["rationale"].strip(),
        fix=document["fix"].strip(),
        render_fix=str(document.get("renderFix", "")).strip(),
        file=shown,
        target=document.get("target", "object"),
        kinds=tuple(match.get("kinds", ())),
        api_groups=tuple(match.get("apiGroups", ())),
        environments=tuple(match.get("environments", ())),
        match_labels=dict(match.get("labels", {})),
        schema=document.get("schema"),
        message=document.get("message", ""),
        check=document.get("check"),
        params=dict(document.get("params") or {}),
        examples_pass=_examples(document["examples"]["pass"]),
        examples_fail=_examples(document["examples"]["fail"]),
        tags=tuple(document.get("tags") or ()),
        security_severity=document.get("securitySeverity"),
        shipped=trusted,
    )
    problem = template_problem(policy.message)
    if problem is not None:
        raise UserError(f"message: {problem}", located.locate(("message",)))
    if policy.schema is not None:
        # The shipped catalog's schemas are checked by the test suite; users' are checked here.
        if not trusted:
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError

            try:
                Draft202012Validator.check_schema(policy.schema)
            except SchemaError as error:
                where = located.locate(("schema", *error.absolute_path))
                raise UserError(f"schema: not a valid JSON Schema: {error.message}", where) from None
        from mlgitops.kube.schema import compile_schema, compile_user_schema
        from mlgitops.kube.user_schema import RefusedSchema, as_user_error

        try:
            policy.validator = compile_schema(policy.schema) if trusted else compile_user_schema(policy.schema)
        except RefusedSchema as error:
            raise as_user_error(error, located.locate, ("schema",)) from None
    elif policy.check is not None:
        from mlgitops.policy.checks import registered

        if policy.check not in registered():
            known = ", ".join(sorted(registered()))
            raise UserError(f"check: no built-in check {policy.check!r} (have: {known})", located.locate(("check",)))
    return policy


def load_folders(folders: Sequence[Path]) -> Catalog:
    """Policies of every folder; a later folder's policy replaces an earlier one with the same id."""
    catalog = Catalog()
    errors: list[UserError] = []
    for folder in folders:
        seen_here: dict[str, str] = {}
        trusted = folder == shipped_catalog()
        boundary = repository_root(folder) if folder.is_dir() else folder
        for path in policy_files(folder):
            try:
                if not trusted:
                    refuse_outside_link(path, boundary, _shown(path), "policy")
                policy = load_policy_file(path, _shown(path), trusted=trusted)
            except UserError as error:
                errors.append(error)
                continue
            if policy.id in seen_here:
                errors.append(
                    UserError(f"id: {policy.id!r} is also defined in {seen_here[policy.id]}", Location(policy.file, 1, 1))
                )
                continue
            seen_here[policy.id] = policy.file
            catalog.policies[policy.id] = policy
    if errors:
        raise UserErrors(errors)
    return catalog


def _shown(path: Path) -> str:
    from mlgitops.paths import shown_path

    return shown_path(path)
