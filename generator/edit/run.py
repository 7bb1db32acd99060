"""The steps every editing command shares: edit in memory, re-render, then write all of it.

`mlgitops set` and `mlgitops promote` plan an edit (:func:`plan_edit`: load the fleet, apply the changes to the
environment files in memory, re-render the environments they affect) and, unless it is a dry run or the
render has error findings, write it (:func:`write_edit`). Nothing here prints or exits: the commands report
what a plan holds and ``cli`` turns a ``UserError`` into exit 2.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgitops.errors import UserError

if TYPE_CHECKING:
    from mlgitops.edit.session import Edit
    from mlgitops.fleet.rerender import Rerendered

ChangeBuilder = Callable[[dict[str, Any]], tuple[list[Any], list[str]]]
"""Loaded environments by name → (changes to the target environment, notes on what was left out)."""


@dataclass(frozen=True)
class EditOptions:
    """What the command line asked for."""

    title: str
    environment: str
    no_render: bool
    dry_run: bool
    output_format: str
    pr_body: Path | None
    environments_dir: Path
    output_dir: Path
    policy_dirs: tuple[Path, ...]
    in_base: bool = False
    source: str | None = None


@dataclass(frozen=True)
class PlannedEdit:
    """An edit made in memory: the new file texts, the environments it re-rendered (None with --no-render and no
    --pr-body, or when nothing changed), and notes on what was left out."""

    edit: Edit
    rendered: Rerendered | None
    notes: list[str]
    renders_output: bool
    """Whether the output folder is rewritten (False with --no-render: the re-render only feeds --pr-body)."""

    @property
    def written_output(self) -> Rerendered | None:
        """What goes into the output folder: the re-render, unless rendered/ is left alone (--no-render)."""
        return self.rendered if self.renders_output else None


def _check_names(options: EditOptions, known: list[str]) -> None:
    """Unknown environments name the file that would define them, and the closest existing one."""
    from mlgitops.edit.requests import some

    for flag, name in (("--from", options.source), ("--to" if options.source else "--env", options.environment)):
        if name is None or name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"environments: {some(known)}"
        abstract = any(path.stem == name for path in options.environments_dir.glob("*.y*ml"))
        what = "is an abstract base, not an environment" if abstract else "does not exist"
        raise UserError(f"{flag} {name}: {options.environments_dir.as_posix()}/{name}.yaml {what} ({hint})")


def plan_edit(options: EditOptions, build: ChangeBuilder) -> PlannedEdit:
    """Load the fleet, apply ``build``'s changes in memory and re-render what they affect; nothing is written.

    Raises ``UserError`` for an unknown environment, a change that cannot be made, or an environment that no
    longer loads or renders after it.
    """
    from mlgitops.edit.session import apply, load_fleet

    fleet = load_fleet(options.environments_dir)
    _check_names(options, sorted(fleet[0]))
    changes, notes = build(fleet[0])
    edit = apply(options.environments_dir, options.environment, changes, in_base=options.in_base, fleet=fleet)
    rendered = None
    if edit.affected and (not options.no_render or options.pr_body is not None):
        from mlgitops.fleet.rerender import rerender

        rendered = rerender(
            edit.before,
            edit.after,
            edit.affected,
            options.output_dir,
            list(options.policy_dirs),
            with_before=options.pr_body is not None,
        )
    return PlannedEdit(edit, rendered, notes, renders_output=not options.no_render)


def pr_body_path(options: EditOptions) -> Path | None:
    """Where --pr-body goes, checked before any file of the edit is written (a ``UserError`` if it cannot be)."""
    if options.pr_body is None:
        return None
    from mlgitops.output.safe_write import check_replaceable
    from mlgitops.paths import shown_path

    # The operator named this file: a linked folder on its way (macOS's /tmp) is theirs to choose.
    path = options.pr_body.parent.resolve() / options.pr_body.name
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        problem = "does not exist" if not path.parent.exists() else "is not a writable folder"
        raise UserError(f"--pr-body {shown_path(options.pr_body)}: {shown_path(path.parent)} {problem}; nothing was written")
    check_replaceable(path)
    return path


def write_edit(planned: PlannedEdit, output_dir: Path, extra: dict[Path, bytes] | None = None) -> list[str]:
    """Write the edited environment files, the re-rendered output folders and ``extra`` files (a pull-request
    description), all of it or nothing; returns the warnings (leftovers removed, old folders not deleted).

    Every file is checked, then every new content written beside its target and flushed to disk, before the
    first is swapped in; if a swap fails, those done are swapped back. Runs under the repository lock (the
    commands hold it from before they read the fleet): an environment file changed on disk since it was read
    (by another program) is refused, and nothing is written.
    """
    from mlgitops.output import tree
    from mlgitops.output.lock import repository_lock
    from mlgitops.output.safe_write import StagedFile, check_replaceable, remove_leftovers, stage_file

    rendered = planned.written_output
    texts = planned.edit.texts
    with repository_lock(output_dir, *sorted({path.parent for path in texts})):
        if rendered is not None:
            tree.check_output_root(output_dir)  # before the first file is written
        for path in texts:
            check_replaceable(path)
        _unchanged_since_read(texts)
        warnings = [warning for path in sorted(extra or {}) for warning in remove_leftovers(path.parent, path.name)]
        files: list[StagedFile] = []
        staged_tree = None
        contents = [(path, new.encode("utf-8")) for path, (_, new) in sorted(texts.items())] + sorted((extra or {}).items())
        try:
            for path, content in contents:
                try:
                    files.append(stage_file(path, content))
                except OSError as error:
                    raise UserError(f"cannot write {_shown(path)}: {error.strerror or error}; nothing was changed") from None
            if rendered is not None:
                staged_tree = tree.stage(output_dir, rendered.wanted, durable=True)
        except UserError:
            _undo(files, None)
            raise
        _commit(files, staged_tree)
        return warnings + (tree.finish(staged_tree).warnings if staged_tree is not None else [])


def _commit(files: list[Any], staged_tree: Any) -> None:
    """Swap the files, then the output folders, in; on a failure swap back everything and raise UserError."""
    from mlgitops.output import tree
    from mlgitops.output.safe_write import commit_file, finish_file

    # The environment files first: a run killed in between leaves the edit made and rendered/ stale, which
    # `render --check` reports and `render` repairs (the next run also removes what this one staged).
    writing = ""
    try:
        for staged in files:
            writing = _shown(staged.target)
            commit_file(staged)
        if staged_tree is not None:
            writing = f"to {staged_tree.root}"
            tree.commit(staged_tree)  # puts its own folders back if it fails
    except (OSError, UserError) as error:
        _undo(files, staged_tree)
        reason = error.message if isinstance(error, UserError) else f"cannot write {writing}: {error.strerror or error}"
        raise UserError(f"{reason.removesuffix('; nothing was changed')}; nothing was changed") from None
    for staged in files:
        finish_file(staged)


def _undo(files: list[Any], staged_tree: Any) -> None:
    from mlgitops.output import tree
    from mlgitops.output.safe_write import undo_file

    for staged in reversed(files):
        undo_file(staged)
    if staged_tree is not None:
        tree.undo(staged_tree)


def _unchanged_since_read(texts: dict[Path, tuple[str, str]]) -> None:
    """Refuse to write over an environment file whose text is no longer the one the edit was made from."""
    from mlgitops.yaml.source import read_text

    for path, (before, _) in sorted(texts.items()):
        shown = _shown(path)
        if read_text(path, shown) != before:
            raise UserError(
                f"{shown} changed on disk while mlgitops was editing it (another program wrote it); nothing was "
                "written: run the command again"
            )


def _shown(path: Path) -> str:
    from mlgitops.paths import shown_path

    return shown_path(path)


__all__ = ["EditOptions", "PlannedEdit", "plan_edit", "pr_body_path", "write_edit"]
