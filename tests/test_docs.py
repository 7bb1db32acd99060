"""The documentation site builds with --strict, has a page per rule, command and workload kind, and the README links to it.

The site is mkdocs.yml + docs/; its reference pages are generated at build time by docs/hooks.py. A broken link,
a broken anchor or a page missing from the navigation fails the build, and so this suite.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from mlgitops.cli import cli
from mlgitops.output.command_pages import command_pages
from mlgitops.output.kind_pages import kind_pages
from mlgitops.policy.catalog import Catalog, load_folders, shipped_catalog
from mlgitops.spec.kinds import KINDS
from tests.support import REPO, documentation_page, documentation_pages, write


def _build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    built = _build(REPO / "mkdocs.yml", folder)
    assert built.returncode == 0, built.stdout + built.stderr
    return folder


def _catalog() -> Catalog:
    return load_folders([shipped_catalog()])


def _main(page: Path) -> str:
    """The page's content (the theme's main column), HTML entities resolved."""
    text = page.read_text(encoding="utf-8")
    return html.unescape(text[text.index('role="main"') : text.index("<footer")])


def test_every_rule_has_a_page_with_its_examples(site: Path) -> None:
    catalog = _catalog()
    index = _main(site / "rules" / "index.html")
    for rule, policy in catalog.policies.items():
        page = _main(site / "rules" / f"{rule}.html")
        assert f'<h1 id="{rule}">{rule}' in page
        assert policy.title in page
        assert f"Severity: <code>{policy.severity.value}</code>" in page
        assert "Fails:" in page
        assert "Passes:" in page
        # The first line of each example, inside a code block.
        for example in (policy.examples_fail[0], policy.examples_pass[0]):
            first = example.manifest.strip().split("\n")[0]
            assert html.unescape(first) in page, (rule, first)
        assert f'href="{rule}.html"' in index


def test_every_command_has_a_page_with_its_help(site: Path) -> None:
    root = click.Context(cli, info_name="mlgitops")
    names = cli.list_commands(root)
    assert {"render", "lint", "explain", "policy", "set"} <= set(names)
    index = _main(site / "commands" / "index.html")
    for name in names:
        page = _main(site / "commands" / f"{name}.html")
        assert f"Usage: mlgitops {name} [OPTIONS]" in page
        assert "-h, --help" in page
        assert f'href="{name}.html"' in index
        command = cli.get_command(root, name)
        if isinstance(command, click.Group):
            for sub in command.list_commands(click.Context(command, info_name=name, parent=root)):
                assert f"Usage: mlgitops {name} {sub} [OPTIONS]" in page


def test_every_workload_kind_has_a_page_with_every_field(site: Path) -> None:
    index = _main(site / "kinds" / "index.html")
    for row in KINDS.values():
        page = _main(site / "kinds" / f"{row.kind}.html")
        assert f"kind: {row.kind}" in page
        assert f'href="{row.kind}.html"' in index
        schema = row.model.model_json_schema(by_alias=True)
        for field in schema["properties"]:
            assert f"<code>{field}</code>" in page, (row.kind, field)
    environment = _main(site / "schema" / "index.html")
    assert "<code>workloads</code>" in environment
    assert "<code>kubernetesVersion</code>" in environment


def test_a_broken_link_anchor_or_unlisted_page_fails_the_strict_build(tmp_path: Path) -> None:
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    shutil.copytree(REPO / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    with (tmp_path / "docs" / "usage.md").open("a", encoding="utf-8") as page:
        page.write("\n[gone](rules/no-such-rule.md) and [moved](kinds/training.md#no-such-heading)\n")
    # A built site without those mistakes builds: the failure is theirs.
    assert _build(REPO / "mkdocs.yml", tmp_path / "clean").returncode == 0
    write(tmp_path / "docs" / "orphan.md", "# Not in the navigation\n")
    built = _build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert built.returncode != 0
    assert "rules/no-such-rule.md" in built.stderr
    assert "no-such-heading" in built.stderr
    assert "orphan.md" in built.stderr


def test_the_readme_is_short_and_links_to_every_page() -> None:
    readme = documentation_page("README.md")
    headings = re.findall(r"^## (.+)$", readme, re.MULTILINE)
    assert headings == ["Install", "Quick start", "A short tour", "Speed", "Documentation"]  # Speed: issue 30
    assert len(readme.splitlines()) < 150
    links = set(re.findall(r"\]\((docs/[^)#\s]+)", readme))
    pages = {page for page in documentation_pages() if page.startswith("docs/")}
    assert sorted(pages - links) == [], "link every page of docs/ from the README's Documentation section"
    assert sorted(link for link in links if not (REPO / link).is_file()) == []


def test_the_readme_is_the_home_page(site: Path) -> None:
    home = _main(site / "index.html")
    assert "Quick start" in home
    assert "python3 -m venv .venv &amp;&amp; .venv/bin/pip install -e . &amp;&amp; .venv/bin/mlgitops render" in html.escape(
        home, quote=False
    )
    # README links into docs/ are site links there.
    assert 'href="usage.html"' in home
    assert 'href="docs/' not in home


def test_hand_written_kind_pages_keep_their_text_above_the_reference(site: Path) -> None:
    for row in KINDS.values():
        written = documentation_page(f"docs/kinds/{row.kind}.md")
        first = re.sub(r"`([^`]*)`", r"<code>\1</code>", written.split("\n")[2])
        page = _main(site / "kinds" / f"{row.kind}.html")
        assert first.split(" ", 1)[0] in page
        assert page.index(first.split(" ", 1)[0]) < page.index('<h2 id="at-a-glance">') < page.index('<h2 id="fields">')


def test_the_generated_pages_are_the_same_in_every_process() -> None:
    """Deterministic output: two interpreters with different hash seeds generate byte-identical pages."""
    script = (
        "import json, sys; sys.path.insert(0, 'docs'); import hooks; "
        "print(json.dumps(hooks.reference_pages(), sort_keys=True))"
    )
    outputs = []
    for seed in ("1", "2"):
        run = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed, "COLUMNS": seed},
            timeout=120,
            check=True,
        )
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    pages = json.loads(outputs[0])
    assert pages.keys() == {**command_pages(cli), **kind_pages(), **json.loads(outputs[1])}.keys()
    assert len([path for path in pages if path.startswith("rules/")]) == len(_catalog().policies) + 1
