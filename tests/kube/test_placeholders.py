"""kube/placeholders.py: the C-speed screen in front of the walk never hides a placeholder.

``may_hold_placeholders`` lets the Python walk skip objects (most of a fleet) whose JSON text holds none of the
characters and words a placeholder needs. Property: whenever any string of an object holds a placeholder
(``placeholder``, templates counted, a superset of what the walk reports), the screen says it may. Strings are
built from placeholder fragments, quotes, backslashes, control and non-ASCII characters (what JSON escapes),
in keys as well as values, at any depth.
"""

from __future__ import annotations

import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlgitops.kube.manifest import load_manifests
from mlgitops.kube.placeholders import may_hold_placeholders, placeholder, placeholders

FRAGMENTS = [
    "${VAR}",
    "$HF_TOKEN",
    "<CHANGE ME>",
    "<namespace>",
    "{username}",
    "{$your-domain}",
    "{{ .Values.image }}",
    "YOUR-PVC-NAME",
    "YOUR_BUCKET",
    "Filled By the operator",
    "cHaNgE-Me",
    "replace_me",
    "$(POD_IP)",
    "$request",
    "é",
    "\u2028",
    "\n",
    "\t",
    '"',
    "\\",
    "\x00",
    "{",
    "}",
    "<",
    ">",
    "$",
    "_",
    "-",
    " ",
    "a",
    "Z",
    "9",
    "{}",
    "[]",
]
strings = st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join)
scalars = st.one_of(strings, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
objects = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(strings, children, max_size=4)),
    max_leaves=20,
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, child in value.items() for text in (*_strings(key), *_strings(child))]
    if isinstance(value, list):
        return [text for child in value for text in _strings(child)]
    return []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objects)
def test_the_screen_never_hides_a_placeholder(obj: Any) -> None:
    if any(placeholder(text) is not None for text in _strings(obj)):
        assert may_hold_placeholders(obj)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["image", "claimName", "host", "note"]), strings, min_size=1))
def test_found_placeholders_are_those_of_the_unscreened_walk(spec: dict[str, str]) -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}
    expected = [(("spec", key), value) for key, value in spec.items() if placeholder(value) is not None]
    assert list(placeholders(obj)) == expected


def test_objects_json_cannot_write_are_walked() -> None:
    assert may_hold_placeholders({"when": datetime.date(2026, 1, 1), 1: {(1, 2): "x"}})
    assert list(placeholders({"kind": "Pod", "spec": {"image": "<image>"}, 1: {(1, 2): "x"}})) == [(("spec", "image"), "<image>")]


def test_escaped_spellings_in_the_file_are_found_in_the_value() -> None:
    """A double-quoted escape writes ``$`` and ``<`` without the characters themselves in the text."""
    (manifest,) = load_manifests(
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  image: "\\x24{IMAGE}"\n  host: "\\x3chost>"\n', "p.yaml"
    )
    assert manifest.placeholders == [(("spec", "image"), "${IMAGE}"), (("spec", "host"), "<host>")]


def test_clean_objects_are_screened_out() -> None:
    clean = {"kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"replicas": 2, "x": {}}}
    assert not may_hold_placeholders(clean)


def test_every_character_a_case_insensitive_word_match_takes_for_ascii_is_screened() -> None:
    """``re``'s case-insensitive match takes İ and ı for ``i``: the screen lowers the text, so it looks for those
    two itself. No other code point matches a letter of the words the pattern ignores case for."""
    import re

    letter = re.compile("(?i)[filledbychangemreplace]").fullmatch
    unusual = {chr(cp) for cp in range(0x80, 0x110000) if letter(chr(cp))}
    assert unusual == {"\u0130", "\u0131"}
    for word in ("F\u0130LLED BY the operator", "f\u0131lled by", "CHANGE-ME", "replace_me"):
        assert placeholder(word) is not None
        assert may_hold_placeholders({"image": word})
