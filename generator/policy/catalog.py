"""Loading policies from YAML files: read into ``PolicyFile`` models (policy_file.py), compiled once."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlgitops.errors import Location, UserError, UserErrors
from mlgitops.kube.manifest import Manifest
from mlgitops.paths import repository_root
from mlgitops.policy.config import refuse_outside_link
from mlgitops.policy.model import Policy
from mlgitops.policy.policy_file import RULE_ID, PolicyFile, validated
from mlgitops.yaml.reader import iter_documents
from mlgitops.yaml.text import POLICY_FILE_BYTES, read_user_text

CATALOG_PACKAGE = "mlgitops_policies"
POLICY_SCHEMA = "policy.schema.json"
"""The editor schema of policy files in the catalog's folder (``policy_file_schema()``, written out)."""


def shipped_catalog() -> Path:
    """The folder of the catalog that ships with mlgitops (policies/ in a checkout)."""
    # The package's own folder; importlib.resources would cost more import time than a lint of 100 files.
    from importlib import import_module

    return Path(str(import_module(CATALOG_PACKAGE).__file__)).parent


@dataclass
class Catalog:
    """Every policy by id, in a stable order."""

    policies: dict[str, Policy] = field(default_factory=dict)
    config_file: str | None = None
    """The .mlgitops.yaml applied (as shown in messages), if any."""
    gitops: tuple[str, ...] | None = None
    """The GitOps engines .mlgitops.yaml names (``gitops:``); None when it says nothing."""

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
    """One policy, its id the file's name; every mistake a located one-line error (``UserErrors``)."""
    shown = shown or str(path)
    text = read_user_text(path, shown, POLICY_FILE_BYTES, "policy")
    documents = list(iter_documents(text, shown))
    if len(documents) != 1 or not isinstance(documents[0][2], dict):
        raise UserError("a policy file holds one YAML mapping", Location(shown, 1, 1))
    rule = path.stem
    if not re.fullmatch(RULE_ID, rule):
        raise UserError(
            f"the file's name is the rule's id: {rule[:80]!r} is not lowercase words of letters and digits joined by '-' "
            "(like gpu-toleration); rename the file",
            Location(shown, 1, 1),
        )
    _, node, document = documents[0]
    from mlgitops.policy.checks import registered

    written = validated(PolicyFile, document, text, shown, {"rule": rule, "checks": registered()})
    return _compile(rule, written, Manifest(obj=document, file=shown, node=node), shown, trusted=trusted)


def _compile(rule: str, written: PolicyFile, located: Manifest, shown: str, *, trusted: bool = False) -> Policy:
    match = written.match
    policy = Policy(
        id=rule,
        title=written.title,
        severity=written.severity,
        rationale=written.rationale.strip(),
        fix=written.fix.strip(),
        render_fix=(written.render_fix or "").strip(),
        file=shown,
        target=written.target,
        kinds=tuple(match.kinds or ()),
        api_groups=tuple(match.api_groups or ()),
        environments=tuple(match.environments or ()),
        match_labels=dict(match.labels),
        schema=written.schema_,
        message=written.message,
        check=written.check,
        params=dict(written.params),
        examples_pass=list(written.examples.pass_),
        examples_fail=list(written.examples.fail),
        tags=tuple(written.tags),
        security_severity=written.security_severity,
        shipped=trusted,
    )
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
