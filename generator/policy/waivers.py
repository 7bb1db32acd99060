"""Waivers: `mlgitops.io/waive.<rule>: "<reason> until=YYYY-MM-DD"` annotations that accept a finding.

A waived finding is still reported (as waived) and never fails a run. A waiver without a
reason, or past its date, does not waive anything and is itself a finding (rule waiver-invalid).
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Sequence
from dataclasses import replace

from mlgitops.kube.manifest import Manifest
from mlgitops.policy.catalog import Catalog
from mlgitops.policy.checks import check
from mlgitops.policy.model import Finding, Manifests, Policy, PolicyContext, SetFindings
from mlgitops.policy.targets import pod_metadata, pod_specs

WAIVER_PREFIX = "mlgitops.io/waive."
WAIVER_RULE = "waiver-invalid"
_UNTIL = re.compile(r"\buntil=(\S*)")
# Only the calendar date the documentation (docs/policies.md) gives: date.fromisoformat (3.11+) would also take
# '20270630', '2027-W26-3' and '2027-06-30T00:00'.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str) -> datetime.date | None:
    """A YYYY-MM-DD date, or None for anything else (other ISO 8601 forms included)."""
    if not _DATE.fullmatch(text):
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def today() -> datetime.date:
    # Tests pin the date so that expiry stays reproducible.
    pinned = os.environ.get("MLGITOPS_TODAY")
    return (parse_date(pinned) or datetime.date.today()) if pinned else datetime.date.today()


def _annotations(manifest: Manifest) -> list[tuple[tuple[str | int, ...], dict[str, str]]]:
    found: list[tuple[tuple[str | int, ...], dict[str, str]]] = []
    metadata = manifest.obj.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("annotations"), dict):
        found.append((("metadata", "annotations"), metadata["annotations"]))
    for pod_path, _ in pod_specs(manifest):
        pod_meta = pod_metadata(manifest, pod_path)
        annotations = pod_meta.get("annotations")
        if isinstance(annotations, dict) and pod_path != ("spec",):
            base = pod_path[:-1] if pod_path[-1] == "spec" else pod_path
            found.append(((*base, "metadata", "annotations") if pod_path[-1] == "spec" else (*base, "annotations"), annotations))
    return found


@check(WAIVER_RULE)
def waiver_invalid(manifests: Manifests, policy: Policy, context: PolicyContext) -> SetFindings:
    """Nothing: invalid waivers are found by ``apply_waivers``, after every other rule, at this rule's severity."""
    return iter(())


def apply_waivers(
    findings: list[Finding], manifests: Sequence[Manifest], catalog: Catalog, context: PolicyContext
) -> list[Finding]:
    waiver_policy = next((p for p in catalog.active() if p.check == WAIVER_RULE), None)
    valid: dict[tuple[str, str, str, str], str] = {}
    extra: list[Finding] = []
    for manifest in manifests:
        ref = manifest.ref
        for path, notes in _annotations(manifest):
            for key, value in sorted(notes.items()):
                if not str(key).startswith(WAIVER_PREFIX):
                    continue
                rule = str(key)[len(WAIVER_PREFIX) :]
                text = str(value)
                untils = _UNTIL.findall(text)
                reason = _UNTIL.sub("", text).strip()
                problem: str | None = None
                if not reason:
                    problem = f"waiver of {rule!r} gives no reason: say why the finding is acceptable"
                elif len(untils) > 1:
                    problem = f"waiver of {rule!r} gives until= {len(untils)} times; give one date"
                elif untils:
                    expiry = parse_date(untils[0])
                    if expiry is None:
                        problem = f"waiver of {rule!r}: until={untils[0][:40]} is not a date (YYYY-MM-DD)"
                    elif expiry < today():
                        problem = f"waiver of {rule!r} expired on {expiry.isoformat()}: fix the finding or renew"
                if rule not in catalog.policies and problem is None:
                    problem = f"waiver names no known rule {rule!r}"
                if problem is None:
                    valid[(ref.kind, ref.namespace, ref.name, rule)] = reason
                elif waiver_policy is not None and waiver_policy.applies_to(manifest, context):
                    extra.append(
                        Finding(
                            rule=waiver_policy.id,
                            severity=waiver_policy.severity,
                            message=problem,
                            object_ref=ref,
                            location=manifest.locate((*path, key), key=True),
                            source=manifest.source,
                            fix=waiver_policy.fix,
                        )
                    )
    result = []
    for finding in findings:
        ref = finding.object_ref
        accepted = valid.get((ref.kind, ref.namespace, ref.name, finding.rule))
        result.append(replace(finding, waiver=accepted) if accepted is not None else finding)
    return result + extra
