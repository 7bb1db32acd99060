"""Reference rules (policy/checks/references.py): a claim exists in the set or is declared external."""

from __future__ import annotations

from mlgitops.policy import Catalog
from tests.policy.linting import SERVE_WITH_HPA, _found


def test_claims_exist_in_the_set_or_are_declared_external(catalog: Catalog) -> None:
    assert _found(catalog, SERVE_WITH_HPA, "pvc-reference") == []
    undeclared = SERVE_WITH_HPA.replace("mlgitops.io/external-claims: shared-models", "acme.io/note: none")
    assert [(line, column) for line, column, _ in _found(catalog, undeclared, "pvc-reference")] == [(25, 46)]
