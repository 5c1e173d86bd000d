"""`mlopsgen plan DEST --env ENV`: saved plan, summary table and policy gate (generator.plan).

Exit codes: 0 no changes, 2 changes (terraform's `-detailed-exitcode`), 1 error, 3 refused by
the policy gate. `--offline` previews with the stand-in providers and a local backend
(`DEST/.mlopsgen/offline/ENV/terraform.tfstate`): no credentials; only `apply --offline`
rehearses such a plan.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from generator import plan_policy, plan_summary
from generator.cli import json_errors
from generator.errors import ExitCode
from generator.offline import LIMITS
from generator.plan import PlanOutcome, PlanRequest, TerraformOptions, run_plan
from generator.tfrunner import DEFAULT_TIMEOUT_S


def _stderr(line: str) -> None:
    click.echo(line, err=True)


def _print(outcome: PlanOutcome, dest: Path) -> None:
    assert outcome.summary is not None and outcome.policy is not None
    title = f"Plan for {outcome.env}" + (" (offline preview)" if outcome.offline else "")
    click.echo(title)
    click.echo(plan_summary.render_table(outcome.summary, color=sys.stdout.isatty()))
    click.echo("")
    click.echo(plan_policy.render(outcome.policy))
    click.echo(f"Saved in {outcome.plan_dir}")
    if outcome.offline:
        click.echo(f"Note: {LIMITS}")
    elif outcome.exit_code == ExitCode.CHANGES:
        click.echo(f"Apply it with: mlopsgen apply {dest} --env {outcome.env}")


@click.command("plan")
@click.argument(
    "dest", type=click.Path(exists=True, file_okay=False, path_type=Path), default="."
)
@click.option("--env", "env", required=True, help="Environment to plan (one of the answers').")
@click.option(
    "--offline",
    is_flag=True,
    help="Preview with stand-in providers and a local backend (no credentials); only "
    "`apply --offline` rehearses it.",
)
@click.option(
    "--allow-destroy", "allow_destroy", multiple=True, metavar="ADDR",
    help="Allow deleting/replacing this protected resource (full address or TYPE.NAME). Repeat.",
)
@click.option(
    "--protect-type", "protect_types", multiple=True, metavar="TYPE",
    help="Also treat this resource type as protected (adds to the Google defaults). Repeat.",
)
@click.option(
    "--replace", "replace", multiple=True, metavar="ADDR",
    help="Force replacement of this resource (terraform plan -replace). Repeat.",
)
@click.option(
    "--lock/--no-lock", default=True, show_default=True,
    help="Take the state lock while planning; --no-lock for an account that may only read "
    "state (pull request CI). `mlopsgen apply` refuses a plan whose state changed anyway.",
)
@click.option(
    "--timeout", "timeout_s", type=float, default=DEFAULT_TIMEOUT_S, show_default=True,
    help="Seconds each terraform command may run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON on stdout.")
@click.option("--quiet", is_flag=True, help="Do not stream terraform's own messages.")
@click.pass_context
def command(
    ctx: click.Context,
    dest: Path,
    env: str,
    offline: bool,
    allow_destroy: tuple[str, ...],
    protect_types: tuple[str, ...],
    replace: tuple[str, ...],
    lock: bool,
    timeout_s: float,
    as_json: bool,
    quiet: bool,
) -> ExitCode:
    """Plan ENV of the client repo DEST: summary, policy gate, saved plan for `mlopsgen apply`.

    Exit codes: 0 no changes, 2 changes (as terraform's -detailed-exitcode), 1 error, 3
    refused by the policy gate.
    """
    json_errors(ctx, as_json, lambda message, code: PlanOutcome(
        env=env, offline=offline, exit_code=code, plan_dir=dest, error=message,
    ).to_json())
    request = PlanRequest(
        env=env, offline=offline, allow_destroy=allow_destroy,
        extra_protected_types=protect_types, replace=replace, lock=lock,
    )
    options = TerraformOptions(
        timeout_s=timeout_s, progress=_stderr, on_output=None if quiet else _stderr
    )
    outcome = run_plan(dest, request, options)
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2))
    else:
        _print(outcome, dest)
    return outcome.exit_code
