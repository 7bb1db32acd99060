"""Reference pages of the documentation site (output/rule_pages.py, kind_pages.py, schema_reference.py) are inert.

Policy files are user data (a repository's own policies): a hostile one must make a page in which nothing acts
(no script, image, comment, link or @mention outside code), read as the site's Markdown renderer reads it.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import markdown

from mlgitops.output.rule_pages import rule_page
from mlgitops.output.schema_reference import fields_table
from mlgitops.policy.catalog import load_policy_file
from tests.support import write

HOSTILE = "<script>alert(1)</script> [link](https://evil.example) ![i](https://evil.example/x.png) @octocat <!-- x --> |"


def _as_html(text: str) -> str:
    return markdown.markdown(text, extensions=["tables", "fenced_code"])


def _assert_inert(page_html: str) -> None:
    """No markup of the hostile text acts: no script, image, comment or link, no @mention outside code."""
    outside_code = re.sub(r"<pre>.*?</pre>|<code>.*?</code>", "CODE", page_html, flags=re.DOTALL)
    for raw in ("<script", "<img", "<!--", "<a ", "@octocat"):
        assert raw not in outside_code, (raw, page_html)


def test_a_hostile_policy_file_makes_an_inert_page(tmp_path: Path) -> None:
    path = write(
        tmp_path / "hostile-rule.yaml",
        f"""title: "{HOSTILE}"
severity: warning
tags: [security]
rationale: "{HOSTILE}"
fix: "{HOSTILE}"
renderFix: "{HOSTILE}"
target: container
schema: {{required: [image]}}
examples:
  pass: ["apiVersion: v1\\nkind: Pod\\nmetadata: {{name: p}}\\nspec: {{containers: [{{name: c, image: i}}]}}\\n"]
  fail: ["apiVersion: v1\\nkind: Pod\\nmetadata: {{name: p}}\\nspec: {{containers: [{{name: c}}]}}\\n# ```\\n# {HOSTILE}\\n"]
""",
    )
    page = rule_page(load_policy_file(path))
    converted = _as_html(page)
    _assert_inert(converted)
    assert "[link](https://evil.example)" in html.unescape(converted)  # shown as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in converted  # shown as text, every time it is printed


def test_hostile_schema_descriptions_make_an_inert_field_table() -> None:
    definition = {
        "properties": {
            "f": {"type": "string", "description": f"{HOSTILE} `code | span`", "pattern": "a|b`", "default": HOSTILE},
        },
        "required": ["f"],
    }
    table = "\n".join(fields_table(definition, lambda name: f"#{name.lower()}"))
    converted = _as_html(table)
    _assert_inert(converted)
    # One row of four cells: no `|` of the text ended a cell; the description's code span stays code.
    assert converted.count("<td>") == 4
    assert "<code>code | span</code>" in html.unescape(converted)
