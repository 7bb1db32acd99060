"""Recognise a promotion: a change that only gives one environment the images and model versions another already runs.

An environment is *promoted from* another when every field the change alters in its effective
spec is promotable (an image, a registered model's version or alias; see
``spec/promotable.py``), and after the change it holds, in each of those fields, exactly what
the other environment holds, while the other environment's own values did not move in the
same change (a change that bumps staging and prod together is a rollout, not a promotion).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlgitops.spec.paths import MISSING, FieldPath, changed_leaves, get, show
from mlgitops.spec.promotable import is_promotable


@dataclass(frozen=True)
class PromotedField:
    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Promotion:
    """``target`` now runs what ``sources`` run (several when more than one environment matches)."""

    target: str
    sources: tuple[str, ...]
    fields: tuple[PromotedField, ...]

    @property
    def label(self) -> str:
        return f"promotion from {' or '.join(self.sources)}"


def _shown(value: Any) -> Any:
    return None if value is MISSING else value


def promotions(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Promotion]:
    """Environment name → the promotion its change is, for plain effective trees before and after a change."""
    found: dict[str, Promotion] = {}
    for target in sorted(set(before) & set(after)):
        changed = changed_leaves(before[target], after[target])
        if not changed or not all(is_promotable(path, after[target]) for path in changed):
            continue
        sources = tuple(
            source
            for source in sorted(set(before) & set(after))
            if source != target and all(_runs_it(before[source], after[source], after[target], path) for path in changed)
        )
        if sources:
            fields = tuple(
                PromotedField(show(path), _shown(get(before[target], path)), _shown(get(after[target], path))) for path in changed
            )
            found[target] = Promotion(target, sources, fields)
    return found


def _runs_it(source_before: Any, source_after: Any, target_after: Any, path: FieldPath) -> bool:
    value = get(source_after, path)
    return bool(value == get(target_after, path) and value == get(source_before, path))


__all__ = ["PromotedField", "Promotion", "promotions"]
