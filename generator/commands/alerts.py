"""`mlgitops alerts`: each environment's alert rules and their promtool unit tests, for `promtool test rules`."""

from __future__ import annotations

from pathlib import Path

import click

from mlgitops.commands.console import console
from mlgitops.commands.options import environment_option, environments_dir_option
from mlgitops.errors import ExitCode, UserError
from mlgitops.output.inert import terminal


@click.command()
@environment_option("Only this environment (repeatable). Default: all with a monitoring section.", multiple=True)
@environments_dir_option
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write <env>.rules.yaml and <env>.rules.test.yaml into (created if missing).",
)
def alerts(environments: tuple[str, ...], environments_dir: Path, out_dir: Path) -> ExitCode:
    """Write each environment's alert rules (the groups of its PrometheusRule) and promtool unit tests of them.

    Every alert gets a test whose synthetic series fire it, with its exact labels and annotations, and one whose
    series keep it quiet. Check both with promtool (Debian and Ubuntu: `apt-get install prometheus`):

      promtool check rules OUT/*.rules.yaml && promtool test rules OUT/*.rules.test.yaml
    """
    from mlgitops.load.environments import load_environments
    from mlgitops.output.safe_write import replace_file
    from mlgitops.render import render_environment
    from mlgitops.render.alert_objects import promtool_rules, promtool_tests
    from mlgitops.render.alert_rules import derive_alerts
    from mlgitops.yaml.writer import dump_object

    written = []
    for loaded in load_environments(environments_dir, environments):
        # Rendered first: the alerts of an environment that does not render are not written.
        render_environment(loaded.spec, loaded.name, loaded.tree)
        found = derive_alerts(loaded.spec, loaded.name)
        if not found:
            if environments:
                raise UserError(f"{loaded.file}: no alerts: add a `monitoring:` section", loaded.locate(()))
            continue
        rules = f"{loaded.name}.rules.yaml"
        files = {
            rules: dump_object(promtool_rules(found), loaded.file),
            f"{loaded.name}.rules.test.yaml": dump_object(promtool_tests(found, loaded.name, rules), loaded.file),
        }
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            replace_file(out_dir / name, text.encode())
            written.append(out_dir / name)
    for path in written:
        console().info(terminal(f"wrote {path}"))
    return ExitCode.OK
