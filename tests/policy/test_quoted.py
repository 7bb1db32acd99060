"""QuotedValues answers what a loop over the values and a regular expression that alternates them answered.

``in_message`` is ``any(value in text for value in values)``; ``replaced`` is the alternation redaction used before
issue 30's fourth pass (values escaped, longest first, each standing as a whole word). Hypothesis draws values that
are prefixes of each other, end in or hold non-word characters, and texts made of them, so that every branch of the
length-by-length search meets the definition.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mlgitops.policy.quoted import QuotedValues

# Few characters, so that values overlap, nest and touch: word characters (ASCII and not), separators, quotes.
PIECES = st.sampled_from(["a", "b", "ab", "_", "é", "1", " ", "-", "'", "<", ">", "$", ".", "ß"])
VALUES = st.lists(st.lists(PIECES, min_size=1, max_size=4).map("".join), max_size=8)


def _alternation(values: set[str], text: str, by: str) -> str:
    """Redaction's former definition: one pattern alternating the values, the longest first."""
    if not values:
        return text
    alternatives = "|".join(re.escape(value) for value in sorted(values, key=len, reverse=True))
    return re.sub(rf"(?<![\w]){'(?:' + alternatives + ')'}(?![\w])", by, text)


@given(values=VALUES, data=st.data())
def test_found_and_replaced_as_the_loop_and_the_alternation_did(values: list[str], data: st.DataObject) -> None:
    chosen = {value for value in values if value}
    pieces = [*chosen, "a", " ", "x", "-", "é", "<", "_"]
    text = "".join(data.draw(st.lists(st.sampled_from(pieces), max_size=12)))
    quoted = QuotedValues(chosen)
    assert quoted.in_message(text) == any(value in text for value in chosen)
    assert quoted.replaced(text, "<redacted>") == _alternation(chosen, text, "<redacted>")


def test_cases_the_definition_decides() -> None:
    quoted = QuotedValues(["abc", "ab", "c-d", "'x'", "$TOKEN"])
    # The longest value that stands as a whole word wins; a longer one inside a word does not.
    assert quoted.replaced("abc ab abcd xab c-d", "#") == "# # abcd xab #"
    # A value that ends in a non-word character stands as a word whatever follows a separator.
    assert quoted.replaced("it is 'x', not x", "#") == "it is #, not x"
    assert quoted.replaced("$TOKEN_2 and $TOKEN.", "#") == "$TOKEN_2 and #."
    # Found anywhere, whole word or not.
    assert quoted.in_message("prefix$TOKEN_2")
    assert not quoted.in_message("a b c d")
    assert not QuotedValues([]).in_message("anything")
    assert QuotedValues([""]).replaced("x", "#") == "x"
    assert not QuotedValues([""])
