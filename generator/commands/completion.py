"""`mlgitops completion bash|zsh|fish`: shell completion by click, with environment and workload names and rule ids.

The script a shell sources calls mlgitops back with ``_MLGITOPS_COMPLETE`` set; click answers with
the commands, options and choices, and the completers below add what only this project knows.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.shell_completion import CompletionItem, get_completion_class

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VARIABLE = "_MLGITOPS_COMPLETE"
_ABSTRACT = re.compile(r"^abstract:\s*true\s*(#.*)?$", re.MULTILINE)


def environment_names(folder: Path) -> list[str]:
    """Names of the environments in ``folder``: its .yaml files, less abstract bases (``abstract: true``)."""
    names = []
    try:
        files = sorted(folder.glob("*.yaml"))
    except OSError:
        return []
    for path in files:
        try:
            with path.open(encoding="utf-8") as stream:
                head = stream.read(64 * 1024)
        except (OSError, UnicodeDecodeError):
            continue
        if not _ABSTRACT.search(head):
            names.append(path.stem)
    return names


def complete_environments(context: click.Context, _: click.Parameter, incomplete: str) -> list[CompletionItem]:
    folder = context.params.get("environments_dir") or Path("environments")
    return [CompletionItem(name) for name in environment_names(Path(folder)) if name.startswith(incomplete)]


def workload_names(folder: Path, environment: str | None) -> list[str]:
    """Workload names an environment has (its file and the files it ``extends:``, transitively), or every
    environment file's when ``environment`` is None or unknown. Read without validation (``load/extends_chain.py``):
    completion must answer fast and never fail (an unreadable file contributes nothing)."""
    from mlgitops.load.extends_chain import extends_chain
    from mlgitops.paths import is_file

    chosen = folder / f"{environment}.yaml" if environment else None
    paths = [chosen] if chosen is not None and is_file(chosen) else sorted(folder.glob("*.yaml"))
    names: set[str] = set()
    for path in paths:
        for layer in extends_chain(path):
            workloads = layer.get("workloads")
            for item in workloads if isinstance(workloads, list) else []:
                if isinstance(item, dict) and "name" in item:
                    names.add(str(item["name"]))
    return sorted(names)


def complete_workloads(context: click.Context, _: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Workload names of the environment given so far (``--env``, or ``--from`` for promote), else of every one."""
    folder = context.params.get("environments_dir") or Path("environments")
    environment = context.params.get("environment") or context.params.get("source")
    return [CompletionItem(name) for name in workload_names(Path(folder), environment) if name.startswith(incomplete)]


def complete_rules(context: click.Context, _: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Rule ids of the catalog this repository uses (shipped rules, .mlgitops.yaml and --policies folders)."""
    from mlgitops.errors import UserError
    from mlgitops.policy import load_catalog, load_config

    try:
        config = load_config(Path.cwd(), context.params.get("config_file"))
        catalog = load_catalog(list(context.params.get("policy_dirs") or ()), config)
    except UserError:
        return []
    return [
        CompletionItem(rule, help=entry.title) for rule, entry in sorted(catalog.policies.items()) if rule.startswith(incomplete)
    ]


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL; commands, options, environment names and rule ids complete.

    \b
    bash:  eval "$(mlgitops completion bash)"            (e.g. in ~/.bashrc)
    zsh:   eval "$(mlgitops completion zsh)"             (in ~/.zshrc, after compinit)
    fish:  mlgitops completion fish > ~/.config/fish/completions/mlgitops.fish
    """
    root = click.get_current_context().find_root().command
    completer = get_completion_class(shell)
    assert completer is not None  # every name in SHELLS is one click ships
    click.echo(completer(root, {}, "mlgitops", COMPLETE_VARIABLE).source())
