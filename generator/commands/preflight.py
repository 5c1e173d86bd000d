"""`mlopsgen preflight DEST --env ENV [--json]`: check folder, billing account, project ids and
permissions against Cloud Resource Manager before the first bootstrap/apply. Exit 4 when a
check fails, 1 when preflight cannot run. Credentials: Application Default Credentials."""

from __future__ import annotations

import json
from pathlib import Path

import click

from generator import preflight
from generator.cli import json_errors
from generator.client_repo import ClientRepo
from generator.errors import CredentialsMissing, ExitCode


@click.command("preflight")
@click.argument(
    "dest", type=click.Path(exists=True, file_okay=False, path_type=Path), default="."
)
@click.option("--env", "env", required=True, help="Environment to check (one of the answers').")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON on stdout.")
@click.option(
    "--api-endpoint",
    envvar="MLOPSGEN_RESOURCE_MANAGER_ENDPOINT",
    default=None,
    metavar="URL",
    help="Resource Manager endpoint (default: the public one), e.g. a Private Service Connect "
    "endpoint. Env: MLOPSGEN_RESOURCE_MANAGER_ENDPOINT.",
)
@click.pass_context
def command(
    ctx: click.Context, dest: Path, env: str, as_json: bool, api_endpoint: str | None
) -> ExitCode:
    """Check that ENV of DEST can be bootstrapped and applied: exit 4 on any failed check."""
    json_errors(ctx, as_json, lambda message, _code: {
        "env": env, "ok": False, "checks": [], "error": message,
    })
    repo = ClientRepo.open(dest)
    repo.environment(env)
    target = preflight.target_from_context(repo.context, env)
    try:
        credentials = preflight.default_credentials()
    except CredentialsMissing as missing:
        if not as_json:
            raise
        # scripts get the checks document: one failed "credentials" check, exit 1
        click.echo(json.dumps(preflight.credentials_report(env, str(missing)).to_json(), indent=2))
        return ExitCode.ERROR
    report = preflight.run_checks(target, preflight.make_clients(credentials, api_endpoint))
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(preflight.render_table(report))
    return ExitCode.OK if report.ok else ExitCode.ATTENTION
