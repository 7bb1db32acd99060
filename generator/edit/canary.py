"""What `mlgitops set canary` asks for: move a canary's traffic weight, or make its candidate the stable server.

A canary (`canary:` of an llm-serving workload) runs a candidate beside the stable server and the HTTPRoute splits
requests between them by weight. Moving the weight is one value; making the candidate stable copies what the
candidate changes (its image, model and args) onto the server and removes the canary, so the next render rolls the
stable server to the candidate and deletes the candidate's objects.
"""

from __future__ import annotations

from mlgitops.edit.layers import Change
from mlgitops.edit.requests import workload
from mlgitops.errors import UserError
from mlgitops.load.environments import LoadedEnvironment
from mlgitops.spec.paths import MISSING, FieldPath, Item, indices
from mlgitops.yaml.source import locate

CANDIDATE_FIELDS = ("image", "model", "args")
"""What a candidate may change, copied onto the server when it becomes stable."""


def canary_changes(loaded: LoadedEnvironment, name: str, weight: int | None, stable_weight: int | None) -> list[Change]:
    """Set the candidate's weight (and the stable server's, when given); both None: make the candidate stable."""
    spec = workload(loaded, name)
    prefix: FieldPath = ("workloads", Item(name))
    canary = spec.get("canary")
    if not isinstance(canary, dict):
        where = locate(loaded.tree, indices(loaded.tree.plain(), prefix), key=True)[0]
        raise UserError(f"workloads[{name}]: runs no canary (give it `canary: {{weight: N, image: …}}` first)", where)
    if weight is not None or stable_weight is not None:
        changes = []
        if weight is not None:
            changes.append(Change((*prefix, "canary", "weight"), weight))
        if stable_weight is not None:
            changes.append(Change((*prefix, "canary", "stableWeight"), stable_weight))
        return changes
    promoted = [Change((*prefix, key), canary[key]) for key in CANDIDATE_FIELDS if key in canary]
    return [*promoted, Change((*prefix, "canary"), MISSING)]
