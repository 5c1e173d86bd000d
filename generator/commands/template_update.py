"""`mlopsgen template-update`: the scheduled template-update build's command (one pull request
per target release; `generator/selfupdate_run.py`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from generator import selfupdate_run as run
from generator.cli import json_errors
from generator.errors import ExitCode


@click.command("template-update")
@click.argument("repo", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--open-pr", is_flag=True,
              help="Push the branch template-update/<tag> and open or refresh its pull request "
              "(GITHUB_TOKEN: contents and pull requests read/write); close superseded ones.")
@click.option("--github-repo", metavar="OWNER/NAME",
              help="The repo on GitHub; default: the answers' github_owner/github_repo.")
@click.option("--base", help="Branch to update and open the pull request into; default: the "
              "first environment's branch.")
@click.option("--remote", help="Where to clone the base branch from and push to; default: "
              "the GitHub repo's URL (with --open-pr), else REPO.")
@click.option("--no-validate", is_flag=True, help="Skip `mlopsgen validate` of the update.")
@click.option("--no-plan-diff", is_flag=True, help="Skip the replacement check.")
@click.option("--body", "show_body", is_flag=True, help="Also print the pull request's body.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def command(ctx: click.Context, repo: Path, open_pr: bool, github_repo: str | None,
            base: str | None, remote: str | None, no_validate: bool, no_plan_diff: bool,
            show_body: bool, as_json: bool) -> ExitCode:
    """Update a fresh clone of REPO's base branch (default: .) to the newest template release,
    on the branch template-update/<tag>.

    Without --open-pr nothing is written anywhere: the result says what the pull request would
    say. With it, the branch is pushed and exactly one pull request per target release is kept:
    opened (a draft when files conflict), refreshed when the base moved, closed when a newer
    release supersedes it. Nothing newer: no pull request. Exit status: 0 done (conflicts and
    validation failures are in the pull request), 1 it could not run.
    """
    json_errors(ctx, as_json, lambda message, _code: {"repo": str(repo), "error": message})
    result = run.template_update(run.Request(
        repo=repo, open_pr=open_pr, github_repo=github_repo, base=base, remote=remote,
        validate=not no_validate, plan_diff=not no_plan_diff))
    if as_json:
        doc = result.to_json()
        if show_body:
            doc["body"] = result.body
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(run.format_result(result))
        if show_body and result.body:
            click.echo("\n" + result.body)
    return ExitCode.OK
