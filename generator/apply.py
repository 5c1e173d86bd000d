"""The apply hook: apply exactly the plan `generator.plan` saved, if it is still what was reviewed.

Refuses (`ApplyRefused`, exit 3) when the plan was refused by the policy gate, is an
`--offline` preview applied for real (or the reverse), was already applied, changed on disk,
or is stale (configuration hash, state serial or lineage changed since the plan); and when the
environment needs approval by the model's rule (`approval_required`: every environment after
the first, as Cloud Build, Jenkins and the client README say) and none was given.
`offline` applies a `plan --offline` preview to its local rehearsal state with the stand-in
providers, so the next offline plan shows updates instead of creating everything again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from generator.client_repo import ClientRepo
from generator.errors import ExitCode, Refused
from generator.plan import (
    TerraformOptions,
    config_sha256,
    env_terraform,
    file_sha256,
    load_record,
    save_record,
)
from generator.tfrunner import OutputValue, StateInfo

# asks a person to confirm applying to ENV; True when they did (None: nobody to ask)
Confirm = Callable[[str], bool]


class ApplyRefused(Refused):
    """A reason not to apply; the message says what to do instead."""


@dataclass
class ApplyOutcome:
    env: str
    exit_code: ExitCode
    outputs: dict[str, OutputValue] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "status": {0: "applied", 3: "refused"}.get(int(self.exit_code), "error"),
            "exit_code": int(self.exit_code),
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
    record: dict[str, Any], *, config_hash: str, state: StateInfo, dest: Path, env: str
) -> None:
    """Refuse a stale plan: configuration or state changed since `mlopsgen plan`."""
    replan = f"run `mlopsgen plan {dest} --env {env}` again and review it"
    if record.get("config_sha256") != config_hash:
        raise ApplyRefused(
            f"stale plan: the Terraform configuration of {env!r} changed since the plan "
            f"(sha256 {str(record.get('config_sha256'))[:12]} -> {config_hash[:12]}); {replan}"
        )
    saved = record.get("state") or {}
    if saved.get("serial") != state.serial or saved.get("lineage") != state.lineage:
        raise ApplyRefused(
            f"stale plan: the state of {env!r} changed since the plan "
            f"(serial {saved.get('serial')} -> {state.serial}); {replan}"
        )


def check_approval(env: str, *, approve: bool, confirm: Confirm | None) -> None:
    """An environment that needs approval: `--approve`, or the name typed at a prompt."""
    if approve:
        return
    if confirm is None:
        raise ApplyRefused(
            f"{env!r} is a protected environment: rerun with --approve (every environment after "
            "the first needs approval; there is no interactive terminal to confirm on)"
        )
    if not confirm(env):
        raise ApplyRefused(f"confirmation did not match {env!r}; nothing applied")


def run_apply(
    path: Path,
    env: str,
    *,
    approve: bool = False,
    confirm: Confirm | None = None,
    offline: bool = False,
    options: TerraformOptions | None = None,
) -> ApplyOutcome:
    """Apply the saved plan of ENV; raises ApplyRefused or another MlopsgenError."""
    repo = ClientRepo.open(path)
    needs_approval = repo.needs_approval(env) and not offline  # a rehearsal changes no cloud
    record, plan_file = load_record(repo, env, offline=offline)
    check_record(record, plan_file, repo.path, env, offline=offline)
    opts = options or TerraformOptions()
    with env_terraform(repo, env, offline=offline, options=opts) as (tf, root):
        tf.init()
        check_fresh(
            record, config_hash=config_sha256(root, include_lock=not offline),
            state=tf.state_info(), dest=repo.path, env=env,
        )
        if needs_approval:
            check_approval(env, approve=approve, confirm=confirm)
        tf.apply_plan(plan_file)
        record["applied_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        save_record(repo, env, record, offline=offline)
        plan_file.unlink()  # a saved plan applies once
        outputs = tf.output()
    return ApplyOutcome(env=env, exit_code=ExitCode.OK, outputs=outputs)
