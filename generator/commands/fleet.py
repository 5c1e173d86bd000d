"""`mlopsgen fleet update|validate`: many client repos at once, in parallel processes."""

from __future__ import annotations

from pathlib import Path

import click

from generator import fleet
from generator.errors import ExitCode


@click.command("fleet")
@click.argument("action", type=click.Choice(fleet.ACTIONS))
@click.option(
    "--repos", "repo_specs", multiple=True, required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A file listing repo paths (one per line, # comments) or a directory holding client "
    "repos (or a client repo itself). Repeatable.",
)
@click.option("--jobs", "-j", type=int, default=0, show_default="two per CPU",
              help="Repos processed in parallel (processes).")
@click.option("--json-report", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSON report here.")
@click.option("--vcs-ref", help="update: template version to update to (default: latest tag).")
@click.option("--template", help="update: template location overriding each repo's recorded one.")
@click.option("--dry-run", is_flag=True, help="update: report what would change, write nothing.")
@click.option("--no-validate", is_flag=True, help="update: skip the offline validation.")
@click.option("--no-plan-diff", is_flag=True,
              help="update: skip the replacement check (offline plans before and after).")
@click.option("--commit", is_flag=True, help="update: commit each clean, validated update.")
def command(
    action: str,
    repo_specs: tuple[Path, ...],
    jobs: int,
    json_report: Path | None,
    vcs_ref: str | None,
    template: str | None,
    dry_run: bool,
    no_validate: bool,
    no_plan_diff: bool,
    commit: bool,
) -> ExitCode:
    """Run ACTION (update or validate) over many client repos.

    Prints a table (repo, from version, to version, conflicts, validation, what the update
    would replace, status). Exit status: 0 when every repo is fine, 4 when any repo needs
    attention (conflicts, failed validation, protected replacements, an error), 1 when the
    repo list is unusable.
    """
    repos = fleet.discover_repos(repo_specs)
    options = fleet.FleetOptions(
        vcs_ref=vcs_ref, template=template, dry_run=dry_run, validate=not no_validate,
        commit=commit, plan_diff=not no_plan_diff,
    )
    results = fleet.run_fleet(action, repos, jobs=jobs, options=options)
    click.echo(fleet.format_table(results))
    if json_report:
        fleet.write_json_report(json_report, fleet.json_report(action, results, jobs))
        click.echo(f"JSON report: {json_report}")
    return ExitCode.ATTENTION if any(r.needs_attention for r in results) else ExitCode.OK
