"""The fast reader's screen: which plain tokens it hands to PyYAML, and that what it admits reads alike.

The screen admits, of the plain tokens starting with a character some reader dispatches on, only
shapes every reader takes alike; tests/yaml/test_engine.py compares the two paths on generated
texts, this file pins the shapes: each that YAML 1.1 (PyYAML), YAML 1.2, Go's readers or yaml-rs
read differently is screened in every position, the common shapes of manifests take the fast path,
and every short token over the characters that matter reads alike on both paths.
"""

from __future__ import annotations

import itertools

import pytest

from mlgitops.yaml import fast_reader
from mlgitops.yaml.ambiguity import FIRST_CHARACTERS, disagree, readings
from mlgitops.yaml.engine import fast_engine
from tests.yaml.test_engine import assert_fast_path_agrees

pytestmark = pytest.mark.skipif(fast_engine() is None, reason="yaml-rs has no wheel for this platform")


def positions(token: str) -> list[str]:
    """``token`` as a value, a key, a sequence item, a flow item, a value on its own line and after `---`."""
    return [
        f"k: {token}\n",
        f"{token}: v\n",
        f"- {token}\n",
        f"k: [a, {token}]\n",
        f"k: {{a: {token}}}\n",
        f"k:\n  {token}\n",
        f"--- {token}\n",
        f"- a: {token} # note\n",
    ]


SCREENED = [
    # Numbers with underscores: yaml-rs skips them anywhere, YAML 1.1 after the first digit, Go strips them.
    *["_0", "_1", "__0", "_0_", "1_000", "1_", "1__0", "0x_1F", "0o_7", "0b_1", "-_1", "+_2", "_1.5", "_.5", "1e_3"],
    *["1:30", "-1:30:00", "190:20:30.15", "12:30"],  # base 60 (YAML 1.1), times
    *["0o17", "017", "0b101", "0x1F", "0X1f", "-0x1", "09"],  # octal, binary, hexadecimal
    *["+1", "+0", "+1.5", ".5", "-.5", "1.", "0.", "00", "01.5", "1e3", "1E3", "1.0e+3", "1.5e3", "6.8523015e+5"],
    *["123456789012345678901", "9223372036854775808"],  # past Go's int64 (a float there)
    *[".inf", ".Inf", "-.INF", "+.inf", ".iNf", ".nan", ".NaN", ".NAN", ".nAn"],
    *["~", "Null", "NULL", "nULL", "True", "TRUE", "False", "FALSE", "tRUE"],
    *["y", "Y", "n", "N", "yes", "Yes", "YES", "yEs", "no", "No", "NO", "nO"],
    *["on", "On", "ON", "oN", "off", "Off", "OFF", "oFF"],
    *["=", "<<"],  # PyYAML's value and merge keys
    *["2024-01-01", "2024-1-1", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2026-11-29T03:40:47Z"],
]


@pytest.mark.parametrize("token", SCREENED)
def test_tokens_some_reader_reads_otherwise_are_screened_everywhere(token: str) -> None:
    for text in positions(token):
        assert fast_reader.screen(text) is not None, text
        assert_fast_path_agrees(text)


# The common shapes of manifests: text, canonical numbers and the booleans and null every reader agrees on.
ADMITTED = [
    *["0", "1", "-1", "80", "8080", "123456789012345678", "0.5", "-0.25", "3.14159", "1.0"],
    *["true", "false", "null", "name", "nvidia.com/gpu", "IfNotPresent", "topology.kubernetes.io/zone", "tolerations"],
    *["500m", "4Gi", "1.5Gi", "25%", "30s", "1h30m", "4x4", "2x2x1", "16x16", "8080/TCP", "10.0.0.0/8", "1a2b3c"],
    *["1.4.2", "10.0.0.1", "23.10-py3", "v1.32", "0 2 * * *", "0 */6 * * *"],
    *["--port=8080", "-v", "--", ".spec.replicas", "./run.sh", "../base", "_internal", "__init__", "~/.cache", "==1.2", "<none>"],
    *["yaml", "node", "order", "offline", "tf", "Fargate", "trueish", "nullable"],
]


@pytest.mark.parametrize("token", ADMITTED)
def test_the_common_shapes_take_the_fast_path(token: str) -> None:
    assert not disagree(token)
    for text in positions(token):
        assert fast_reader.screen(text) is None, text
        assert assert_fast_path_agrees(text), text


# The characters readers dispatch on and the ones numbers, dates and words are made of.
SHORT_TOKEN_CHARACTERS = "019_.+-:eExXoObB~=<yYnNtTfF Zi"


def test_every_short_token_reads_alike_on_both_paths() -> None:
    """Every token of up to 2 characters (and the 3-character ones of the number characters), everywhere."""
    tokens = ["".join(chars) for length in (1, 2) for chars in itertools.product(SHORT_TOKEN_CHARACTERS, repeat=length)]
    tokens += ["".join(chars) for chars in itertools.product("09_.-:eExo", repeat=3)]
    fast = 0
    for token in tokens:
        for text in (f"k: {token}\n", f"{token}: v\n", f"- [{token}]\n"):
            fast += assert_fast_path_agrees(text)
    assert fast > 1000  # the screen does not decline them all


def test_tokens_starting_with_any_other_character_are_text_to_every_reader() -> None:
    """The screen judges tokens by their first character: any other first character makes text
    to PyYAML, Go's YAML 1.1 and 1.2 readers and yaml-rs alike, whatever follows."""
    engine = fast_engine()
    assert engine is not None
    for first in "aAbBcCzZ/$(^é\\:":
        assert first not in FIRST_CHARACTERS
        for rest in ("0", "_0", "1e3", ".inf", "es", "0x1F", ":30", "-01-01"):
            token = first + rest
            assert [reading.kind for reading in readings(token)] == ["text"] * 3, token
            assert engine.loads(f"k: {token}\n", parse_datetime=False) == {"k": token}
            assert fast_reader.screen(f"k: {token}\n") is None, token
