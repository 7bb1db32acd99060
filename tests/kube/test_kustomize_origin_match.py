"""The written object a built one came from is the same one whether names are compared one by one or looked up.

``kube.kustomize_origin._Written.best_match`` compares the names of up to ``SCANNED_UP_TO`` objects of a kind with the
built name, and looks the parts of the built name up among more (a file of thousands of one kind was quadratic,
issue 30). Hypothesis draws files of names over a small alphabet (so that names nest in each other and repeat) and
built names with prefixes and suffixes; both ways must pick the same object.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgitops.kube import kustomize_origin

NAMES = st.text(alphabet="ab-", max_size=5)


def _object(name: str, kind: str = "Deployment") -> Any:
    return SimpleNamespace(ref=SimpleNamespace(kind=kind, api_version="apps/v1", name=name))


@given(st.lists(st.tuples(NAMES, st.sampled_from(["Deployment", "Service"])), max_size=8), NAMES, NAMES, NAMES)
def test_names_looked_up_pick_what_comparing_them_picks(
    written: list[tuple[str, str]], prefix: str, name: str, suffix: str
) -> None:
    objects = [_object(each, kind) for each, kind in written]
    built = _object(prefix + name + suffix)
    compared = kustomize_origin._Written(objects).best_match(built)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kustomize_origin, "SCANNED_UP_TO", -1)
        looked_up = kustomize_origin._Written(objects).best_match(built)
    assert looked_up is compared
