"""MkDocs hook: the reference pages, generated at build time from mlgitops's own registries (never committed).

- ``rules/``: the policy catalog that ships with mlgitops (``mlgitops.output.rule_pages``);
- ``commands/``: click's help of every command (``mlgitops.output.command_pages``);
- ``kinds/`` and ``schema/``: the workload kinds of ``spec/kinds.py`` and the environment file's JSON Schema
  (``mlgitops.output.kind_pages``).

The site's home page (``index.md``) is the repository's README.md, its links made site links: ``docs/<page>``
becomes ``<page>``, any other file of the repository its page on GitHub (``HOME/blob/main/<file>``).

``on_config`` builds the pages and puts each section into the navigation where ``mkdocs.yml`` names the section's
index page; ``on_files`` adds them as generated files (MkDocs 1.6 ``File.generated``). A hand-written page at the
same path (``docs/kinds/<kind>.md``) keeps its text, and the generated reference from its first ``##`` heading on
is appended to it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from mlgitops import HOME
from mlgitops.cli import cli
from mlgitops.output.command_pages import COMMANDS_INDEX, command_pages
from mlgitops.output.kind_pages import KINDS_INDEX, kind_pages
from mlgitops.output.rule_pages import RULES_INDEX, rule_pages
from mlgitops.policy.catalog import load_folders, shipped_catalog

_pages: dict[str, str] = {}


def reference_pages() -> dict[str, str]:
    """Every generated page by its path in the documentation folder."""
    return {
        **command_pages(cli),
        **kind_pages(),
        **rule_pages(load_folders([shipped_catalog()])),
    }


def home_page(readme: str) -> str:
    """README.md as the site's home page: links into docs/ become site links, links to other files GitHub's."""

    def link(match: re.Match[str]) -> str:
        target = match.group(1)
        if re.match(r"[a-z]+:|#", target):
            return match.group(0)
        if target.startswith("docs/"):
            return f"]({target.removeprefix('docs/')})"
        return f"]({HOME}/blob/main/{target})"

    return re.sub(r"\]\(([^)\s]+)\)", link, readme)


def _appended(written: str, generated: str) -> str:
    """A hand-written page, then the generated one from its first ``##`` heading on."""
    reference = generated[generated.index("\n## ") + 1 :] if "\n## " in generated else ""
    return written.rstrip("\n") + "\n\n" + reference


def _sections(pages: dict[str, str]) -> dict[str, list[str]]:
    """Each generated section's index page → the section's pages, index first, in generation order."""
    sections: dict[str, list[str]] = {}
    for index in (COMMANDS_INDEX, KINDS_INDEX, RULES_INDEX):
        folder = index.rsplit("/", 1)[0] + "/"
        sections[index] = [index, *(path for path in pages if path.startswith(folder) and path != index)]
    return sections


def _expanded(nav: list[Any], sections: dict[str, list[str]]) -> list[Any]:
    """``nav`` with every ``Title: <section index>`` entry turned into the section's list of pages."""
    expanded: list[Any] = []
    for entry in nav:
        if isinstance(entry, dict) and len(entry) == 1:
            ((title, value),) = entry.items()
            if isinstance(value, str) and value in sections:
                value = sections[value]
            elif isinstance(value, list):
                value = _expanded(value, sections)
            entry = {title: value}
        expanded.append(entry)
    return expanded


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    _pages.clear()
    _pages.update(reference_pages())
    readme = Path(config.config_file_path).parent / "README.md"
    _pages["index.md"] = home_page(readme.read_text(encoding="utf-8"))
    if config.nav is not None:
        config.nav = _expanded(config.nav, _sections(_pages))
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for path, text in _pages.items():
        written = files.get_file_from_path(path)
        if written is not None:
            files.remove(written)
            text = _appended(written.content_string, text)
        files.append(File.generated(config, path, content=text))
    return files


__all__ = ["home_page", "on_config", "on_files", "reference_pages"]
