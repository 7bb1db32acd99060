"""The syncers deploying a folder are the same whether every wildcard pattern is tried or only the likely ones.

``policy.checks.syncers._FolderIndex`` files a wildcard folder pattern (an ApplicationSet's ``teams/t5/*`` or
``team-5-*/prod``) under its rarest key: a literal segment, or a segment's literal prefix or suffix, in its place from
the end; a folder tries only the patterns filed under one of its own keys (every folder tried every wildcard syncer:
N ApplicationSets over N folders was quadratic, issue 30). A pattern whose slash may be inside a ``[...]`` set is
tried for every folder. Hypothesis draws syncers with literal, wildcard, set and root patterns over a small alphabet
and folders that have those segments, prefixes and suffixes; the index must answer what ``Syncer.depth`` of every
syncer answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mlgitops.policy.checks.syncers import Syncer, _FolderIndex
from tests.support import run_in_process, write

SEGMENTS = st.sampled_from(
    [
        *["a", "b", "ab", "*", "?", "a*", "[ab]", "[/]", "", "a?b"],
        # literal prefixes and suffixes around wildcards and sets, unclosed sets, sets holding a slash or a ']'
        *["ab*", "*b", "a[b]", "[!a]b", "a[", "]a*", "x*y", "[]/]", "a[/", "[!]/]", "[.-0]", "b]", "*]b", "a[]b]"],
    ]
)
PATTERNS = st.lists(SEGMENTS, min_size=0, max_size=3).map("/".join)
FOLDERS = st.lists(
    st.sampled_from(["a", "b", "ab", "a/b", "x", "abb", "bb", "xy", "xaby", "ba", "a[", "]ab", "]a", "b]", "]b", "ab]b", ""]),
    max_size=4,
).map("/".join)


def _syncer(patterns: list[str], own: str) -> Syncer:
    manifest: Any = SimpleNamespace(file=f"{own}/app.yaml" if own else "app.yaml")
    return Syncer(manifest, tuple(patterns))


# Cases a looser index got wrong: a set holding the slash (the pattern's segments are not the folder's), a set's ']'
# taken for a literal suffix, one prefix of many sharing a literal segment.
@example([(["a[/]b"], "")], ["a/b"])
@example([(["*/[!]/]"], "")], ["a/a/b"])
@example([(["[ab]"], "")], ["a"])
@example([(["team-1-*/prod"], ""), (["team-2-*/prod"], ""), (["*/prod"], "")], ["team-2-x/prod", "prod"])
@given(
    st.lists(st.tuples(st.lists(PATTERNS, min_size=1, max_size=2), FOLDERS), max_size=6),
    st.lists(FOLDERS, min_size=1, max_size=3),
)
def test_the_index_finds_the_syncers_trying_every_one_finds(syncers: list[tuple[list[str], str]], places: list[str]) -> None:
    made = [_syncer(patterns, own) for patterns, own in syncers]
    index = _FolderIndex(made)
    for place in places:
        depths = [syncer.depth(place) for syncer in made]
        best = max(depths, default=-1)
        expected = [syncer for syncer, depth in zip(made, depths, strict=True) if depth == best >= 0]
        assert index.closest(place) == expected, place


@given(
    st.lists(
        st.tuples(st.lists(st.tuples(PATTERNS, st.lists(PATTERNS, max_size=2)), min_size=1, max_size=2), FOLDERS), max_size=5
    ),
    st.lists(FOLDERS, min_size=1, max_size=3),
)
def test_excluded_folders_are_left_out_whichever_way_syncers_are_found(
    syncers: list[tuple[list[tuple[str, list[str]]], str]], places: list[str]
) -> None:
    """A git generator's ``exclude: true`` directories take precedence over its others (Argo CD): the index answers
    what ``Syncer.depth`` answers, and no pattern deploys a folder one of its generator's excludes matches."""
    made = []
    for patterns, own in syncers:
        manifest: Any = SimpleNamespace(file=f"{own}/app.yaml" if own else "app.yaml")
        made.append(Syncer(manifest, tuple(p for p, _ in patterns), tuple(tuple(e) for _, e in patterns)))
    index = _FolderIndex(made)
    for place in places:
        depths = [syncer.depth(place) for syncer in made]
        best = max(depths, default=-1)
        assert index.closest(place) == [s for s, depth in zip(made, depths, strict=True) if depth == best >= 0], place
        for syncer, depth in zip(made, depths, strict=True):
            kept = [
                Syncer(syncer.manifest, (p,)).depth(place)
                for p, e in zip(syncer.patterns, syncer.excluded, strict=True)
                # an exclude of as many segments as the include, matching the path the include matched
                if not any(x and x.count("/") == p.count("/") and Syncer(syncer.manifest, (x,)).depth(place) >= 0 for x in e)
                or not p
            ]
            assert depth == max(kept, default=-1)


APPLICATION_SET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: teams, namespace: argocd}
spec:
  generators:
  - git:
      repoURL: https://git.example/ml.git
      revision: HEAD
      directories:
      - path: teams/*
      - path: teams/legacy
        exclude: true
  template:
    metadata: {name: '{{path.basename}}'}
    spec:
      project: default
      source: {repoURL: 'https://git.example/ml.git', path: '{{path}}'}
      destination: {server: 'https://kubernetes.default.svc'}
"""


@pytest.mark.parametrize(
    ("exclude", "excluded"),
    [
        ("teams/legacy", True),
        ("teams/leg*", True),
        # Argo CD matches the repository path with Go's path.Match, whose * takes no '/': these match no teams/x path.
        ("legacy", False),
        ("*", False),
        ("*/legacy/*", False),
    ],
)
def test_a_queued_job_in_a_folder_the_application_set_excludes_is_not_re_suspended_by_it(
    tmp_path: Path, exclude: str, excluded: bool
) -> None:
    write(tmp_path / "argo" / "teams.yaml", APPLICATION_SET.replace("path: teams/legacy", f"path: '{exclude}'"))
    job = (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j, namespace: {team}, labels: {{kueue.x-k8s.io/queue-name: q}}}}\n"
        "spec:\n  suspend: true\n  template:\n    spec:\n      restartPolicy: Never\n"
        "      containers: [{{name: c, image: 'ghcr.io/acme/app:1.0'}}]\n"
    )
    for team in ("vision", "legacy"):
        write(tmp_path / "teams" / team / "job.yaml", job.format(team=team))
    result = run_in_process("lint", "-o", "json", str(tmp_path))
    found = {
        f["location"]["file"].rsplit("/", 2)[1]: f["message"]
        for f in json.loads(result.stdout)["findings"]
        if f["rule"] == "queued-suspend"
    }
    assert "Argo CD ApplicationSet 'teams' syncs it" in found["vision"]
    # Excluded: only the warning that any re-apply suspends it again.
    assert ("Argo CD ApplicationSet 'teams' syncs it" in found["legacy"]) is not excluded
