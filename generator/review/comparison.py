"""Render the working tree and a git revision, and compare them environment by environment."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput
from mlgitops.fleet.cost import EnvironmentCost, environment_cost
from mlgitops.load.environments import load_environments
from mlgitops.paths import displayed_as, shown_path
from mlgitops.review.changes import compare_environment
from mlgitops.review.git_tree import checkout_folder, default_base, repository_root, resolve_revision
from mlgitops.review.promotion import promotions
from mlgitops.review.summary import FindingNote, Review

Built = tuple[dict[str, EnvironmentOutput], list[FindingNote], dict[str, Any], dict[str, EnvironmentCost]]


def _build_all(folder: Path) -> Built:
    """Every environment's output, its policy findings (as the summary shows them), its effective spec tree and
    its cost figures."""
    from mlgitops.fleet.run import render_fleet

    loaded = load_environments(folder)
    fleet = render_fleet(loaded, Path("rendered"), [])
    notes = [
        FindingNote(f.rule, f.severity, f.message, str(f.location), environment)
        for environment, findings in fleet.findings_by_environment.items()
        for f in findings
        if f.waiver is None
    ]
    pools = {item.name: item.spec.cluster.node_pools for item in loaded}
    costs = {output.name: environment_cost([item.obj for item in output.objects], pools[output.name]) for output in fleet.outputs}
    return {output.name: output for output in fleet.outputs}, notes, {item.name: item.tree.plain() for item in loaded}, costs


def _identity(note: FindingNote) -> tuple[str, str, str]:
    # Jobs carry a content hash in their name: compare findings by rule, environment and message shape.
    return note.environment, note.rule, re.sub(r"-[0-9a-f]{8}\b", "", note.message)


def review_change(environments_dir: Path, base_ref: str | None) -> Review:
    """The Review of the working tree's environments against ``base_ref`` (default: merge base)."""
    from mlgitops.output.file_diff import unified

    repo = repository_root(environments_dir if environments_dir.is_dir() else Path.cwd())
    base = base_ref or default_base(repo)
    resolve_revision(repo, base)
    # A change may remove the whole fleet (no folder here) or add the first one (none at the base):
    # everything is then reported as removed or added.
    here = environments_dir.is_dir()
    after, after_findings, after_specs, after_costs = _build_all(environments_dir) if here else ({}, [], {}, {})
    relative = os.path.relpath(environments_dir.resolve(), repo.resolve()).replace(os.sep, "/")
    with tempfile.TemporaryDirectory(prefix="mlgitops-diff-") as scratch:
        folder = Path(scratch) / "environments"
        try:
            with displayed_as(folder, shown_path(environments_dir)):
                there = checkout_folder(repo, base, relative, folder)
                before, before_findings, before_specs, before_costs = _build_all(folder) if there else ({}, [], {}, {})
        except UserError as error:
            raise UserError(f"the environments at {base} do not render: {error.one_line()}") from None
    if not here and not there:
        raise UserError(
            f"environments folder {shown_path(environments_dir)!r} exists neither in the working tree nor at {base} "
            "(run from the repository root, or pass --environments-dir DIR)"
        )
    environments = []
    file_diff = []
    for name in sorted(set(before) | set(after)):
        old = before.get(name)
        new = after.get(name)
        changes = compare_environment(
            name, [item.obj for item in old.objects] if old else [], [item.obj for item in new.objects] if new else []
        )
        changes.cost_before, changes.cost_after = before_costs.get(name), after_costs.get(name)
        environments.append(changes)
        file_diff.append(unified(old.files if old else {}, new.files if new else {}, f"rendered/{name}"))
    old_keys = {_identity(note) for note in before_findings}
    new_keys = {_identity(note) for note in after_findings}
    return Review(
        base=base,
        environments=environments,
        new_findings=[note for note in after_findings if _identity(note) not in old_keys],
        fixed_findings=[note for note in before_findings if _identity(note) not in new_keys],
        file_diff="".join(file_diff),
        promotions=promotions(before_specs, after_specs),
    )
