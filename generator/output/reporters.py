"""Findings as text, JSON, SARIF 2.1.0, JUnit XML or GitHub workflow commands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from generator import __version__
from generator.output import inert
from generator.policy.model import Finding, Policy

FORMATS = ("text", "json", "sarif", "junit", "github")
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_GITHUB_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def _object(finding: Finding) -> str:
    return str(finding.object_ref)


def text(findings: Sequence[Finding], policies: dict[str, Policy], *, fixes: bool = False) -> str:
    """One line per finding (and the spec line that made the object); ``fixes`` adds each unwaived finding's fix."""
    lines = []
    for finding in findings:
        waived = f" (waived: {finding.waiver})" if finding.waiver is not None else ""
        lines.append(f"{finding.location}: {finding.severity} {finding.rule}: {finding.message} [{_object(finding)}]{waived}")
        if finding.source is not None:
            lines.append(f"  from {finding.source}")
        if fixes and finding.fix and finding.waiver is None:
            lines.append(f"  fix: {' '.join(finding.fix.split())}")
    return "".join(inert.terminal(line) + "\n" for line in lines)


def as_json(findings: Sequence[Finding], policies: dict[str, Policy]) -> str:
    document = [
        {
            "rule": f.rule,
            "severity": f.severity,
            "message": f.message,
            "object": {
                "apiVersion": f.object_ref.api_version,
                "kind": f.object_ref.kind,
                "namespace": f.object_ref.namespace,
                "name": f.object_ref.name,
            },
            "location": {"file": f.location.file, "line": f.location.line, "column": f.location.column},
            "source": (
                {"file": f.source.file, "line": f.source.line, "column": f.source.column} if f.source is not None else None
            ),
            "waived": f.waiver is not None,
            "waiver": f.waiver,
            "fix": f.fix,
        }
        for f in findings
    ]
    return inert.json_document(document)


def sarif(findings: Sequence[Finding], policies: dict[str, Policy]) -> str:
    rule_ids = sorted({f.rule for f in findings} | set(policies))
    rules = []
    for rule in rule_ids:
        policy = policies.get(rule)
        entry: dict[str, Any] = {"id": rule, "name": rule}
        if policy is not None:
            entry["shortDescription"] = {"text": inert.sarif_text(policy.title)}
            entry["fullDescription"] = {"text": inert.sarif_text(policy.rationale)}
            entry["help"] = {"text": inert.sarif_text(policy.fix)}
            entry["defaultConfiguration"] = {"level": _SARIF_LEVEL[policy.severity]}
        rules.append(entry)
    index = {rule: position for position, rule in enumerate(rule_ids)}
    results = []
    for finding in findings:
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": _SARIF_LEVEL[finding.severity],
            "message": {"text": inert.sarif_text(f"{finding.message} ({_object(finding)})")},
            "locations": [_location(finding.location.file, finding.location.line, finding.location.column)],
        }
        if finding.source is not None:
            related = _location(finding.source.file, finding.source.line, finding.source.column)
            related["id"] = 0
            related["message"] = {"text": "environment file line that produced this object"}
            result["relatedLocations"] = [related]
        if finding.waiver is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": inert.terminal(finding.waiver)}]
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mlgitops",
                        "version": __version__,
                        "informationUri": "https://github.com/mlgitops/mlgitops",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return inert.json_document(log)


def _location(file: str, line: int, column: int) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": file.replace("\\", "/")},
            "region": {"startLine": line, "startColumn": column},
        }
    }


def junit(findings: Sequence[Finding], policies: dict[str, Policy]) -> str:
    quoteattr, escape = inert.xml_attribute, inert.xml_text
    failing = [f for f in findings if f.waiver is None]
    cases = []
    for finding in findings:
        name = quoteattr(f"{finding.location} {_object(finding)}")
        body = escape(f"{finding.location}: {finding.message}") + "\n" + escape(f"fix: {finding.fix}")
        if finding.waiver is not None:
            inner = f"<skipped message={quoteattr('waived: ' + finding.waiver)}/>"
        else:
            inner = f"<failure type={quoteattr(finding.severity)} message={quoteattr(finding.message)}>{body}</failure>"
        cases.append(f"    <testcase classname={quoteattr(finding.rule)} name={name}>{inner}</testcase>")
    if not findings:
        cases.append('    <testcase classname="mlgitops" name="policy checks"/>')
    skipped = len(findings) - len(failing)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
        f'  <testsuite name="mlgitops lint" tests="{max(len(findings), 1)}" failures="{len(failing)}" '
        f'errors="0" skipped="{skipped}">\n' + "\n".join(cases) + "\n  </testsuite>\n</testsuites>\n"
    )


def github(findings: Sequence[Finding], policies: dict[str, Policy]) -> str:
    lines = []
    for finding in findings:
        command = "notice" if finding.waiver is not None else _GITHUB_COMMAND[finding.severity]
        waived = f" (waived: {finding.waiver})" if finding.waiver is not None else ""
        properties = (
            f"file={inert.github_property(finding.location.file)},line={finding.location.line},"
            f"col={finding.location.column},title={inert.github_property(finding.rule)}"
        )
        lines.append(f"::{command} {properties}::{inert.github_data(finding.message + ' [' + _object(finding) + ']' + waived)}")
    return "".join(line + "\n" for line in lines)


REPORTERS = {"text": text, "json": as_json, "sarif": sarif, "junit": junit, "github": github}


def report(findings: Sequence[Finding], policies: dict[str, Policy], output_format: str) -> str:
    return REPORTERS[output_format](findings, policies)


def summary(findings: Sequence[Finding], files: int) -> str:
    counts = {"error": 0, "warning": 0, "info": 0}
    waived = 0
    for finding in findings:
        if finding.waiver is not None:
            waived += 1
        else:
            counts[finding.severity] += 1
    return (
        f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info, {waived} waived in {files} file(s)"
    )
