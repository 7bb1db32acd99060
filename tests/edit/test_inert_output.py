"""What `set` and `promote` print (lines, JSON, the pull-request body, promotion labels) is inert for its medium.

The same hostile strings as tests/output/test_inert.py: values come from environment files and
from the command line, and reach terminals, CI logs and pull-request descriptions.
"""

from __future__ import annotations

import json
import re

import pytest

from mlgitops.edit.session import Applied, Edit
from mlgitops.errors import Location
from mlgitops.review.edit_report import change_lines, change_records
from mlgitops.review.promotion import PromotedField, Promotion
from mlgitops.review.pull_request import EditedValue, pull_request_body
from mlgitops.review.summary import promotion_lines
from mlgitops.spec.paths import MISSING, Item
from tests.output.test_inert import HOSTILE, RAW_CONTROL, _assert_inert_lines, _strip_code

MARKUP = ("@octocat", "<img", "[link]", "![image]", "evil.example", "\x1b", "##[")


def _edit(value: str) -> Edit:
    path = ("workloads", Item(f"serve-{value}"), "image")
    edit = Edit("prod")
    edit.applied = [
        Applied("prod", path, f"before {value}", f"after {value}", Location(f"environments/{value}.yaml", 3, 4)),
        Applied("prod", ("workloads", Item(value), "model", "alias"), value, MISSING, Location("environments/prod.yaml", 9, 7)),
    ]
    return edit


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_change_lines_and_records(value: str) -> None:
    from mlgitops.output.inert import json_document, terminal

    lines = change_lines(_edit(value))
    assert len(lines) == 2
    _assert_inert_lines("\n".join(terminal(line) for line in lines))
    document = json_document({"changes": change_records(_edit(value))})
    _assert_inert_lines(document)
    records = json.loads(document)["changes"]
    assert (records[0]["after"], records[1]["after"], records[1]["removed"]) == (f"after {value}", None, True)


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_pull_request_body_keeps_every_value_in_code(value: str) -> None:
    values = [EditedValue("prod", f"workloads[{value}].image", f"old {value}", f"new {value}", f"environments/{value}.yaml:3")]
    diff = f"--- a/environments/prod.yaml\n+++ b/environments/prod.yaml\n@@ -1 +1 @@\n-image: {value}\n+image: ok\n ```\n"
    body = pull_request_body("Promote staging to prod", values, [], diff, [f"note about {value}"])
    assert not RAW_CONTROL.search(body)
    markup = _strip_code(body)
    assert [marker for marker in MARKUP if marker in markup] == []
    table_rows = [line for line in body.split("\n") if line.startswith("| prod |")]
    assert len(table_rows) == 1
    assert len(re.findall(r"(?<!\\)\|", table_rows[0])) == 6  # five cells: a `|` in a value cannot add one


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_promotion_labels(value: str) -> None:
    promotion = Promotion("prod", ("staging",), (PromotedField(f"workloads[{value}].image", value, f"new {value}"),))
    lines = "\n".join(promotion_lines({"prod": promotion}))
    assert not RAW_CONTROL.search(lines)
    assert [marker for marker in MARKUP if marker in _strip_code(lines)] == []


def test_a_secret_looking_env_var_value_is_never_shown() -> None:
    path = ("workloads", Item("serve"), "env", Item("DB_PASSWORD"), "value")
    edit = Edit("prod")
    edit.applied = [Applied("prod", path, "hunter2", "correct-horse", Location("environments/prod.yaml", 3, 4))]
    shown = "\n".join(change_lines(edit)) + json.dumps(change_records(edit))
    assert "hunter2" not in shown
    assert "correct-horse" not in shown
    assert "<redacted>" in shown
