"""Findings as a SARIF 2.1.0 log that GitHub code scanning shows correctly.

What code scanning needs (docs.github.com, "SARIF support for code scanning") and where it comes from:

- ``artifactLocation.uri`` relative to the repository root with ``uriBaseId: "%SRCROOT%"``, whatever
  the working directory (the action's ``working-directory``): paths are re-based from the working
  directory onto the repository root (``RunFacts``). Input without a file (stdin) gets a logical
  location only, never an invented URI; a file outside the repository keeps an absolute ``file:`` URI.
- The primary location of a finding on a rendered object is the environment-file line that made it
  (what a reviewer edits); the rendered file is a related location, linked from the message.
- Per rule: ``shortDescription``, ``fullDescription``, ``help.text`` and ``help.markdown`` (rationale,
  fix, a failing and a passing example), ``helpUri`` (the rule's file in the project's repository at the
  tag or commit this mlgitops was installed from, for shipped rules; none for a local install, whose
  version may not be published: ``output/installation.py``), ``name`` (the id in PascalCase),
  ``properties.tags`` and, for rules tagged security,
  ``properties.security-severity`` (code scanning's critical/high/medium/low).
- ``partialFingerprints`` from the rule, the object, the file and the message (never the line), so an
  alert survives lines moving above it; ``invocations`` with the exit code and any input errors.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from mlgitops import HOME, __version__
from mlgitops.errors import Location, UserError
from mlgitops.output import inert
from mlgitops.output.installation import current
from mlgitops.policy.model import Finding, Policy
from mlgitops.policy.severity import Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "mlgitops/v1"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# Content hashes in generated names (training Jobs): a re-hashed Job is the same alert.
_NAME_HASH = re.compile(r"-[0-9a-f]{8}\b")


@dataclass(frozen=True)
class RunFacts:
    """Where and how the run happened: the working directory, the repository root, the outcome."""

    working_directory: str
    repository_root: str | None = None
    exit_code: int = 0
    errors: tuple[UserError, ...] = ()

    @classmethod
    def here(cls) -> RunFacts:
        """The current directory and the repository it lies in (the nearest folder up holding ``.git``)."""
        cwd = os.path.abspath(os.getcwd())
        folder = cwd
        while True:
            if os.path.exists(os.path.join(folder, ".git")):
                return cls(cwd, folder)
            parent = os.path.dirname(folder)
            if parent == folder:
                return cls(cwd, None)
            folder = parent

    def finished(self, exit_code: int, errors: Sequence[UserError] = ()) -> RunFacts:
        return replace(self, exit_code=exit_code, errors=tuple(errors))

    def artifact(self, file: str) -> dict[str, str] | None:
        """The artifactLocation of ``file`` as findings name it (relative to the working directory), or None."""
        if not file or file.startswith("<") or file == "-":
            return None  # stdin and other streams: no file to point at
        absolute = os.path.normpath(file if os.path.isabs(file) else os.path.join(self.working_directory, file))
        root = self.repository_root or self.working_directory
        relative = os.path.relpath(absolute, root) if _same_drive(absolute, root) else os.pardir
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            return {"uri": Path(absolute).as_uri()}
        return {"uri": quote(relative.replace(os.sep, "/"), safe="/"), "uriBaseId": SRCROOT}


def _same_drive(first: str, second: str) -> bool:
    return os.path.splitdrive(first)[0].lower() == os.path.splitdrive(second)[0].lower()


def _location(facts: RunFacts, where: Location) -> dict[str, Any] | None:
    artifact = facts.artifact(where.file)
    if artifact is None:
        return None
    region = {"startLine": max(where.line, 1), "startColumn": max(where.column, 1)}
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}


def help_markdown(policy: Policy) -> str:
    """The rule's help page for code scanning: rationale, fix, one failing and one passing example.

    A policy file is user data (a repository's own policies): its prose is made inert Markdown and its
    examples go into fences no line can close (output/inert.py).
    """
    prose = inert.markdown_text
    parts = [f"**{prose(policy.title)}**", "", prose(policy.rationale), "", f"**Fix:** {prose(policy.fix)}"]
    for heading, examples in (("Fails", policy.examples_fail), ("Passes", policy.examples_pass)):
        if examples:
            parts += ["", f"{heading}:", "", *inert.markdown_fence(examples[0].manifest.rstrip("\n").split("\n"), "yaml")]
    parts += [
        "",
        f'Accept a finding on purpose with the annotation `mlgitops.io/waive.{policy.id}: "<reason> until=YYYY-MM-DD"`; '
        f"`mlgitops explain {policy.id}` prints this page.",
    ]
    return "\n".join(parts)


def _rule(rule: str, policy: Policy | None) -> dict[str, Any]:
    if policy is None:  # a finding of a rule the catalog does not describe (a render-only check)
        return {
            "id": rule,
            "name": rule_name(rule),
            "shortDescription": {"text": rule},
            "fullDescription": {"text": rule},
            "help": {
                "text": inert.sarif_text(f"Run mlgitops explain {rule}."),
                "markdown": f"Run `mlgitops explain {inert.markdown_text(rule)}`.",
            },
            "properties": {"tags": ["mlgitops"], "precision": "high"},
        }
    tags = sorted({"mlgitops", "kubernetes", *policy.tags})
    properties: dict[str, Any] = {"tags": tags, "precision": "high", "problem.severity": policy.severity.value}
    if "security" in policy.tags:
        score = policy.security_severity if policy.security_severity is not None else _DEFAULT_SECURITY[policy.severity]
        properties["security-severity"] = f"{score:.1f}"
    entry: dict[str, Any] = {
        "id": rule,
        "name": rule_name(rule),
        "shortDescription": {"text": inert.sarif_text(policy.title)},
        "fullDescription": {"text": inert.sarif_text(policy.rationale)},
        "help": {"text": inert.sarif_text(f"{policy.rationale} Fix: {policy.fix}"), "markdown": help_markdown(policy)},
        "defaultConfiguration": {"level": _LEVEL[policy.severity], "enabled": policy.enabled},
        "properties": properties,
    }
    docs_ref = current().docs_ref
    if policy.shipped and docs_ref is not None:
        entry["helpUri"] = f"{HOME}/blob/{docs_ref}/policies/{rule}.yaml"
    return entry


def rule_name(rule: str) -> str:
    """The rule's SARIF ``name``: its id in PascalCase (``gpu-limits`` → ``GpuLimits``), as code scanning shows
    rule names beside ids (SARIF 2.1.0 §3.49.7: a name is an identifier distinct from the id, readable by people)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", rule) if part)


# Security rules without a score of their own: the severity they are reported at.
_DEFAULT_SECURITY = {Severity.ERROR: 7.0, Severity.WARNING: 5.0, Severity.INFO: 2.0}


def _fingerprint(finding: Finding, uri: str, seen: dict[str, int]) -> str:
    ref = finding.object_ref
    identity = "\0".join(
        [
            finding.rule,
            uri,
            ref.api_version,
            ref.kind,
            ref.namespace,
            _NAME_HASH.sub("", ref.name),
            _NAME_HASH.sub("", finding.message),
        ]
    )
    digest = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    seen[digest] = seen.get(digest, 0) + 1
    return f"{digest}:{seen[digest]}"


def _result(finding: Finding, index: dict[str, int], facts: RunFacts, seen: dict[str, int]) -> dict[str, Any]:
    primary = _location(facts, finding.source) if finding.source is not None else None
    found_at = _location(facts, finding.location)
    related: list[dict[str, Any]] = []
    # Literal brackets are escaped (SARIF 2.1.0, 3.11.6): only our own link below can be one.
    message = inert.sarif_text(f"{finding.message} [{finding.object_ref}]")
    if primary is not None and found_at is not None:
        # Reported where the object was written (the environment file); the rendered file is one click away.
        found_at["id"] = 1
        found_at["message"] = {"text": "rendered object"}
        related.append(found_at)
        where = unquote(found_at["physicalLocation"]["artifactLocation"]["uri"])
        message += f" (rendered at [{inert.sarif_text(f'{where}:{finding.location.line}')}](1))"
    else:
        primary = found_at
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": _LEVEL[finding.severity],
        "message": {"text": message},
        "locations": [primary] if primary is not None else [],
    }
    if primary is None:
        # No file to point at (stdin): the object itself, so the result still says what it is about.
        result["locations"] = [{"logicalLocations": [{"fullyQualifiedName": str(finding.object_ref), "kind": "object"}]}]
    if related:
        result["relatedLocations"] = related
    uri = primary["physicalLocation"]["artifactLocation"]["uri"] if primary is not None else "<stdin>"
    result["partialFingerprints"] = {FINGERPRINT: _fingerprint(finding, uri, seen)}
    if finding.waiver is not None:
        result["suppressions"] = [{"kind": "inSource", "status": "accepted", "justification": inert.terminal(finding.waiver)}]
    return result


