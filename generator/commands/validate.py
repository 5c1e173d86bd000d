"""`mlopsgen validate DEST`: offline terraform checks of a rendered repo."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from generator.offline import LIMITS
from generator.validate import STAGES, ValidateError, format_report, validate_repo

HELP = f"""Check a rendered repo offline with the real terraform binary.

For terraform/bootstrap and every terraform/envs/* root, in a scratch copy with a local
backend: terraform init, validate and plan, and terraform test where *.tftest.hcl files exist
(also in modules); plus terraform fmt -check, the cloudbuild/*.yaml check and checkov (when
installed). Prints a summary (root, result, resources to add by type) and exits 1 on any
problem, naming file and line.

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
@click.option("--jobs", default=3, show_default=True, help="Root modules checked in parallel.")
def command(dest: Path, as_json: bool, skip: tuple[str, ...], jobs: int) -> None:
    def progress(message: str) -> None:
        if not as_json:
            click.echo(f"... {message}", err=True)

    try:
        report = validate_repo(dest, skip, jobs=jobs, progress=progress)
    except ValidateError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(format_report(report))
    sys.exit(0 if report.ok else 1)
