"""Every reporter, the CLI's error printer and `diff` get the same hostile strings and print them inert.

A pull request controls workload names, file names, label values, policy ids and messages. None of
them may end a line, forge an `error:` line or a GitHub workflow command (`::error …`,
`::stop-commands::`, legacy `##[…]`), drive the terminal (ANSI/OSC escapes), break XML, or turn a
pull-request comment into links, HTML or @mentions.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from decimal import Decimal
from pathlib import Path

import pytest

from mlgitops.errors import Location, UserError, UserErrors
from mlgitops.kube.footprint import Footprint
from mlgitops.kube.manifest import ObjectRef
from mlgitops.output import inert
from mlgitops.output.reporters import REPORTERS
from mlgitops.policy.model import Finding
from mlgitops.policy.severity import Severity
from mlgitops.review.changes import EnvironmentChanges, FieldChange, ObjectChange
from mlgitops.review.summary import FindingNote, Review, as_json, markdown, text
from tests.support import lint_findings, write

HOSTILE = [
    "carriage\rreturn",
    "new\nerror: forged line",
    "::error file=x.yaml,line=1::forged annotation",
    "::stop-commands::token123",
    "  ::warning::indented command",
    "##[error]legacy command",
    "\x1b]0;window title\x07",
    "\x1b[2Jclear screen",
    "\x1b[31mred\x1b[0m",
    "a `backtick` and ``` fence",
    "@octocat please look",
    "<img src=x onerror=alert(1)> <!-- comment --> &amp;",
    "[link](https://evil.example) ![image](https://evil.example/x.png)",
    "pipe | in | table",
    "line\u2028separator\u2029paragraph",
    "nul\x00byte and \x7fdel and \x85nel",
    "]]> cdata end",
    "bidi \u202egnp.exe\u202c and isolate \u2066x\u2069 and arabic mark \u061c",
    "zero\u200bwidth\u200cjoiner\u200d word\u2060joiner \ufeffbom soft\u00adhyphen",
    "noncharacters \ufffe\uffff\ufdd0 and \U0010fffe",
    "tags \U000e0041\U000e0042 and filler \u3164 and selector \ufe0f",
]
EVERYTHING = " ".join(HOSTILE)
# Characters that must never reach a terminal, a CI log or a diff raw: line breaks but \n, controls, and what
# reorders or hides text (the one definition, output/inert.py).
RAW_CONTROL = re.compile(f"[{inert.HIDDEN.replace(chr(10), '')}]".replace("\x00-\x1f", "\x00-\x09\x0b-\x1f"))


def _finding(value: str, waived: bool = False) -> Finding:
    return Finding(
        rule=f"rule-{value}",
        severity=Severity.ERROR,
        message=f"message {value}",
        object_ref=ObjectRef("v1", "ConfigMap", f"ns-{value}", f"name-{value}"),
        location=Location(f"dir/{value}.yaml", 3, 4),
        source=Location(f"environments/{value}.yaml", 1, 2),
        waiver=f"reason {value}" if waived else None,
        fix=f"fix {value}",
    )


def _assert_inert_lines(output: str) -> None:
    """Each line of a terminal/CI-log output: no raw control character, no workflow command."""
    for line in output.split("\n"):
        assert not RAW_CONTROL.search(line), repr(line)
        assert not line.lstrip().startswith("::") or line.startswith(("::error ", "::warning ", "::notice ")), repr(line)
        assert "##[" not in line, repr(line)


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_text_reporter(value: str) -> None:
    output = REPORTERS["text"]([_finding(value), _finding(value, waived=True)], {})
    assert output.count("\n") == 4  # two findings, each with its "from" line
    _assert_inert_lines(output)
    assert not any(line.lstrip().startswith("::") for line in output.splitlines())


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_github_reporter(value: str) -> None:
    output = REPORTERS["github"]([_finding(value), _finding(value, waived=True)], {})
    lines = output.split("\n")
    assert lines[-1] == ""
    assert len(lines) == 3
    for line in lines[:-1]:
        _, properties, data = re.fullmatch(r"::(error|notice) ([^:]*)::(.*)", line).groups()  # type: ignore[union-attr]
        assert "\r" not in data
        assert "\n" not in data
        assert not RAW_CONTROL.search(line)
        # Properties are one comma-separated list: a value cannot add or end one.
        assert [part.split("=")[0] for part in properties.split(",")] == ["file", "line", "col", "title"]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_json_reporter_keeps_values_exactly(value: str) -> None:
    output = REPORTERS["json"]([_finding(value)], {})
    _assert_inert_lines(output)
    (loaded,) = lint_findings(output)
    assert loaded["message"] == f"message {value}"  # JSON is inert by construction, and exact


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_sarif_reporter(value: str) -> None:
    output = REPORTERS["sarif"]([_finding(value), _finding(value, waived=True)], {})
    _assert_inert_lines(output)
    log = json.loads(output)
    for result in log["runs"][0]["results"]:
        message = result["message"]["text"]
        assert not RAW_CONTROL.search(message)
        # The one embedded link is ours: to the rendered file (relatedLocations id 1), its text escaped too.
        own_link = re.search(r" \(rendered at \[((?:\\.|[^\]\\])*)\]\(1\)\)$", message)
        if own_link is not None:
            assert result["relatedLocations"][0]["id"] == 1
            message = message[: own_link.start()] + own_link.group(1)
        assert not re.search(r"(?<!\\)\[", message), message  # no other embedded link can start
        for suppression in result.get("suppressions", []):
            assert not RAW_CONTROL.search(suppression["justification"])


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_junit_reporter_is_well_formed_xml(value: str) -> None:  # U+FFFE and U+FFFF included
    output = REPORTERS["junit"]([_finding(value), _finding(value, waived=True)], {})
    _assert_inert_lines(output)
    root = ElementTree.fromstring(output)
    cases = root.findall(".//testcase")
    assert len(cases) == 2
    assert cases[0].get("classname") == inert.terminal(f"rule-{value}")


def _strip_code(markdown_text: str) -> str:
    """The Markdown with every fenced block and code span removed: what GitHub would render as markup."""
    lines = markdown_text.split("\n")
    kept: list[str] = []
    fence: str | None = None
    for line in lines:
        if fence is not None:
            if line == fence:
                fence = None
            continue
        opening = re.fullmatch(r"(`{3,})\w*", line)
        if opening:
            fence = opening.group(1)
            continue
        kept.append(line)
    text = "\n".join(kept)
    out: list[str] = []
    index = 0
    while index < len(text):
        run = re.match(r"`+", text[index:])
        if run is None:
            out.append(text[index])
            index += 1
            continue
        width = len(run.group())
        closing = re.compile(rf"(?<!`)`{{{width}}}(?!`)")
        end = closing.search(text, index + width)
        assert end is not None, f"unclosed code span at {text[index : index + 40]!r}"
        index = end.end()
        out.append("CODE")
    return "".join(out)


def _review(value: str) -> Review:
    fields = [FieldChange(f"spec.template.spec.containers[{value}].image", f"before {value}", f"after {value}", "image")]
    change = ObjectChange("Deployment", f"serve-{value}", "changed", f"old-{value}", fields)
    environment = EnvironmentChanges("dev", [change, ObjectChange("Job", value, "added")], Footprint(), Footprint())
    environment.after.cpu = Decimal(1)
    note = FindingNote(f"rule-{value}", Severity.ERROR, f"message {value}", f"rendered/{value}.yaml:1:1", "dev")
    diff = f"--- a/rendered/dev/x.yaml\n+++ b/rendered/dev/x.yaml\n@@ -1 +1 @@\n-name: {value}\n+name: ok\n ```\n"
    return Review(f"base-{value}", [environment], [note], [note], diff)


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_diff_markdown_keeps_every_value_in_code(value: str) -> None:
    output = markdown(_review(value))
    assert not RAW_CONTROL.search(output)
    rendered_as_markup = _strip_code(output)
    for marker in ("@octocat", "<img", "<!--  comment", "[link]", "![image]", "evil.example", "\x1b", "##["):
        assert marker not in rendered_as_markup, (marker, rendered_as_markup)
    # Our own structure is intact: the comment marker, the headings and the details block.
    assert output.startswith("<!-- mlgitops-diff -->\n## mlgitops: what this change deploys\n")
    assert "\n</details>\n" in output


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_markdown_prose_is_one_inert_line_whose_code_spans_stay_code(value: str) -> None:
    import markdown

    shown = inert.markdown_prose(f"{value} then `a code span` and\nmore")
    assert "\n" not in shown
    assert not RAW_CONTROL.search(shown)
    if "`" not in value:  # backticks of the value pair up with ours
        assert shown.endswith("`a code span` and more")
    # As a Markdown renderer (Python-Markdown, the documentation site's) reads it: no markup outside code spans.
    rendered = markdown.markdown(shown)
    outside_code = re.sub(r"<code>.*?</code>", "CODE", rendered)
    for marker in ("<img", "<!--", "<a ", "@octocat", "<script", "\x1b"):
        assert marker not in outside_code, (marker, rendered)


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_diff_text_and_json(value: str) -> None:
    _assert_inert_lines(text(_review(value)))
    document = as_json(_review(value))
    _assert_inert_lines(document)
    assert json.loads(document)["environments"][0]["objects"][1]["name"] == value


def test_the_error_printer_prints_one_inert_line_per_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlgitops.cli

    errors = UserErrors([UserError(f"bad {value}", Location(f"{value}.yaml", 1, 1)) for value in HOSTILE])

    def refuse(**_: object) -> None:
        raise errors

    # Whatever command raised them, cli is the one place that prints user errors and exits 2.
    monkeypatch.setattr(mlgitops.cli.cli, "main", refuse)
    with pytest.raises(SystemExit) as stopped:
        mlgitops.cli.main([])
    assert stopped.value.code == 2
    lines = capsys.readouterr().err.split("\n")
    assert lines[-1] == ""
    assert len(lines) - 1 == len(HOSTILE)
    assert all(line.startswith("error: ") for line in lines[:-1])
    _assert_inert_lines("\n".join(lines))


def test_a_hostile_manifest_linted_in_every_format(tmp_path: Path) -> None:
    from tests.test_bad_inputs import run_forked

    # YAML's double-quoted escapes carry every control character into names and values.
    name = '"x\\r\\n::error file=a::forged\\e]0;t\\a\\e[2J`@octocat`<b>"'
    write(
        tmp_path / "hostile ::error::.yaml",
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: ml\n"
        f"spec:\n  containers:\n    - name: {name}\n      image: busybox\n",
    )
    for output_format in ("text", "json", "sarif", "junit", "github"):
        result = run_forked("lint", ".", "--format", output_format, cwd=tmp_path)
        assert result.exit_code == 1, result.stderr
        _assert_inert_lines(result.stdout + result.stderr)
        if output_format == "junit":
            ElementTree.fromstring(result.stdout)
        elif output_format == "json":
            lint_findings(result.stdout)
        elif output_format == "sarif":
            json.loads(result.stdout)


def test_usage_errors_quote_arguments_inertly(tmp_path: Path) -> None:
    from tests.test_bad_inputs import run_forked

    result = run_forked("lint", "--format", "x\x1b]0;t\x07\n::error::forged", cwd=tmp_path)
    assert result.exit_code == 2
    _assert_inert_lines(result.stderr)
    assert "Invalid value for '-o' / '--output-format' / '--format'" in result.stderr


def test_every_character_that_hides_reorders_or_breaks_a_medium_is_escaped_and_nothing_else() -> None:
    """Exhaustive over Unicode: categories Cc, Cf, Cs, Zl, Zp and the noncharacters are escaped; letters, marks,
    symbols, spaces and emoji of every script pass unchanged (UnicodeData of the running Python)."""
    import sys
    import unicodedata

    noncharacters = {*range(0xFDD0, 0xFDF0), *(plane << 16 | low for plane in range(17) for low in (0xFFFE, 0xFFFF))}
    invisible = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, *range(0x180B, 0x1810), *range(0xFE00, 0xFE10)}
    invisible |= {*range(0xE0000, 0xE1000)}
    wrong = []
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        must = code in noncharacters or code in invisible or unicodedata.category(character) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        shown = inert.terminal(character)
        # Unassigned code points inside the escaped blocks (reserved for more format characters) may be escaped too.
        if (must and shown == character) or (not must and shown != character and unicodedata.category(character) != "Cn"):
            wrong.append(f"U+{code:04X} {unicodedata.category(character)}")
        elif must:
            assert shown.startswith("\\")
            assert shown.isascii()
    assert wrong == []


@pytest.mark.parametrize("seed", range(5))
def test_random_text_in_every_medium_is_inert_and_json_exact(seed: int) -> None:
    """Seeded random strings mixing every kind of character: each medium stays inert, XML well-formed, JSON exact."""
    import random

    generator = random.Random(seed)
    pools = [
        "abc :#@[]`|<>&",
        "\n\r\t\x1b\x00\x7f\x85",
        "\u061c\u200b\u200f\u202e\u2066\u2069\ufeff\u2028",
        "\ufffe\uffff\ufdd0\ud800\U000e0041\U0010ffff",
        "éß中😀\u0301",
    ]
    for _ in range(200):
        value = "".join(generator.choice(generator.choice(pools)) for _ in range(generator.randrange(1, 30)))
        line = inert.terminal(value)
        assert not RAW_CONTROL.search(line), repr(value)
        assert "\n" not in line
        finding = _finding(value)
        ElementTree.fromstring(REPORTERS["junit"]([finding], {}))
        _assert_inert_lines(REPORTERS["github"]([finding], {}))
        assert lint_findings(REPORTERS["json"]([finding], {}))[0]["message"] == f"message {value}"
        assert not RAW_CONTROL.search(inert.markdown_code(value) + inert.markdown_text(value) + inert.sarif_text(value))
        assert not RAW_CONTROL.search(inert.markdown_prose(value))


def test_render_check_shows_hidden_characters_of_a_stale_file_as_escapes(tmp_path: Path) -> None:
    import shutil

    from tests.support import REPO
    from tests.test_bad_inputs import run_forked

    shutil.copytree(REPO / "environments", tmp_path / "environments")
    shutil.copytree(REPO / "rendered", tmp_path / "rendered")
    stale = tmp_path / "rendered" / "dev" / "kustomization.yaml"
    stale.write_text(stale.read_text() + "# a\u202eb\u200bc\u061cd \ufffe\n", encoding="utf-8")
    result = run_forked("render", "--check", cwd=tmp_path)
    assert result.exit_code == 1
    assert "-# a\\u202eb\\u200bc\\u061cd \\ufffe" in result.stdout
    _assert_inert_lines(result.stdout + result.stderr)
