"""Findings on a file several environments share (an extra manifest), reported once, naming the environments.

An extra manifest named in a base file is copied into every environment that extends it and judged in each (in
that environment's namespace). The same problem at the same line of the same file is one thing for the user to
fix: it is reported once, with the environments it was found in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mlgitops.policy import Finding, replace


def once_per_file(
    findings_by_environment: Mapping[str, Sequence[Finding]], shared_files: Mapping[str, set[str]]
) -> list[Finding]:
    """Every environment's findings in order; those located in one of its ``shared_files`` (environment → files)
    merged across environments and suffixed with the environments they were found in."""
    found: list[Finding] = []
    merged: dict[tuple[object, ...], tuple[int, list[str]]] = {}
    for environment, findings in findings_by_environment.items():
        for finding in findings:
            if finding.location.file not in shared_files.get(environment, set()):
                found.append(finding)
                continue
            ref = finding.object_ref
            key = (finding.rule, finding.severity, finding.location, finding.message, ref.kind, ref.name, finding.waiver)
            if key in merged:
                merged[key][1].append(environment)
                continue
            merged[key] = (len(found), [environment])
            found.append(finding)
    for index, environments in merged.values():
        names = ", ".join(environments)
        label = "environment" if len(environments) == 1 else "environments"
        found[index] = replace(found[index], message=f"{found[index].message} ({label} {names})")
    return found
