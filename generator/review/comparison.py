"""Render the working tree and a git revision, and compare them environment by environment."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from generator.errors import UserError
from generator.loading import displayed_as, load_environments, shown_path
from generator.pipeline import EnvironmentOutput, build
from generator.review.changes import compare_environment
from generator.review.git_tree import checkout_folder, default_base, repository_root, resolve_revision
from generator.review.summary import Review


def _build_all(folder: Path) -> dict[str, EnvironmentOutput]:
    return {loaded.name: build(loaded) for loaded in load_environments(folder)}


def review_change(environments_dir: Path, base_ref: str | None) -> Review:
    """The Review of the working tree's environments against ``base_ref`` (default: merge base)."""
    from generator.commands.diff import unified

    repo = repository_root(environments_dir if environments_dir.is_dir() else Path.cwd())
    base = base_ref or default_base(repo)
    resolve_revision(repo, base)
    after = _build_all(environments_dir)
    relative = os.path.relpath(environments_dir.resolve(), repo.resolve()).replace(os.sep, "/")
    with tempfile.TemporaryDirectory(prefix="mlgitops-diff-") as scratch:
        folder = Path(scratch) / "environments"
        try:
            with displayed_as(folder, shown_path(environments_dir)):
                before = _build_all(folder) if checkout_folder(repo, base, relative, folder) else {}
        except UserError as error:
            raise UserError(f"the environments at {base} do not render: {error.one_line()}") from None
    environments = []
    file_diff = []
    for name in sorted(set(before) | set(after)):
        old = before.get(name)
        new = after.get(name)
        environments.append(
            compare_environment(
                name,
                [item.obj for item in old.objects] if old else [],
                [item.obj for item in new.objects] if new else [],
            )
        )
        file_diff.append(unified(old.files if old else {}, new.files if new else {}, f"rendered/{name}"))
    return Review(base=base, environments=environments, file_diff="".join(file_diff))
