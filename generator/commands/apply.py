"""`mlopsgen apply DEST --env ENV [--approve]`: apply exactly the plan `mlopsgen plan` saved.

Exit codes: 0 applied, 1 error, 3 refused (see generator.apply for every refusal). Never run
this from a copier task: it is for a human or a CI job with approval.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from generator.apply import ApplyOutcome, run_apply
from generator.cli import json_errors
from generator.errors import ExitCode
from generator.plan import TerraformOptions
from generator.tfrunner import DEFAULT_TIMEOUT_S


def _stderr(line: str) -> None:
    click.echo(line, err=True)


def stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def _prompt(env: str) -> bool:
    typed = click.prompt(
        f"{env!r} needs approval. Type the environment name to apply", default="",
        show_default=False, err=True,
    )
    return str(typed).strip() == env


@click.command("apply")
@click.argument(
    "dest", type=click.Path(exists=True, file_okay=False, path_type=Path), default="."
)
@click.option("--env", "env", required=True, help="Environment whose saved plan to apply.")
@click.option(
    "--approve", is_flag=True,
    help="Approve applying to an environment that needs approval (every one after the first) "
    "without a prompt.",
)
@click.option(
    "--offline", is_flag=True,
    help="Rehearse: apply the `plan --offline` preview to its local state with the stand-in "
    "providers (nothing reaches Google Cloud).",
)
@click.option(
    "--timeout", "timeout_s", type=float, default=DEFAULT_TIMEOUT_S, show_default=True,
    help="Seconds each terraform command may run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON on stdout.")
@click.option("--quiet", is_flag=True, help="Do not stream terraform's own messages.")
@click.pass_context
def command(
    ctx: click.Context, dest: Path, env: str, approve: bool, offline: bool, timeout_s: float,
    as_json: bool, quiet: bool,
) -> ExitCode:
    """Apply the plan `mlopsgen plan` saved for ENV, if it is still what was reviewed.

    Exit codes: 0 applied, 1 error, 3 refused (stale, approval missing, gate).
    """
    json_errors(ctx, as_json, lambda message, code: ApplyOutcome(
        env=env, exit_code=code, error=message
    ).to_json())
    interactive = stdin_is_tty() and not as_json
    outcome = run_apply(
        dest, env, approve=approve, confirm=_prompt if interactive else None, offline=offline,
        options=TerraformOptions(
            timeout_s=timeout_s, progress=_stderr, on_output=None if quiet else _stderr
        ),
    )
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2))
        return outcome.exit_code
    what = "offline rehearsal state" if offline else env
    click.echo(f"Applied the saved plan to {what}.")
    if outcome.outputs:
        click.echo("Outputs:")
        width = max(len(n) for n in outcome.outputs)
        for name, out in sorted(outcome.outputs.items()):
            click.echo(f"  {name:<{width}} = {out.display()}")
    return outcome.exit_code
