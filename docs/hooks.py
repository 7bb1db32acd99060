"""MkDocs hook: the reference pages, generated at build time from mlgitops's own registries (never committed).

- ``rules/``: the policy catalog that ships with mlgitops (``mlgitops.output.rule_pages``);
- ``commands/``: click's help of every command (``mlgitops.output.command_pages``);
- ``kinds/`` and ``schema/``: the workload kinds of ``spec/kinds.py`` and the environment file's JSON Schema
  (``mlgitops.output.kind_pages``).

``on_config`` builds the pages and puts each section into the navigation where ``mkdocs.yml`` names the section's
index page; ``on_files`` adds them as generated files (MkDocs 1.6 ``File.generated``). A hand-written page at the
same path (``docs/kinds/<kind>.md``) keeps its text, and the generated reference is appended to it.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

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
    if config.nav is not None:
        config.nav = _expanded(config.nav, _sections(_pages))
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for path, text in _pages.items():
        written = files.get_file_from_path(path)
        if written is not None:
            files.remove(written)
            text = written.content_string.rstrip("\n") + "\n\n" + text.split("\n", 1)[1].lstrip("\n")
        files.append(File.generated(config, path, content=text))
    return files


__all__ = ["on_config", "on_files", "reference_pages"]
