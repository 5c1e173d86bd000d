"""`mlopsgen apply DEST --env ENV [--approve]`: apply exactly the plan `mlopsgen plan` saved.

Refuses (exit 3) when there is a reason not to apply what was reviewed:
- the plan was refused by the policy gate, was an `--offline` preview, or was already applied;
- the plan is stale: the configuration hash or the state serial/lineage changed since the plan,
  or the plan file itself changed;
- ENV is protected (default: the last environment) and neither `--approve` was given nor the
  environment name was typed at an interactive prompt (no TTY and no `--approve` => refused).
Prints the root outputs at the end. Exit codes: 0 applied, 1 error, 3 refused.
`--offline` applies a `plan --offline` preview to its local rehearsal state
(`DEST/.mlopsgen/offline/ENV/terraform.tfstate`) with the stand-in providers, so the next
offline plan shows updates and replacements instead of creating everything again.
Never run this from a copier task: it is for a human or a CI job with approval.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from generator.commands.plan import (
    EXIT_ERROR,
    EXIT_REFUSED,
    PLAN_FILE,
    SUMMARY_JSON,
    HookError,
    config_sha256,
    env_root,
    file_sha256,
    load_answers,
    offline_workspace,
    plans_dir,
    protected_environments,
)
from generator.tfrunner import DEFAULT_TIMEOUT_S, OutputValue, Terraform, TerraformError

EXIT_APPLIED = 0


class ApplyRefused(Exception):
    """A reason not to apply; the message says what to do instead."""


@dataclass
class ApplyOutcome:
    env: str
    exit_code: int
    outputs: dict[str, OutputValue] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "status": {0: "applied", 3: "refused"}.get(self.exit_code, "error"),
            "exit_code": self.exit_code,
            "outputs": {
                name: {
                    "value": None if o.sensitive else o.value,
                    "sensitive": o.sensitive,
                    "type": o.type,
                }
                for name, o in sorted(self.outputs.items())
            },
            "error": self.error,
        }


def _load_record(plan_dir: Path, env: str, dest: Path) -> dict[str, Any]:
    path = plan_dir / SUMMARY_JSON
    if not path.is_file():
        raise HookError(
            f"no saved plan for {env!r} in {plan_dir}: run `mlopsgen plan {dest} --env {env}` first"
        )
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return record


def check_record(
    record: dict[str, Any], plan_file: Path, dest: Path, env: str, *, offline: bool = False
) -> None:
    """Refusals that need no terraform: policy refusal, consumed or changed plan file, and an
    offline preview applied for real (or the reverse)."""
    flag = " --offline" if offline else ""
    replan = f"run `mlopsgen plan {dest} --env {env}{flag}` again"
    if bool(record.get("offline")) != offline:
        raise ApplyRefused(f"the saved plan for {env!r} is an --offline preview; {replan}")
    if (record.get("policy") or {}).get("refused"):
        raise ApplyRefused(
            f"the saved plan for {env!r} was refused by the policy gate; fix the change or "
            f"{replan} with --allow-destroy for each protected resource"
        )
    if record.get("applied_at"):
        raise ApplyRefused(
            f"the saved plan for {env!r} was already applied at {record['applied_at']}; {replan}"
        )
    if not plan_file.is_file() or record.get("plan_sha256") is None:
        raise ApplyRefused(f"the plan file {plan_file} is missing; {replan}")
    if file_sha256(plan_file) != record["plan_sha256"]:
        raise ApplyRefused(f"the plan file {plan_file} changed since it was reviewed; {replan}")


def check_fresh(
    record: dict[str, Any], *, config_hash: str, serial: int | None, lineage: str | None,
    dest: Path, env: str,
) -> None:
    """Refuse a stale plan: configuration or state changed since `mlopsgen plan`."""
    replan = f"run `mlopsgen plan {dest} --env {env}` again and review it"
    if record.get("config_sha256") != config_hash:
        raise ApplyRefused(
            f"stale plan: the Terraform configuration of {env!r} changed since the plan "
            f"(sha256 {str(record.get('config_sha256'))[:12]} -> {config_hash[:12]}); {replan}"
        )
    state = record.get("state") or {}
    if state.get("serial") != serial or state.get("lineage") != lineage:
        raise ApplyRefused(
            f"stale plan: the state of {env!r} changed since the plan "
            f"(serial {state.get('serial')} -> {serial}); {replan}"
        )


def stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def confirm_protected(env: str, *, approve: bool, interactive: bool) -> None:
    """Protected environments need --approve or the env name typed at a prompt."""
    if approve:
        return
    if not interactive:
        raise ApplyRefused(
            f"{env!r} is a protected environment: rerun with --approve (no interactive terminal "
            "to confirm on)"
        )
    typed = click.prompt(
        f"{env!r} is protected. Type the environment name to apply", default="",
        show_default=False, err=True,
    )
    if typed.strip() != env:
        raise ApplyRefused(f"confirmation did not match {env!r}; nothing applied")


def run_apply(
    dest: Path,
    env: str,
    *,
    approve: bool = False,
    interactive: bool = False,
    offline: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    progress: Callable[[str], None] | None = None,
    on_output: Callable[[str], None] | None = None,
) -> ApplyOutcome:
    """Apply the saved plan of ENV. `offline` applies an `--offline` preview to its local state
    with the stand-in providers (a rehearsal: nothing reaches Google Cloud, no approval asked)."""
    dest = dest.resolve()
    answers = load_answers(dest)
    root = env_root(dest, answers, env)
    plan_dir = plans_dir(dest, env, offline=offline)
    record = _load_record(plan_dir, env, dest)
    plan_file = plan_dir / PLAN_FILE
    check_record(record, plan_file, dest, env, offline=offline)

    with contextlib.ExitStack() as stack:
        tf_env: dict[str, str] = {}
        work_root = root
        if offline:
            work_root, tf_env = stack.enter_context(offline_workspace(dest, env))
        tf = Terraform(
            work_root, env=tf_env, timeout_s=timeout_s, progress=progress, on_output=on_output
        )
        tf.init()
        state = tf.state_info()
        check_fresh(
            record, config_hash=config_sha256(work_root, include_lock=not offline),
            serial=state.serial, lineage=state.lineage, dest=dest, env=env,
        )
        if not offline and env in protected_environments(answers):
            confirm_protected(env, approve=approve, interactive=interactive)

        tf.apply_plan(plan_file)
        record["applied_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        (plan_dir / SUMMARY_JSON).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        plan_file.unlink()  # a saved plan applies once
        outputs = tf.output()
    return ApplyOutcome(env=env, exit_code=EXIT_APPLIED, outputs=outputs)


def _stderr(line: str) -> None:
    click.echo(line, err=True)


@click.command("apply")
@click.argument(
    "dest", type=click.Path(exists=True, file_okay=False, path_type=Path), default="."
)
@click.option("--env", "env", required=True, help="Environment whose saved plan to apply.")
@click.option(
    "--approve", is_flag=True, help="Approve applying to a protected environment without a prompt."
)
@click.option(
    "--offline",
    is_flag=True,
    help="Rehearse: apply the `plan --offline` preview to its local state with the stand-in "
    "providers (nothing reaches Google Cloud).",
)
@click.option(
    "--timeout", "timeout_s", type=float, default=DEFAULT_TIMEOUT_S, show_default=True,
    help="Seconds each terraform command may run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON on stdout.")
@click.option("--quiet", is_flag=True, help="Do not stream terraform's own messages.")
def command(
    dest: Path, env: str, approve: bool, offline: bool, timeout_s: float, as_json: bool,
    quiet: bool,
) -> None:
    """Apply the plan `mlopsgen plan` saved for ENV, if it is still what was reviewed.

    Exit codes: 0 applied, 1 error, 3 refused (stale, protected without approval, gate).
    """
    try:
        outcome = run_apply(
            dest,
            env,
            approve=approve,
            interactive=stdin_is_tty() and not as_json,
            offline=offline,
            timeout_s=timeout_s,
            progress=_stderr,
            on_output=None if quiet else _stderr,
        )
    except ApplyRefused as exc:
        outcome = ApplyOutcome(env=env, exit_code=EXIT_REFUSED, error=str(exc))
    except HookError as exc:
        outcome = ApplyOutcome(env=env, exit_code=EXIT_ERROR, error=exc.format_message())
    except TerraformError as exc:
        outcome = ApplyOutcome(env=env, exit_code=EXIT_ERROR, error=str(exc))
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2))
    if outcome.error:
        label = "Refused" if outcome.exit_code == EXIT_REFUSED else "Error"
        click.echo(f"{label}: {outcome.error}", err=True)
    elif not as_json:
        what = "offline rehearsal state" if offline else env
        click.echo(f"Applied the saved plan to {what}.")
        if outcome.outputs:
            click.echo("Outputs:")
            width = max(len(n) for n in outcome.outputs)
            for name, out in sorted(outcome.outputs.items()):
                click.echo(f"  {name:<{width}} = {out.display()}")
    sys.exit(outcome.exit_code)
