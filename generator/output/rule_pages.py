"""Reference pages of the policy catalog: an index of rules and a page per rule.

A rule's page is what `mlgitops explain` and code scanning show (``output/sarif.py`` ``help_markdown``: title,
rationale, fix, a failing and a passing example) under the rule's facts (severity, tags, what it looks at).
Page paths are relative to the documentation folder: ``rules/index.md`` and ``rules/<rule-id>.md``. Policy files
are user data, so every value is made inert (``output/inert.py``); the order is the rules' ids.
"""

from __future__ import annotations

from mlgitops.output import inert
from mlgitops.output.sarif import help_markdown
from mlgitops.policy.catalog import Catalog
from mlgitops.policy.model import Policy

RULES_INDEX = "rules/index.md"


def rule_page_path(rule: str) -> str:
    return f"rules/{rule}.md"


def _facts(policy: Policy) -> list[str]:
    code = inert.markdown_code
    facts = [f"- Severity: {code(policy.severity.value)}"]
    if policy.security_severity is not None:
        facts.append(f"- Security severity (code scanning): {code(policy.security_severity)}")
    if policy.tags:
        facts.append("- Tags: " + ", ".join(code(tag) for tag in policy.tags))
    looks_at = ", ".join(code(kind) for kind in policy.kinds) if policy.kinds else "every object"
    facts.append(f"- Looks at: {looks_at}" + ("" if policy.target == "object" else f" (each {code(policy.target)})"))
    if policy.environments:
        facts.append("- Only in environments: " + ", ".join(code(name) for name in policy.environments))
    return facts


def rule_page(policy: Policy) -> str:
    """One rule's page."""
    lines = [f"# {inert.markdown_text(policy.id)}", "", *_facts(policy), "", help_markdown(policy), ""]
    if policy.render_fix:
        lines += [f"**In environment files:** {inert.markdown_text(policy.render_fix)}", ""]
    lines += [f"Defined in {inert.markdown_code(f'policies/{policy.id}.yaml')}.", ""]
    return "\n".join(lines)


def rules_index(policies: list[Policy]) -> str:
    lines = [
        "# Rules",
        "",
        "The policy catalog: `mlgitops lint` checks every rule, `mlgitops render` the same rules on what it renders.",
        "",
        "| rule | severity | title | tags |",
        "| --- | --- | --- | --- |",
    ]
    for policy in policies:
        tags = ", ".join(inert.markdown_code(tag) for tag in policy.tags)
        lines.append(
            f"| [{inert.markdown_text(policy.id)}]({policy.id}.md) | {policy.severity.value} | "
            f"{inert.markdown_text(policy.title)} | {tags} |"
        )
    return "\n".join([*lines, ""])


def rule_pages(catalog: Catalog) -> dict[str, str]:
    """Every page of the catalog by its path in the documentation folder."""
    policies = [policy for _, policy in sorted(catalog.policies.items())]
    return {RULES_INDEX: rules_index(policies), **{rule_page_path(policy.id): rule_page(policy) for policy in policies}}
