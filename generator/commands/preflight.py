"""`mlopsgen preflight DEST --env ENV [--json]`: check folder, billing account, project ids and
permissions against Cloud Resource Manager before the first bootstrap/apply. Exit 1 on any
failure. Credentials: Application Default Credentials."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from generator import preflight
from generator.commands.plan import EXIT_ERROR, HookError, environments, load_answers


def _context(answers: dict[str, Any]) -> dict[str, Any]:
    from generator import model

    clean = {k: v for k, v in answers.items() if not k.startswith("_")}
    try:
        validated = model.validate_answers(clean)
    except ValueError as exc:
        raise HookError(f".copier-answers.yml does not validate:\n{exc}") from exc
    return model.build_context(validated)


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
def command(dest: Path, env: str, as_json: bool, api_endpoint: str | None) -> None:
    """Check that ENV of DEST can be bootstrapped and applied: exit 1 on any failure."""
    try:
        answers = load_answers(dest.resolve())
        envs = environments(answers)
        if env not in envs:
            raise HookError(f"unknown environment {env!r}: this repo has {', '.join(envs)}")
        target = preflight.target_from_context(_context(answers), env)
    except HookError as exc:
        if as_json:
            click.echo(json.dumps({"env": env, "ok": False, "checks": [], "error":
                                   exc.format_message()}, indent=2))
        click.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(EXIT_ERROR)
    try:
        credentials = preflight.default_credentials()
        clients = preflight.make_clients(credentials, api_endpoint)
        report = preflight.run_checks(target, clients)
    except preflight.CredentialsMissing as exc:
        report = preflight.credentials_report(env, str(exc))
        if not as_json:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_ERROR)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(preflight.render_table(report))
    sys.exit(0 if report.ok else EXIT_ERROR)
