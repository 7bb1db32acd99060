"""Findings as text, JSON, SARIF 2.1.0 (``sarif.py``), JUnit XML or GitHub workflow commands."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mlgitops.output import colour, inert
from mlgitops.output.machine import versioned
from mlgitops.output.sarif import RunFacts, sarif_log
from mlgitops.policy.model import Finding, Policy
from mlgitops.policy.severity import Severity

_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _object(finding: Finding) -> str:
    return str(finding.object_ref)


def text(findings: Sequence[Finding], policies: dict[str, Policy], *, fixes: bool = False, colour_on: bool = False) -> str:
    """One line per finding (and the spec line that made the object).

    ``fixes`` adds each unwaived finding's fix; ``colour_on`` adds ANSI colour (around the inert text).
    """
    paint_severity = colour.severity if colour_on else str
    paint_rule = colour.strong if colour_on else str
    paint_faint = colour.faint if colour_on else str
    lines = []
    for finding in findings:
        # Each user-controlled part is made inert first (output/inert.py); colour goes around the inert text.
        waived = inert.terminal(f" (waived: {finding.waiver})") if finding.waiver is not None else ""
        where, rule = inert.terminal(str(finding.location)), inert.terminal(finding.rule)
        message, named = inert.terminal(finding.message), inert.terminal(f"[{_object(finding)}]")
        lines.append(f"{where}: {paint_severity(finding.severity)} {paint_rule(rule)}: {message} {paint_faint(named)}{waived}")
        if finding.source is not None:
            lines.append(paint_faint(inert.terminal(f"  from {finding.source}")))
        if fixes and finding.fix and finding.waiver is None:
            lines.append(inert.terminal(f"  fix: {' '.join(finding.fix.split())}"))
    return "".join(line + "\n" for line in lines)


def as_json(findings: Sequence[Finding], policies: dict[str, Policy]) -> str:
    document = [
        {
            "rule": f.rule,
            "severity": f.severity.value,
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
    return versioned("LintReport", {"findings": document})


def _rendered_at(finding: Finding) -> str:
    """`` (rendered at FILE:LINE)`` for a finding reported at its environment field, else nothing."""
    return f" (rendered at {finding.location.file}:{finding.location.line})" if finding.source is not None else ""


def junit(findings: Sequence[Finding], policies: dict[str, Policy]) -> str:
    """One test case per finding, named by where to change it: the environment field for a rendered object."""
    quoteattr, escape = inert.xml_attribute, inert.xml_text
    failing = [f for f in findings if f.waiver is None]
    cases = []
    for finding in findings:
        where = finding.source or finding.location
        name = quoteattr(f"{where} {_object(finding)}")
        body = escape(f"{where}: {finding.message}{_rendered_at(finding)}") + "\n" + escape(f"fix: {finding.fix}")
        if finding.waiver is not None:
            inner = f"<skipped message={quoteattr('waived: ' + finding.waiver)}/>"
        else:
            inner = f"<failure type={quoteattr(finding.severity.value)} message={quoteattr(finding.message)}>{body}</failure>"
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
    """Workflow commands; a finding on a rendered object is annotated on its environment field (the pull
    request's diff shows environment files), naming the rendered file in the message."""
    lines = []
    for finding in findings:
        command = "notice" if finding.waiver is not None else _GITHUB_COMMAND[finding.severity]
        waived = f" (waived: {finding.waiver})" if finding.waiver is not None else ""
        where = finding.source or finding.location
        properties = (
            f"file={inert.github_property(where.file)},line={where.line},"
            f"col={where.column},title={inert.github_property(finding.rule)}"
        )
        data = f"{finding.message} [{_object(finding)}]{_rendered_at(finding)}{waived}"
        lines.append(f"::{command} {properties}::{inert.github_data(data)}")
    return "".join(line + "\n" for line in lines)


Reporter = Callable[[Sequence[Finding], dict[str, Policy]], str]


def sarif(findings: Sequence[Finding], policies: dict[str, Policy]) -> str:
    """SARIF for a run in the current directory (``report`` passes the run's own facts)."""
    return sarif_log(findings, policies, RunFacts.here())


REPORTERS: dict[str, Reporter] = {"text": text, "json": as_json, "sarif": sarif, "junit": junit, "github": github}


def report(
    findings: Sequence[Finding],
    policies: dict[str, Policy],
    output_format: str,
    facts: RunFacts | None = None,
    *,
    colour: bool = False,
) -> str:
    """Findings in ``output_format``; SARIF also needs the run's ``facts`` (where it ran, its exit code)."""
    if output_format == "sarif":
        return sarif_log(findings, policies, facts or RunFacts.here())
    if output_format == "text":
        return text(findings, policies, colour_on=colour)
    return REPORTERS[output_format](findings, policies)


def summary(findings: Sequence[Finding], files: int) -> str:
    counts = dict.fromkeys(Severity, 0)
    waived = 0
    for finding in findings:
        if finding.waiver is not None:
            waived += 1
        else:
            counts[finding.severity] += 1
    errors, warnings, infos = counts[Severity.ERROR], counts[Severity.WARNING], counts[Severity.INFO]
    return f"{errors} error(s), {warnings} warning(s), {infos} info, {waived} waived in {files} file(s)"
