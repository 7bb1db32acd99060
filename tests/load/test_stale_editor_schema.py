"""`render --check` reports a committed editor schema that is not this mlgitops's (editors would judge by old rules)."""

from __future__ import annotations

import shutil
from pathlib import Path

from mlgitops.load.editor_schema import editor_schema_text, stale_editor_schema
from tests.support import REPO, run_cli


def _copy_fleet(tmp_path: Path) -> Path:
    for name in ("environments", "rendered"):
        shutil.copytree(REPO / name, tmp_path / name, symlinks=True)
    return tmp_path


def test_the_committed_schema_is_current() -> None:
    assert stale_editor_schema(REPO / "environments") is None
    assert (REPO / "environments" / "environment.schema.json").read_text(encoding="utf-8") == editor_schema_text()


def test_render_check_reports_a_stale_schema_and_exits_1(tmp_path: Path) -> None:
    fleet = _copy_fleet(tmp_path)
    schema = fleet / "environments" / "environment.schema.json"
    schema.write_text(schema.read_text(encoding="utf-8").replace('"description"', '"title"', 1), encoding="utf-8")
    result = run_cli("render", "--check", cwd=fleet)
    assert result.exit_code == 1
    assert (
        "environments/environment.schema.json is not this mlgitops's editor schema; "
        "run `mlgitops schema > environments/environment.schema.json` and commit it"
    ) in result.stderr
    assert "out of date" not in result.stderr  # rendered/ itself is current: only the schema is named


def test_the_fix_it_names_makes_render_check_pass(tmp_path: Path) -> None:
    fleet = _copy_fleet(tmp_path)
    schema = fleet / "environments" / "environment.schema.json"
    schema.write_text("{}\n", encoding="utf-8")
    assert run_cli("render", "--check", cwd=fleet).exit_code == 1
    printed = run_cli("schema", cwd=fleet)
    schema.write_text(printed.stdout, encoding="utf-8")
    assert run_cli("render", "--check", cwd=fleet).exit_code == 0


def test_a_repository_without_a_committed_schema_is_fine(tmp_path: Path) -> None:
    fleet = _copy_fleet(tmp_path)
    (fleet / "environments" / "environment.schema.json").unlink()
    assert run_cli("render", "--check", cwd=fleet).exit_code == 0
