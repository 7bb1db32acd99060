"""The environments an edit changes, rendered before and after in memory: what to write, diff and summarise.

Only the affected environments are rendered (as `render --env NAME` would): an edit of images,
models, replicas or resources leaves the ArgoCD/Flux folders as they are, and environments the
edit does not touch keep whatever state they are in, so a promotion never carries unrelated
changes into its pull request.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlgitops.fleet.build import EnvironmentOutput
from mlgitops.fleet.run import RenderedFleet, render_fleet, wanted_files
from mlgitops.load.environments import LoadedEnvironment


@dataclass
class Rerendered:
    """The affected environments' outputs before and after the edit, and the folders to write."""

    before: dict[str, EnvironmentOutput]
    """Only when asked for (a pull-request description compares them); empty otherwise."""
    after: RenderedFleet
    wanted: dict[str, dict[str, str]]
    """rendered/<env>/ folder → file → text, for the affected environments only."""


def rerender(
    before: dict[str, LoadedEnvironment],
    after: dict[str, LoadedEnvironment],
    affected: list[str],
    output_dir: Path,
    policy_dirs: list[Path],
    *,
    with_before: bool = False,
) -> Rerendered:
    """Render ``affected`` as the edit leaves them (``after``) and, ``with_before``, as they are (``before``)."""
    fleet = render_fleet([after[name] for name in affected], output_dir, policy_dirs)
    previous = render_fleet([before[name] for name in affected], output_dir, policy_dirs).outputs if with_before else []
    return Rerendered(
        before={output.name: output for output in previous},
        after=fleet,
        wanted=wanted_files(fleet.outputs, gitops=False),
    )


__all__ = ["Rerendered", "rerender"]
