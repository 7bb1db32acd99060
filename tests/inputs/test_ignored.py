"""`lint .` leaves out what git ignores and what --exclude names; a folder named on the command line is linted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlgitops.inputs.ignored import Ignored
from tests.support import run_cli, run_in_process

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: x}}\ndata: {{a: '1'}}\n"
BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [broken\n"


def _repository(root: Path, files: dict[str, str]) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _linted(result_stderr: str) -> str:
    return next(line for line in result_stderr.splitlines() if line.startswith("read "))


def test_ignored_folders_and_files_are_left_out_of_a_folder_walk(tmp_path: Path) -> None:
    repo = _repository(
        tmp_path,
        {
            ".gitignore": "build/\n*.tmpl.yaml\n",
            "build/broken.yaml": BROKEN,  # would be a YAML error if it were read
            "ok/cm.yaml": CONFIG_MAP.format(name="ok"),
            "ok/cm.tmpl.yaml": BROKEN,
            "charts/cm.yaml": CONFIG_MAP.format(name="chart"),
        },
    )
    result = run_cli("lint", ".", "-v", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert _linted(result.stderr).startswith("read 2 file(s), 2 object(s)")


def test_a_nested_gitignore_and_a_negation_follow_gits_rules(tmp_path: Path) -> None:
    repo = _repository(
        tmp_path,
        {
            ".gitignore": "*.yaml\n!keep/\n",
            "keep/.gitignore": "!*.yaml\nlocal.yaml\n",
            "keep/a.yaml": CONFIG_MAP.format(name="a"),
            "keep/local.yaml": BROKEN,
            "top.yaml": BROKEN,
        },
    )
    ignored = Ignored()
    assert ignored.ignored(repo / "top.yaml", is_dir=False)
    assert not ignored.ignored(repo / "keep", is_dir=True)
    assert not ignored.ignored(repo / "keep" / "a.yaml", is_dir=False)  # the deeper file re-includes it
    assert ignored.ignored(repo / "keep" / "local.yaml", is_dir=False)
    result = run_cli("lint", ".", "-v", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert _linted(result.stderr).startswith("read 1 file(s), 1 object(s)")


def test_exclude_globs_leave_out_files_and_folders_even_when_named(tmp_path: Path) -> None:
    repo = _repository(
        tmp_path,
        {"charts/a.yaml": BROKEN, "ok/cm.yaml": CONFIG_MAP.format(name="ok"), "ok/b.gen.yaml": BROKEN},
    )
    result = run_cli("lint", ".", "--exclude", "charts/", "--exclude", "**/*.gen.yaml", "-v", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert _linted(result.stderr).startswith("read 1 file(s), 1 object(s)")
    named = run_cli("lint", "ok/b.gen.yaml", "ok/cm.yaml", "--exclude", "*.gen.yaml", cwd=repo)
    assert named.exit_code == 0, named.stderr


def test_a_folder_named_on_the_command_line_is_linted_even_if_ignored(tmp_path: Path) -> None:
    repo = _repository(tmp_path, {".gitignore": "build/\n", "build/cm.yaml": CONFIG_MAP.format(name="b")})
    result = run_cli("lint", "build", "-v", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert _linted(result.stderr).startswith("read 1 file(s), 1 object(s)")


@pytest.mark.parametrize("where", ["inside", "outside"])
def test_without_a_gitignore_nothing_is_left_out(tmp_path: Path, where: str) -> None:
    root = tmp_path / "repo"
    if where == "inside":
        _repository(root, {})
    (root / "a").mkdir(parents=True)
    (root / "a" / "cm.yaml").write_text(CONFIG_MAP.format(name="a"))
    assert not Ignored().ignored(root / "a" / "cm.yaml", is_dir=False)


def test_nothing_to_lint_names_what_was_left_out(tmp_path: Path) -> None:
    repo = _repository(tmp_path, {".gitignore": "build/\n", "build/cm.yaml": CONFIG_MAP.format(name="b")})
    result = run_cli("lint", ".", cwd=repo)
    assert result.exit_code == 2
    assert "nothing to lint: found no .yaml, .yml or .json files in . (1 file(s) or folder(s) there are left out by " in (
        result.stderr
    )
    excluded = run_cli("lint", ".", "--exclude", "build/", cwd=repo)
    assert "left out by .gitignore or --exclude" in excluded.stderr


def test_ignore_lines_git_cannot_read_are_skipped_as_git_skips_them(tmp_path: Path) -> None:
    repo = _repository(
        tmp_path,
        {
            ".gitignore": "!\nb.yaml\na\\\n[[:alpha:]]x.yaml\n",  # a lone '!', a trailing backslash, a POSIX class
            "a.yaml": CONFIG_MAP.format(name="a"),
            "b.yaml": BROKEN,
        },
    )
    result = run_cli("lint", ".", "-v", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert _linted(result.stderr).startswith("read 1 file(s), 1 object(s)")
    assert "Warning" not in result.stderr  # Python's re warns about '[[:': not the user's to read


@pytest.mark.parametrize("pattern", ["!", "a\\"])
def test_an_exclude_git_cannot_read_is_a_one_line_error(tmp_path: Path, pattern: str) -> None:
    repo = _repository(tmp_path, {"a.yaml": CONFIG_MAP.format(name="a")})
    result = run_cli("lint", ".", "--exclude", pattern, cwd=repo)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --exclude {pattern!r} is not a pattern git could read; write a gitignore pattern such as 'charts/' or "
        "'**/*.tmpl.yaml'\n"
    )


def test_folders_nested_deeper_than_a_walk_goes_are_a_located_error(tmp_path: Path) -> None:
    repo = _repository(tmp_path, {})
    relative = "/".join(["d"] * 1000)  # about 2,000 characters: below PATH_MAX (4,096)
    subprocess.run(["mkdir", "-p", relative], cwd=repo, check=True)  # pathlib's mkdir recurses once per level
    try:
        folder = repo / relative
        (folder / "cm.yaml").write_text(CONFIG_MAP.format(name="deep"))
        result = run_cli("lint", ".", cwd=repo)
        assert result.exit_code == 2
        assert "error: .: folders nested too deep to walk (hundreds of levels); lint the deepest ones by name" in result.stderr
        assert "internal error" not in result.stderr
        assert "Traceback" not in result.stderr
        named = run_cli("lint", str(folder.parent), cwd=repo)
        assert named.exit_code == 0, named.stderr
    finally:  # pytest's clean-up of old temporary folders recurses once per level too
        subprocess.run(["rm", "-rf", "d"], cwd=repo, check=True)


def test_ignore_rules_that_cannot_be_read_are_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repository(tmp_path, {"a.yaml": CONFIG_MAP.format(name="a")})
    original = Path.is_file

    def refused(path: Path) -> bool:
        if path == repo / ".git" / "info" / "exclude":  # in a .git the user may not search (root reads anything)
            raise PermissionError(13, "Permission denied", str(path))
        return original(path)

    monkeypatch.setattr(Path, "is_file", refused)
    result = run_in_process("lint", ".", cwd=repo)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {repo / '.git' / 'info' / 'exclude'}: cannot read the ignore rules (")
    assert result.stderr.count("\n") == 1


def test_a_repository_is_judged_where_it_lies_however_it_is_named(tmp_path: Path) -> None:
    """Its .gitignore files apply to a repository named as `..`, through a link to it or from a sibling, each relative to
    its own folder, as git applies them in the repository itself (macOS's /tmp leads to /private/tmp)."""
    repo = _repository(
        tmp_path / "repo",
        {
            ".gitignore": "build/\n",
            "keep.yaml": CONFIG_MAP.format(name="keep"),
            "build/broken.yaml": BROKEN,
            "sub/.gitignore": "keep.yaml\n",  # sub's own keep.yaml only, never the root's
            "sub/keep.yaml": BROKEN,
            "sub/s.yaml": CONFIG_MAP.format(name="s"),
        },
    )
    (tmp_path / "link").symlink_to(repo)
    _repository(tmp_path / "sibling", {})
    runs = [
        run_cli("lint", "-v", "..", cwd=repo / "sub"),
        run_cli("lint", "-v", str(tmp_path / "link"), cwd=tmp_path),
        run_cli("lint", "-v", "../repo", cwd=tmp_path / "sibling"),
        run_cli("lint", "-v", ".", cwd=tmp_path / "link"),
        run_cli("lint", "-v", str(repo), cwd=tmp_path),
    ]
    for result in runs:
        assert result.exit_code == 0, result.stderr
        assert _linted(result.stderr).startswith("read 2 file(s), 2 object(s)"), result.stderr
