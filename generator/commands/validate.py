"""`mlopsgen validate DEST`: offline terraform checks of a rendered repo."""

from __future__ import annotations

import json
from pathlib import Path

import click

from generator.errors import ExitCode
from generator.offline import LIMITS
from generator.validate import STAGES, format_report, validate_repo

HELP = f"""Check a rendered repo offline with the real terraform binary.

For terraform/bootstrap and every terraform/envs/* root, in a scratch copy with a local
backend: terraform init and plan (plan validates first; terraform validate runs on its own
only with --skip plan), and terraform test where *.tftest.hcl files exist (also in modules);
plus terraform fmt -check, the cloudbuild/*.yaml check, the IAM proof (stage iam: every need
declared in the repo's iam-needs.yaml files against the grants in the plans; a least-privilege
report among the warnings) and checkov (when installed). Prints a summary (root, result,
resources to add by type). Exit codes: 0 no problems, 4 problems
(each with file and line), 1 validate could not run.

Limits: {LIMITS}
"""


@click.command(help=HELP)
@click.argument("dest", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON report.")
@click.option(
    "--skip",
    "skip",
    multiple=True,
    type=click.Choice(STAGES),
    help="Skip a stage (repeatable).",
)
@click.option("--jobs", default=3, show_default=True,
              help="Modules checked in parallel (terraform processes at a time).")
def command(dest: Path, as_json: bool, skip: tuple[str, ...], jobs: int) -> ExitCode:
    def progress(message: str) -> None:
        if not as_json:
            click.echo(f"... {message}", err=True)

    report = validate_repo(dest, skip, jobs=jobs, progress=progress)
    click.echo(json.dumps(report.to_json(), indent=2) if as_json else format_report(report))
    return ExitCode.OK if report.ok else ExitCode.ATTENTION
