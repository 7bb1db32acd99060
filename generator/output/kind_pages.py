"""Reference pages of the environment file: one per workload kind, the file's top level, and every field type.

Each kind's page is its row of the registry (``spec/kinds.py`` KINDS: component label, priority class, name
rule, Kueue, Karpenter, DRA) and the fields of its model as the environment's JSON Schema describes them
(``load/editor_schema.py``, the schema after ``extends:`` is merged, so required fields are marked). Page paths
are relative to the documentation folder: ``kinds/index.md``, ``kinds/<kind>.md``, ``schema/index.md``,
``schema/types.md``. Output is deterministic (registry and schema order) and inert (``output/inert.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlgitops.kube.names import dns1035_label_problem, dns1123_label_problem
from mlgitops.load.editor_schema import environment_file_schema
from mlgitops.output import inert
from mlgitops.output.schema_reference import Link, anchor, fields_table, paragraphs
from mlgitops.spec.kinds import KINDS, KindSpec

KINDS_INDEX = "kinds/index.md"
ENVIRONMENT_PAGE = "schema/index.md"
TYPES_PAGE = "schema/types.md"

_NAME_RULES: dict[Callable[[str, int], str | None], str] = {
    dns1123_label_problem: "a DNS-1123 label (lowercase letters, digits and `-`)",
    dns1035_label_problem: "a DNS-1035 label (a DNS-1123 label that starts with a letter, as Services require)",
}


def kind_page_path(kind: str) -> str:
    return f"kinds/{kind}.md"


def _kinds_by_model() -> dict[str, str]:
    return {row.model.__name__: row.kind for row in KINDS.values()}


def _link_from(folder: str) -> Link:
    """Links from a page in ``folder`` (``kinds`` or ``schema``): a kind's model to its page, any other to the types page."""
    kinds = _kinds_by_model()

    def link(name: str) -> str:
        if name in kinds:
            return f"{kinds[name]}.md" if folder == "kinds" else f"../{kind_page_path(kinds[name])}"
        return f"{'types.md' if folder == 'schema' else '../' + TYPES_PAGE}#{anchor(name)}"

    return link


def _facts(row: KindSpec[Any]) -> list[str]:
    rule = row.name_rule
    standard = _NAME_RULES.get(rule.problem_of, rule.problem_of.__name__)
    name = f"{inert.markdown_prose(standard)} of at most {rule.limit} characters"
    if rule.why:
        name += f" ({inert.markdown_prose(rule.why)})"
    facts = [
        f"- `kind: {inert.terminal(row.kind)}` in an environment's `workloads:`",
        f"- Its objects carry `app.kubernetes.io/component: {inert.terminal(row.component)}`; its pods get the "
        f"environment's `priorities.{inert.terminal(row.priority)}` priority class.",
        f"- Its name is {name}.",
        "- Kueue queues it (it names a `queue`, or takes `kueue.defaultQueue`)." if row.queued else "- Kueue does not queue it.",
    ]
    if row.do_not_disrupt:
        facts.append('- Its pods run to completion: they carry `karpenter.sh/do-not-disrupt: "true"`.')
    if row.main_container:
        facts.append(f"- Its main container is named {inert.markdown_code(row.main_container)}.")
    if row.dra_refusal is not None:
        reason = (row.dra_refusal.__doc__ or "").strip().split("\n")[0]
        facts.append(f"- DRA devices: refused where the check says so ({inert.markdown_prose(reason)}).")
    return facts


def kind_page(row: KindSpec[Any], schema: dict[str, Any]) -> str:
    """One kind's page: what it is, its registry facts, its fields."""
    definition = schema["$defs"][row.model.__name__]
    lines = [f"# {inert.markdown_text(row.kind)}", "", *paragraphs(definition.get("description", "")), ""]
    lines += ["## At a glance", "", *_facts(row), "", "## Fields", "", *fields_table(definition, _link_from("kinds")), ""]
    return "\n".join(lines)


def kinds_index(schema: dict[str, Any]) -> str:
    lines = [
        "# Workload kinds",
        "",
        "Every workload of an environment file names its `kind:`; each kind renders its own objects.",
        "",
        "| kind | what it is |",
        "| --- | --- |",
    ]
    for row in KINDS.values():
        description = schema["$defs"][row.model.__name__].get("description", "").strip().split("\n\n")[0]
        lines.append(f"| [{inert.markdown_text(row.kind)}]({row.kind}.md) | {inert.markdown_prose(description)} |")
    return "\n".join([*lines, ""])


def environment_page(schema: dict[str, Any]) -> str:
    """The top level of an environment file."""
    lines = ["# Environment file", "", *paragraphs(schema.get("description", "")), ""]
    lines += [
        f"Field types are on [Field types](types.md); workload kinds on [Workload kinds](../{KINDS_INDEX}).",
        "",
        "## Fields",
        "",
        *fields_table(schema, _link_from("schema")),
        "",
    ]
    return "\n".join(lines)


def types_page(schema: dict[str, Any]) -> str:
    """Every object type of the environment file other than the workload kinds (which have their own pages)."""
    kinds = _kinds_by_model()
    link = _link_from("schema")
    lines = ["# Field types", "", "The objects that fields of an environment file hold, by name.", ""]
    for name, definition in sorted(schema["$defs"].items()):
        if name in kinds:
            continue
        lines += [f"## {inert.markdown_text(name)}", "", *paragraphs(definition.get("description", "")), ""]
        lines += [*fields_table(definition, link), ""]
    return "\n".join(lines)


def kind_pages() -> dict[str, str]:
    """Every page of this module by its path in the documentation folder."""
    schema = environment_file_schema(layered=False)
    pages = {KINDS_INDEX: kinds_index(schema)}
    pages.update({kind_page_path(row.kind): kind_page(row, schema) for row in KINDS.values()})
    pages[ENVIRONMENT_PAGE] = environment_page(schema)
    pages[TYPES_PAGE] = types_page(schema)
    return pages
