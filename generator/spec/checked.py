"""One workload as the checks of its kind receive it: as written, resolved, where it is, what it mounts, its queue.

The registry of workload kinds (``spec/kinds.py``) names each kind's own checks; ``spec/checks.py`` runs
them on this, after the checks every workload gets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.environment import Environment
from mlgitops.spec.problems import FieldPath, SpecProblem
from mlgitops.spec.storage import Volume

W = TypeVar("W", bound=WorkloadBase, covariant=True)


@dataclass(frozen=True)
class Checked(Generic[W]):
    """A workload under check, of one kind (``W``)."""

    environment: Environment
    written: W
    """The workload as the file says."""
    workload: W
    """The workload with what mlgitops derives filled in (``spec/kinds.py`` resolved()): what is rendered."""
    volumes: dict[str, Volume]
    """The environment's volumes by name."""
    at: FieldPath
    """Where the workload is written, e.g. ('workloads', 2)."""
    queue: str | None
    """The Kueue LocalQueue it is submitted to; None when it is not queued."""

    def located(self, found: list[tuple[FieldPath, str]]) -> list[SpecProblem]:
        """Problems given as (field path, message) pairs."""
        return [SpecProblem(path, message) for path, message in found]


KindCheck = Callable[[Checked[W]], list[SpecProblem]]
"""One check a kind adds to those every workload gets."""
