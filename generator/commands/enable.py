"""`mlopsgen enable FEATURE [REPO]`: turn a platform feature on in a rendered client repo."""

from __future__ import annotations

import json
from pathlib import Path

import click

from generator import features
from generator.answers import FEATURES
from generator.cli import json_errors
from generator.errors import ExitCode


def make_command(enable: bool) -> click.Command:
    """`enable` or `disable`: the same options, the same path (generator/features.py)."""
    verb = "enable" if enable else "disable"

    @click.command(verb)
    @click.argument("feature")
    @click.argument("repo", type=click.Path(file_okay=False, path_type=Path), default=".")
    @click.option("--template", help="Template location, when the recorded one moved.")
    @click.option("--dry-run", is_flag=True,
                  help="Show what would change; write nothing (a temporary clone).")
    @click.option("--no-validate", is_flag=True, help="Skip `mlopsgen validate` afterwards.")
    @click.option("--no-plan-diff", is_flag=True,
                  help="Skip the replacement check (what the change would replace or delete).")
    @click.option("--commit", is_flag=True, help="Commit the change if it is clean and validates.")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    @click.pass_context
    def command(
        ctx: click.Context, feature: str, repo: Path, template: str | None, dry_run: bool,
        no_validate: bool, no_plan_diff: bool, commit: bool, as_json: bool,
    ) -> ExitCode:
        json_errors(ctx, as_json, lambda message, _code: {
            "repo": str(repo), "feature": feature, "action": verb, "error": message})
        report = features.set_feature(
            repo, feature, enable=enable, template=template, dry_run=dry_run,
            validate=not no_validate, plan_diff=not no_plan_diff, commit=commit,
        )
        click.echo(json.dumps(report.to_json(), indent=2) if as_json
                   else features.format_report(report, repo))
        if report.needs_attention:
            click.echo(f"error: {verb} {feature} needs a person: see the conflicts, validation "
                       "or replacements above", err=True)
        return ExitCode.ATTENTION if report.needs_attention else ExitCode.OK

    command.help = (
        f"{verb.capitalize()} FEATURE in REPO (default: .), at its current template version.\n\n"
        f"Changes the recorded `features` answer (one of: {', '.join(FEATURES)}; the answers "
        "model checks the new set, and nothing is written if it refuses it), then runs the "
        "update path of `mlopsgen update`: copier's 3-way update with the new answer, "
        "conflicted files listed, offline validation, and every resource the change would "
        "replace or delete (protected ones need a person: no --commit). Refuses a dirty repo. "
        "Exit status: 0 done (or nothing to do), 4 conflicts, validation failures or "
        "protected replacements to review, 1 could not run (an answer the model refuses)."
    )
    return command


command = make_command(enable=True)
