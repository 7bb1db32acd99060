"""What an edit of the environment files changed: lines for the terminal, records for JSON, unified diffs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgitops.policy.redaction import REDACTED, SECRET_NAME
from mlgitops.spec.paths import MISSING, FieldPath, Item, show

if TYPE_CHECKING:
    from mlgitops.edit.session import Edit
    from mlgitops.fleet.rerender import Rerendered


def _secret(path: FieldPath) -> bool:
    """The literal value of an env var named like a credential (`env[API_TOKEN].value`): never printed."""
    return path[-1:] == ("value",) and any(isinstance(s, Item) and SECRET_NAME.search(s.name) for s in path)


def _visible(path: FieldPath, value: Any) -> Any:
    return REDACTED if value is not MISSING and _secret(path) else value


def _shown(value: Any, missing: str) -> str:
    """A value as JSON text: quoted and escaped, so no control character in it reaches the terminal."""
    return missing if value is MISSING else json.dumps(value)


def change_lines(edit: Edit) -> list[str]:
    """One line per changed value: `FILE:LINE:COLUMN: ENV: PATH: BEFORE -> AFTER`."""
    return [
        f"{a.location}: {a.environment}: {show(a.path)}: "
        f"{_shown(_visible(a.path, a.before), '(none)')} -> {_shown(_visible(a.path, a.after), '(removed)')}"
        for a in edit.applied
    ]


def change_records(edit: Edit) -> list[dict[str, Any]]:
    """The changed values as JSON objects (`before`/`after` null where there is no value)."""
    return [
        {
            "environment": a.environment,
            "workload": a.path[1].name if len(a.path) > 1 and isinstance(a.path[1], Item) else None,
            "path": show(a.path),
            "before": None if a.before is MISSING else _visible(a.path, a.before),
            "after": None if a.after is MISSING else _visible(a.path, a.after),
            "removed": a.after is MISSING,
            "file": a.location.file,
            "line": a.location.line,
            "column": a.location.column,
        }
        for a in edit.applied
    ]


def edit_diff(edit: Edit, rendered: Rerendered | None, output_dir: Path) -> str:
    """The unified diff of the edited environment files and, when rendered, of the output folders against disk."""
    from mlgitops.output import tree
    from mlgitops.output.file_diff import file_diff
    from mlgitops.paths import shown_path

    chunks = [file_diff(shown_path(path), shown_path(path), old, new) for path, (old, new) in sorted(edit.texts.items())]
    if rendered is not None:
        tree.check_output_root(output_dir)
        chunks += [difference.diff for difference in tree.drift(output_dir, rendered.wanted)]
    return "".join(chunks)


def visible_value(path: FieldPath, value: Any) -> Any:
    """``value`` as reports may show it: None for no value, `<redacted>` for a secret-looking env var's."""
    return None if value is MISSING else _visible(path, value)


__all__ = ["change_lines", "change_records", "edit_diff", "visible_value"]
