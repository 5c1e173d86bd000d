"""`mlopsgen fleet update|validate|status`: many client repos at once.

update and validate run in parallel processes (generator/fleet.py); status reads every repo
and draws a table, JSON or a static HTML page (generator/fleet_status.py, fleet_page.py).
Each shows a progress bar on stderr while it runs, when stderr is a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from generator import fleet, fleet_page, fleet_status
from generator.cli import json_errors
from generator.errors import ExitCode
from generator.github_api import Settings
from generator.progress import progress

_F = TypeVar("_F", bound=Callable[..., Any])
REPOS_HELP = ("A file listing repo paths (one per line, # comments) or a directory holding client "
              "repos (or a client repo itself). Repeatable.")


def _repos_option(func: _F) -> _F:
    option = click.option("--repos", "repo_specs", multiple=True, required=True,
                          type=click.Path(exists=True, path_type=Path), help=REPOS_HELP)
    return option(func)


def _jobs_option(func: _F) -> _F:
    option = click.option("--jobs", "-j", type=int, default=0, show_default="two per CPU",
                          help="Repos processed in parallel (processes).")
    return option(func)


def _json_report_option(func: _F) -> _F:
    option = click.option("--json-report", type=click.Path(dir_okay=False, path_type=Path),
                          help="Write the JSON report here.")
    return option(func)


@click.group("fleet")
def command() -> None:
    """Run update, validate or status over many client repos."""


def _run(action: str, repo_specs: tuple[Path, ...], jobs: int, json_report: Path | None,
         options: fleet.FleetOptions) -> ExitCode:
    repos = fleet.discover_repos(repo_specs)
    with progress(len(repos), f"fleet {action}") as bar:
        results = fleet.run_fleet(action, repos, jobs=jobs, options=options,
                                  on_done=lambda r: bar.advance(Path(r.repo).name))
    click.echo(fleet.format_table(results))
    if json_report:
        fleet.write_json_report(json_report, fleet.json_report(action, results, jobs))
        click.echo(f"JSON report: {json_report}")
    return ExitCode.ATTENTION if any(r.needs_attention for r in results) else ExitCode.OK


@command.command("update")
@_repos_option
@_jobs_option
@_json_report_option
@click.option("--vcs-ref", help="Template version to update to (default: latest tag).")
@click.option("--template", help="Template location overriding each repo's recorded one.")
@click.option("--dry-run", is_flag=True, help="Report what would change, write nothing.")
@click.option("--no-validate", is_flag=True, help="Skip the offline validation.")
@click.option("--no-plan-diff", is_flag=True,
              help="Skip the replacement check (offline plans before and after).")
@click.option("--commit", is_flag=True, help="Commit each clean, validated update.")
def update_command(
    repo_specs: tuple[Path, ...], jobs: int, json_report: Path | None, vcs_ref: str | None,
    template: str | None, dry_run: bool, no_validate: bool, no_plan_diff: bool, commit: bool,
) -> ExitCode:
    """Update many client repos (`mlopsgen update` each, in parallel processes).

    Prints a table (repo, from version, to version, conflicts, validation, what the update
    would replace, status). Exit status: 0 when every repo is fine, 4 when any repo needs
    attention (conflicts, failed validation, protected replacements, an error), 1 when the
    repo list is unusable.
    """
    options = fleet.FleetOptions(
        vcs_ref=vcs_ref, template=template, dry_run=dry_run, validate=not no_validate,
        commit=commit, plan_diff=not no_plan_diff,
    )
    return _run("update", repo_specs, jobs, json_report, options)


@command.command("validate")
@_repos_option
@_jobs_option
@_json_report_option
def validate_command(repo_specs: tuple[Path, ...], jobs: int, json_report: Path | None
                     ) -> ExitCode:
    """Validate many client repos offline (`mlopsgen validate` each, in parallel processes).

    Records each result in the repo's .mlopsgen/validation.json (git-ignored), which
    `fleet status` shows. Exit status: 0 when every repo validates, 4 when any needs
    attention, 1 when the repo list is unusable.
    """
    return _run("validate", repo_specs, jobs, json_report, fleet.FleetOptions())


@command.command("status")
@click.option("--repos", "repo_specs", multiple=True, required=True,
              help="A directory of client repos (or one), a file listing them (local paths, or "
              "GitHub repos as owner/name, github:owner/name or their URL; # comments), or a "
              "GitHub owner/name. Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a self-contained HTML page (table and chart) here.")
@click.option("--template", help="Template location for reading releases, instead of each "
              "repo's recorded one.")
@click.option("--jobs", "-j", type=int, default=fleet_status.REMOTE_JOBS, show_default=True,
              help="GitHub requests in flight.")
@click.pass_context
def status_command(ctx: click.Context, repo_specs: tuple[str, ...], as_json: bool,
                   html_path: Path | None, template: str | None, jobs: int) -> ExitCode:
    """Where each client repo stands: template version, releases behind, open update.

    Local clones are read from disk; GitHub repos (owner/name) through the REST API with
    GITHUB_TOKEN (GITHUB_API_URL for another API host). Per repo: the recorded template
    version, the newest release and how many releases it is behind, the open
    template-update/<tag> pull request (or branch) and its conflicts, the last recorded
    validation. A repo that cannot be read is a row with its error. Exit status: 0 when no
    repo needs attention, 4 when any is behind without an open update, has conflicts, failed
    validation or could not be read, 1 when the repo list is unusable.
    """
    json_errors(ctx, as_json, lambda message, _code: {"command": "fleet status",
                                                       "error": message, "repos": []})
    settings = Settings.from_env()
    entries = fleet.discover_entries(repo_specs, host=settings.server_host)
    with progress(len(entries), "fleet status") as bar:
        collector = fleet_status.Collector(settings, template=template, jobs=jobs,
                                           advance=bar.advance, extend=bar.extend)
        report = collector.report(entries)
    if html_path:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(fleet_page.render_html(report), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(fleet_status.format_table(report))
        if html_path:
            click.echo(f"HTML page: {html_path}")
    return ExitCode.ATTENTION if report.needs_attention else ExitCode.OK
