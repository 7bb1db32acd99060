"""The syncers deploying a folder are the same whether every wildcard pattern is tried or only the likely ones.

``policy.checks.syncers._FolderIndex`` files a wildcard folder pattern (an ApplicationSet's ``teams/t5/*``) under its
last literal segment, and tries for a folder only the patterns whose literal segment the folder has in that place
(every folder tried every wildcard syncer: N ApplicationSets over N folders was quadratic, issue 30). Hypothesis draws
syncers with literal, wildcard and root patterns over a small alphabet and folders; the index must answer what
``Syncer.depth`` of every syncer answers.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mlgitops.policy.checks.syncers import Syncer, _FolderIndex

SEGMENTS = st.sampled_from(["a", "b", "ab", "*", "?", "a*", "[ab]", "[/]", "", "a?b"])
PATTERNS = st.lists(SEGMENTS, min_size=0, max_size=3).map("/".join)
FOLDERS = st.lists(st.sampled_from(["a", "b", "ab", "a/b", "x"]), max_size=4).map("/".join)


def _syncer(patterns: list[str], own: str) -> Syncer:
    manifest: Any = SimpleNamespace(file=f"{own}/app.yaml" if own else "app.yaml")
    return Syncer(manifest, tuple(patterns))


@given(st.lists(st.tuples(st.lists(PATTERNS, min_size=1, max_size=2), FOLDERS), max_size=6), FOLDERS)
def test_the_index_finds_the_syncers_trying_every_one_finds(syncers: list[tuple[list[str], str]], place: str) -> None:
    made = [_syncer(patterns, own) for patterns, own in syncers]
    depths = [syncer.depth(place) for syncer in made]
    best = max(depths, default=-1)
    expected = [syncer for syncer, depth in zip(made, depths, strict=True) if depth == best >= 0]
    assert _FolderIndex(made).closest(place) == expected
