"""Run the catalog over a set of manifests: match by kind, check targets, locate and waive findings."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from mlgitops.errors import Location
from mlgitops.kube.defaults import Origins, as_run, written_source
from mlgitops.kube.kueue_queues import Queues
from mlgitops.kube.manifest import FieldPath, Manifest
from mlgitops.kube.pods import written_path
from mlgitops.policy.catalog import Catalog
from mlgitops.policy.gitops_signs import run_engines
from mlgitops.policy.message import fill, template_problem
from mlgitops.policy.model import Finding, Policy, PolicyContext, SelectionKey, Target, Violation, selection_key
from mlgitops.policy.quoted import QuotedValues
from mlgitops.policy.redaction import Redaction, redact, redactor
from mlgitops.policy.targets import is_workload, templates
from mlgitops.policy.waivers import apply_waivers
from mlgitops.processes.parallel import Ahead, map_in_two, map_shared

# Manifests x policies from which checking is split over two processes: the whole catalog checks
# ~300 manifests in about the time a fork and the pickled findings cost.
EVALUATE_IN_TWO_FROM = 300 * 30


def targets(manifest: Manifest, kind: str) -> Iterator[Target]:
    """The parts of ``manifest`` a policy with target ``kind`` looks at."""
    if kind == "object":
        yield Target(manifest, manifest.obj, ())
        return
    for template in templates(manifest):
        if kind == "pod":
            yield Target(manifest, template.spec, template.path, partial=template.partial)
            continue
        for container in template.containers:
            wanted = kind == "anyContainer" or (kind == "initContainer") == container.init
            if wanted:
                yield Target(manifest, container.spec, container.path, template.path, partial=template.partial)


def _format(policy: Policy, target: Target, detail: str, value: Any = None) -> str:
    ref = target.manifest.ref
    values = {
        "kind": ref.kind,
        "name": ref.name,
        "target": target.label or f"{ref.kind} {ref.name!r}",
        "detail": detail,
        "value": repr(value) if isinstance(value, (str, int, float, bool)) else "",
        "text": str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else "",
    }
    template = policy.message or "{target}: {detail}"
    if template_problem(template) is not None:
        return f"{template} ({detail})"
    return fill(template, values)


def _schema_violations(policy: Policy, target: Target) -> Iterator[Violation]:
    validator = policy.validator
    if validator.is_valid(target.value):
        return
    from jsonschema.exceptions import best_match

    errors = list(validator.iter_errors(target.value))
    if target.partial:
        # An override of a pod kept elsewhere (a TrainJob's runtime, a Seldon ServerConfig): what it leaves out
        # is set there, at any depth (the override's resources merge into the template's key by key).
        errors = [error for error in errors if error.validator != "required"]
    error = best_match(errors)
    if error is None:
        return  # the two validators disagree (the detailed one decides), or only missing fields of an override
    relative: tuple[Any, ...] = tuple(error.absolute_path)
    locate_at = policy.params.get("locate")
    if isinstance(locate_at, list):
        relative = tuple(locate_at)
    # A field that must not be there, or a mapping that misses one: point at the key that names it.
    at_key = error.validator in ("not", "false", "required") and not locate_at
    detail = error.message
    if error.validator != "required":
        from mlgitops.kube.schema import SchemaProblem, worded

        absolute = (*target.path, *tuple(error.absolute_path))
        problem = SchemaProblem(absolute, error.message, error.instance, str(error.validator), error.validator_value)
        detail = worded(problem, target.manifest.written(written_path(target.manifest.obj, absolute)))
    if error.validator == "required":
        # "'cpu' is a required property" → "cpu": messages then read "does not request cpu" (every
        # field missing from the same mapping at once: "cpu and memory").
        missing = [
            other.message.split("'")[1] if other.message.count("'") >= 2 else other.message
            for other in errors
            if other.validator == "required" and other.absolute_path == error.absolute_path
        ]
        detail = " and ".join(_missing_leaves(name, error.schema) for name in dict.fromkeys(missing))
    yield Violation(_format(policy, target, detail, error.instance), (*target.path, *relative), at_key=at_key)


def _missing_leaves(name: str, schema: Any) -> str:
    """What a missing mapping was required to hold, e.g. resources → "cpu and memory".

    A container without `resources` (or with resources but no `requests`) misses the cpu and
    memory requests themselves; naming the intermediate key would read "does not request requests".
    """
    properties = schema.get("properties") if isinstance(schema, dict) else None
    sub = properties.get(name) if isinstance(properties, dict) else None
    nested = sub.get("required") if isinstance(sub, dict) else None
    if not isinstance(nested, list) or not nested:
        return name
    return " and ".join(_missing_leaves(str(child), sub) for child in nested)


def _by_selection(manifests: Sequence[Manifest], context: PolicyContext) -> dict[SelectionKey, list[int]]:
    """The positions of the manifests of each ``selection_key`` (a few dozen keys for thousands of manifests)."""
    groups: dict[SelectionKey, list[int]] = {}
    for position, manifest in enumerate(manifests):
        groups.setdefault(selection_key(manifest, context), []).append(position)
    return groups


def _applicable(policy: Policy, manifests: Sequence[Manifest], groups: dict[SelectionKey, list[int]]) -> list[Manifest]:
    """The manifests ``policy`` applies to, in order: kinds and environments judged once per key, labels per manifest."""
    positions = sorted(position for key, group in groups.items() if policy.selects(key) for position in group)
    chosen = [manifests[position] for position in positions]
    return [m for m in chosen if policy.matches_labels(m.obj)] if policy.match_labels else chosen


def _policy_violations(
    policy: Policy, manifests: Sequence[Manifest], groups: dict[SelectionKey, list[int]], context: PolicyContext
) -> Iterator[tuple[Manifest, Violation]]:
    applicable = _applicable(policy, manifests, groups)
    if policy.check is not None:
        from mlgitops.policy.checks import registered

        check = registered()[policy.check]
        try:
            found = list(check(applicable, policy, context))
        except (AttributeError, TypeError, ValueError, KeyError, ArithmeticError):
            found = list(_one_by_one(check, applicable, policy, context))
        yield from found
        return
    for manifest in applicable:
        if policy.target != "object" and not is_workload(manifest):
            continue
        for target in targets(manifest, policy.target):
            for violation in _schema_violations(policy, target):
                yield manifest, violation


def _one_by_one(
    check: Any, manifests: list[Manifest], policy: Policy, context: PolicyContext
) -> Iterator[tuple[Manifest, Violation]]:
    """Rerun a check that tripped over a malformed object manifest by manifest, reporting the culprits."""
    for manifest in manifests:
        try:
            yield from list(check([manifest], policy, context))
        except (AttributeError, TypeError, ValueError, KeyError, ArithmeticError) as error:
            yield (
                manifest,
                Violation(
                    f"cannot apply {policy.id} to this malformed {manifest.ref.kind or 'object'} ({type(error).__name__}); "
                    "fix the schema findings first",
                    (),
                ),
            )


def evaluate(
    manifests: Sequence[Manifest],
    catalog: Catalog,
    context: PolicyContext,
    advance: Callable[[int], None] | None = None,
    ahead_of_sources: tuple[Callable[[], object], Callable[[str], bool]] | None = None,
) -> list[Finding]:
    """Every finding of every active policy, waivers applied, in file/line/column order.

    Two steps, each split over two processes where the work pays for it (``processes.parallel``): the
    policies are checked (half of them in a forked child), then the violations are worded and located
    file by file (half of the files in a child), so that each document with findings is composed for
    positions once, in one process, whichever rules found something in it, and a rule with thousands
    of findings does not leave all their locating to one side.

    ``advance(len(manifests))`` is called as each policy is done (for a progress line over
    ``len(catalog.active()) * len(manifests)`` object checks). ``ahead_of_sources`` is (work the caller needs
    after the findings, which files' findings need it): that work runs in this process, once it has found a violation
    in such a file, while the forked child checks more policies (``processes.parallel.Ahead``; not at all when
    nothing is split).
    """
    # Checks that report once per group (a namespace, a claim) report at the first member they meet:
    # a fixed order makes that choice, and so the output, independent of the order files were read in.
    originals: dict[int, tuple[dict[str, Any], Origins]] = {}
    queues = Queues.of((m.obj, m.namespace) for m in manifests)
    manifests = sorted(
        (_defaulted(m, originals, queues) for m in manifests), key=lambda manifest: (manifest.file, manifest.document)
    )
    gitops = context.gitops if context.gitops is not None else catalog.gitops
    context = replace(context, all_manifests=tuple(manifests), gitops=gitops, deployers=run_engines(manifests))
    groups = _by_selection(manifests, context)
    positions = {id(manifest): position for position, manifest in enumerate(manifests)}
    placeholders: dict[int, _Placeholders] = {}

    def policy_violations(policy: Policy) -> list[Found]:
        found = []
        for manifest, violation in _policy_violations(policy, manifests, groups, context):
            position = positions[id(manifest)]
            if policy.id != "placeholder" and manifest.placeholders:
                if position not in placeholders:
                    placeholders[position] = _Placeholders(manifest.placeholders)
                if placeholders[position].about(violation):
                    continue  # rule placeholder notes it once; the value is a template, not a value
            found.append((policy.id, position, violation))
        return found

    # Policies are independent: on a large input they are shared with a forked second process, claimed one by one.
    policies = catalog.active()
    by_file: dict[str, list[Found]] = {}
    weights = _weights(policies, groups)
    ahead: Ahead[list[Found]] | None = None
    if ahead_of_sources is not None:
        prepare, needs = ahead_of_sources
        ahead = Ahead(prepare, lambda found: any(needs(manifests[position].file) for _, position, _ in found))
    shared = map_shared(policy_violations, policies, weights, EVALUATE_IN_TWO_FROM, advance, ahead)
    for found in shared:
        for each in found:
            by_file.setdefault(manifests[each[1]].file, []).append(each)

    def file_findings(violations: list[Found]) -> list[Finding]:
        redactors: dict[int, Redaction | None] = {}
        found = []
        for rule, position, violation in violations:
            manifest = manifests[position]
            policy = catalog.policies[rule]
            if position not in redactors:
                redactors[position] = redactor(manifest)
            found.append(
                Finding(
                    rule=rule,
                    severity=violation.severity or policy.severity,
                    # No finding quotes the value of a secret-looking field (see redaction.py).
                    message=redact(violation.message, redactors[position], violation.path),
                    object_ref=manifest.ref,
                    location=_located(manifest, violation, originals.get(id(manifest))),
                    source=manifest.source,
                    fix=violation.fix or policy.fix,
                    path=violation.path,
                    render_fix=violation.render_fix,
                )
            )
        return found

    files = [by_file[file] for file in sorted(by_file)]
    findings = [
        finding
        for found in map_in_two(file_findings, files, [len(v) for v in files], min_weight=LOCATE_IN_TWO_FROM)
        for finding in found
    ]
    findings = apply_waivers(findings, manifests, catalog, context)
    return sorted(findings, key=lambda finding: finding.sort_key)


Found = tuple[str, int, Violation]
"""A violation found by a policy: the policy's id, the manifest's position in the checked list, the violation."""

# Findings from which wording and locating them is split over two processes: each costs about 0.1 ms
# (composing its document for positions, once per document, is most of it; N = 1000 dirty benchmark corpus).
LOCATE_IN_TWO_FROM = 2000


# A built-in check walks pod templates, volumes and other objects where a schema policy runs one
# compiled validator: measured on the N = 1000 benchmark fleet, about three times the cost per object.
BUILT_IN_CHECK_COST = 3


def _weights(policies: list[Policy], groups: dict[SelectionKey, list[int]]) -> list[int]:
    """An estimate of each policy's work, for ``map_shared`` to hand out the heaviest first: the number of objects
    it selects, times ``BUILT_IN_CHECK_COST`` for a built-in check. Rough (a policy's real cost per object varies
    about sevenfold), which is why the policies are claimed one by one rather than cut into fixed halves."""
    selected = [sum(len(group) for key, group in groups.items() if policy.selects(key)) for policy in policies]
    return [max(count * (BUILT_IN_CHECK_COST if p.check else 1), 1) for count, p in zip(selected, policies, strict=True)]


class _Placeholders:
    """An object's placeholders (``Manifest.placeholders``), for telling the violations about them: by field and by
    value, at a cost that does not grow with their number (an object of thousands of placeholders, each with a
    finding, is not quadratic)."""

    def __init__(self, found: list[tuple[FieldPath, str]]) -> None:
        self.paths = {path for path, _ in found}
        # An object's placeholder name excepted: every finding about the object quotes that.
        self.values = QuotedValues(value for path, value in found if path != ("metadata", "name"))

    def about(self, violation: Violation) -> bool:
        """Whether ``violation`` is about a placeholder: at or within its field, or quoting its value."""
        path = violation.path
        if any(path[:length] in self.paths for length in range(len(path) + 1)):
            return True
        return self.values.in_message(violation.message)


def _defaulted(manifest: Manifest, originals: dict[int, tuple[dict[str, Any], Origins]], queues: Queues) -> Manifest:
    """The manifest as the controllers will run it (``kube.defaults.as_run``): rules judge what reaches the cluster.

    ``originals`` remembers the object as written, and the origins of synthesised fields, by the defaulted
    manifest's id, to locate findings about filled-in values at what the author wrote.
    """
    obj, origins = as_run(manifest.obj, manifest.pod_templates, queues)
    if obj is manifest.obj:
        return manifest
    changed = replace(manifest, obj=obj)
    originals[id(changed)] = (manifest.obj, origins)
    return changed


def _located(manifest: Manifest, violation: Violation, original: tuple[dict[str, Any], Origins] | None) -> Location:
    path = written_path(manifest.obj, violation.path)
    if original is None:
        return manifest.locate(path, key=violation.at_key)
    written = written_source(original[0], path, original[1])
    return manifest.locate(written, key=violation.at_key)
