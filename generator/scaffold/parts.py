"""What `mlgitops init` scaffolds, part by part, and what it adds to a repository that already has some of it.

A part is a named set of files (``environments``, ``schema``, ``workflow``, ``pr-comment``, ``pre-commit``,
``gitattributes``, ``dependabot``). Adoption never overwrites: a part whose files are already there is left
alone, and for the three files teams usually have already (``.pre-commit-config.yaml``, ``.gitattributes``,
``.github/dependabot.yml``) init prints the lines to add by hand instead. Pure: the caller reads the repository
and writes the plan's files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

from mlgitops import __version__
from mlgitops.output.installation import Installation

ENVIRONMENT_FILES = ("base.yaml", "dev.yaml", "staging.yaml", "prod.yaml")
PARTS = ("environments", "schema", "workflow", "pr-comment", "pre-commit", "gitattributes", "dependabot")
GITATTRIBUTES_LINE = "rendered/** linguist-generated=true"


@dataclass(frozen=True)
class Part:
    """One scaffold part: ``files`` (repository path → text); ``snippet`` is what to add by hand to an existing
    file of the part (None: an existing file leaves the part alone with nothing to add)."""

    name: str
    files: dict[str, str]
    snippet: str | None = None


@dataclass
class Plan:
    """What init does: ``write`` (path → text, all new files), ``left_alone`` (path, reason) and ``snippets``
    (path, the text to add to that existing file by hand)."""

    write: dict[str, str] = field(default_factory=dict)
    left_alone: list[tuple[str, str]] = field(default_factory=list)
    snippets: list[tuple[str, str]] = field(default_factory=list)


def _template(name: str, installation: Installation, note: str | None = None) -> str:
    text = resources.files("mlgitops.scaffold").joinpath(name).read_text(encoding="utf-8")
    pins = {
        "__MLGITOPS_REQUIREMENT__": installation.requirement,
        "__MLGITOPS_VERSION__": __version__,
        "__MLGITOPS_PRE_COMMIT_REPO__": installation.pre_commit_repo,
        "__MLGITOPS_PRE_COMMIT_REV__": installation.pre_commit_rev,
    }
    for placeholder, value in pins.items():
        text = text.replace(placeholder, value)
    if note:
        text = f"# NOTE: {note}.\n{text}"
    return text


def _pre_commit_note(installation: Installation) -> str | None:
    """What to do when the pre-commit ``rev`` may not exist: it names a tag only a release creates."""
    if installation.note is None:
        return None
    return (
        f"this mlgitops was installed locally; rev {installation.pre_commit_rev} exists only once that version is "
        f"tagged: otherwise set rev to a commit of {installation.pre_commit_repo}"
    )


def scaffold_parts(installation: Installation) -> list[Part]:
    """Every part, its files pinned to what ``installation`` says another machine can install."""
    from mlgitops.load.editor_schema import editor_schema_text

    package = resources.files("mlgitops.scaffold").joinpath("environments")
    environments = {f"environments/{name}": package.joinpath(name).read_text(encoding="utf-8") for name in ENVIRONMENT_FILES}
    pre_commit = _template("pre-commit-config.yaml", installation, _pre_commit_note(installation))
    hooks = pre_commit[pre_commit.index("  - repo:") :]
    dependabot = _template("dependabot.yml", installation)
    return [
        Part("environments", environments),
        Part("schema", {"environments/environment.schema.json": editor_schema_text()}),
        Part("workflow", {".github/workflows/mlgitops.yml": _template("workflow.yml", installation, installation.note)}),
        Part(
            "pr-comment",
            {".github/workflows/mlgitops-pr.yml": _template("pr-workflow.yml", installation, installation.note)},
        ),
        Part("pre-commit", {".pre-commit-config.yaml": pre_commit}, snippet=f"under repos:\n{hooks}"),
        Part("gitattributes", {".gitattributes": f"{GITATTRIBUTES_LINE}\n"}, snippet=f"{GITATTRIBUTES_LINE}\n"),
        Part(
            "dependabot", {".github/dependabot.yml": dependabot}, snippet=dependabot[dependabot.index("  - package-ecosystem") :]
        ),
    ]


def scaffold_files(installation: Installation) -> dict[str, str]:
    """Repository path → content of every file a full scaffold holds."""
    return {path: text for part in scaffold_parts(installation) for path, text in part.files.items()}


def plan(parts: list[Part], existing: dict[str, str | None], only: frozenset[str] | None = None) -> Plan:
    """What to write into a repository whose relevant files are ``existing`` (path → text, None when it is not a
    readable regular file; ``environments/*.yaml`` files count for the environments part). ``only`` limits the
    parts (None: all)."""
    result = Plan()
    for part in parts:
        if only is not None and part.name not in only:
            continue
        present = sorted(path for path in existing if _belongs(part, path))
        if not present:
            result.write.update(part.files)
            continue
        for path in present:
            result.left_alone.append((path, f"exists: the {part.name} part was left alone"))
        if part.snippet is not None:
            text = existing.get(present[0]) or ""
            if not _already_has(part, text):
                result.snippets.append((present[0], part.snippet))
    return result


def _belongs(part: Part, path: str) -> bool:
    if part.name == "environments":
        return path.startswith("environments/") and path.endswith((".yaml", ".yml"))
    return path in part.files


def _already_has(part: Part, text: str) -> bool:
    """Whether an existing file already holds what the part's snippet would add (nothing to print then)."""
    if part.name == "pre-commit":
        return "mlgitops-render-check" in text
    if part.name == "gitattributes":
        return any(line.split()[:1] == ["rendered/**"] and "linguist-generated" in line for line in text.splitlines())
    if part.name == "dependabot":
        return "github-actions" in text
    return False


__all__ = ["ENVIRONMENT_FILES", "GITATTRIBUTES_LINE", "PARTS", "Part", "Plan", "plan", "scaffold_files", "scaffold_parts"]