def _notification(error: UserError, facts: RunFacts) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "level": "error",
        "message": {"text": inert.sarif_text(error.message)},
        "descriptor": {"id": "input-error"},
    }
    if error.location is not None and (where := _location(facts, error.location)) is not None:
        entry["locations"] = [where]
    return entry


def sarif_log(findings: Sequence[Finding], policies: dict[str, Policy], facts: RunFacts) -> str:
    """The SARIF 2.1.0 log of one lint run (a single ``run``), as JSON text."""
    rule_ids = sorted({f.rule for f in findings} | set(policies))
    index = {rule: position for position, rule in enumerate(rule_ids)}
    seen: dict[str, int] = {}
    invocation: dict[str, Any] = {"executionSuccessful": not facts.errors, "exitCode": facts.exit_code}
    if facts.errors:
        invocation["toolExecutionNotifications"] = [_notification(error, facts) for error in facts.errors]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mlgitops",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": HOME,
                        "rules": [_rule(rule, policies.get(rule)) for rule in rule_ids],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "invocations": [invocation],
                "results": [_result(finding, index, facts, seen) for finding in findings],
            }
        ],
    }
    return inert.json_document(log)


__all__ = ["FINGERPRINT", "SRCROOT", "RunFacts", "help_markdown", "sarif_log"]
