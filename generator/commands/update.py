"""`mlopsgen update`: bring a client repo to a newer template version without losing edits."""

from __future__ import annotations

import json
from pathlib import Path

import click

from generator import update as upd
from generator.cli import json_errors
from generator.errors import ExitCode


@click.command("update")
@click.argument("repo", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--vcs-ref", help="Template version to update to (tag, branch, commit); default: latest tag."
)
@click.option(
    "--template", help="Template location, when the recorded one moved or was recorded relative."
)
@click.option(
    "--dry-run", is_flag=True, help="Show what would change; write nothing (a temporary clone)."
)
@click.option("--no-validate", is_flag=True, help="Skip `mlopsgen validate` after the update.")
@click.option(
    "--no-plan-diff", is_flag=True,
    help="Skip the replacement check (an offline plan before and after the update, about two "
    "plans and an apply per root; it runs even with --no-validate).",
)
@click.option("--commit", is_flag=True, help="Commit the update if it is clean and validates.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def command(
    ctx: click.Context,
    repo: Path,
    vcs_ref: str | None,
    template: str | None,
    dry_run: bool,
    no_validate: bool,
    no_plan_diff: bool,
    commit: bool,
    as_json: bool,
) -> ExitCode:
    """Update REPO (default: .) with copier's 3-way merge.

    Refuses a dirty repo or one without .copier-answers.yml. Edits survive; where an edit and
    a template change touch the same lines, the file gets inline conflict markers and is
    listed. Every resource the update would replace or delete is listed (offline plans before
    and after it); protected ones (projects, buckets, datasets, keys, the state bucket) need a
    person: no --commit. Exit status: 0 updated (or nothing to do), 4 conflicts, validation
    failures or protected replacements to review, 1 the update could not run.
    """
    json_errors(ctx, as_json, lambda message, _code: {"repo": str(repo), "error": message})
    report = upd.update_repo(
        repo, vcs_ref=vcs_ref, template=template, dry_run=dry_run,
        validate=not no_validate, commit=commit, plan_diff=not no_plan_diff,
    )
    click.echo(json.dumps(report.to_json(), indent=2) if as_json else upd.format_report(report))
    if report.conflicts:
        click.echo(
            "error: conflicts in " + ", ".join(report.conflicts)
            + "; resolve them, `git add` the files, then run `mlopsgen validate`",
            err=True,
        )
    elif report.validation.failed:
        click.echo("error: the updated repo does not validate (see above)", err=True)
    elif report.replacements.protected:
        click.echo(
            "error: the update would replace or delete protected resources (see above); "
            "review them before committing",
            err=True,
        )
    elif report.replacements.needs_attention:
        click.echo("error: the updated repo could not be planned offline (see above)", err=True)
    return ExitCode.ATTENTION if report.needs_attention else ExitCode.OK
