"""`mlopsgen plan DEST --env ENV`: saved plan, summary table and policy gate.

Runs `terraform init` (the env's own backend), `plan -out`, `show -json` in
`DEST/terraform/envs/ENV`, prints a summary per resource type with the destructive changes
highlighted, and applies the policy gate (generator.plan_policy). Writes, side by side in
`DEST/.mlopsgen/plans/ENV/`: `tfplan` (the saved plan), `plan.json` (`show -json`) and
`summary.json` (summary, gate result, sha256 of the configuration and the state serial the plan
was made against; `mlopsgen apply` refuses the plan when either changed).

Exit codes: 0 no changes, 2 changes, 1 error, 3 refused by the policy gate.

`--offline` plans a scratch copy of `DEST/terraform` with a local backend
(`DEST/.mlopsgen/offline/ENV/terraform.tfstate`) and the stand-in google/google-beta/github
providers of generator.offline: a preview without credentials. Such a plan is never applied to
Google Cloud; `mlopsgen apply --offline` applies it to the local rehearsal state only.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import yaml

from generator import plan_policy, plan_summary
from generator.tfrunner import DEFAULT_TIMEOUT_S, Terraform, TerraformError

EXIT_NO_CHANGES = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_REFUSED = 3

ANSWERS_FILE = ".copier-answers.yml"
STATE_DIR = ".mlopsgen"
PLAN_FILE = "tfplan"
PLAN_JSON = "plan.json"
SUMMARY_JSON = "summary.json"
BACKEND_OVERRIDE = "mlopsgen_backend_override.tf"
SUMMARY_FORMAT = 1

_HASH_SKIP_DIRS = {".terraform", ".git", STATE_DIR}
_HASH_SKIP_FILE = re.compile(r"(\.tfstate(\.backup)?$|^\.terraform\.tfstate\.lock\.info$|^tfplan$)")
_BUCKET_RE = re.compile(r'\bbucket\s*=\s*"([^"]+)"')


class HookError(click.ClickException):
    """An error the consultant can act on; exit code 1."""

    exit_code = EXIT_ERROR


# -- client repo ---------------------------------------------------------------------------------


def load_answers(dest: Path) -> dict[str, Any]:
    path = dest / ANSWERS_FILE
    if not path.is_file():
        raise HookError(
            f"{path} not found: DEST must be a repo rendered by `mlopsgen new` (or copier copy)"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise HookError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise HookError(f"{path} must hold a mapping of answers")
    return data


def environments(answers: Mapping[str, Any]) -> list[str]:
    envs = answers.get("environments")
    if not isinstance(envs, list) or not envs:
        raise HookError(f"{ANSWERS_FILE} has no `environments` list")
    return [str(e) for e in envs]


def env_root(dest: Path, answers: Mapping[str, Any], env: str) -> Path:
    envs = environments(answers)
    if env not in envs:
        raise HookError(f"unknown environment {env!r}: this repo has {', '.join(envs)}")
    root = dest / "terraform" / "envs" / env
    if not root.is_dir():
        raise HookError(f"{root} not found: the repo has no Terraform root for {env!r}")
    return root


def protected_environments(answers: Mapping[str, Any]) -> list[str]:
    """Environments that need approval to apply: `protected_environments` if answered, else the
    last (production) environment."""
    explicit = answers.get("protected_environments")
    if isinstance(explicit, list):
        return [str(e) for e in explicit]
    return [environments(answers)[-1]]


def state_root(dest: Path) -> Path:
    """`DEST/.mlopsgen`, made self-ignoring for git (a `.gitignore` holding `*`)."""
    root = dest / STATE_DIR
    root.mkdir(parents=True, exist_ok=True)
    ignore = root / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# mlopsgen plan files: local, never committed\n*\n", encoding="utf-8")
    return root


def plans_dir(dest: Path, env: str, *, offline: bool = False) -> Path:
    path = state_root(dest) / "plans" / env
    return path / "offline" if offline else path


def backend_bucket(root: Path) -> str | None:
    """The GCS state bucket named in the root's backend.tf, if any."""
    backend = root / "backend.tf"
    if not backend.is_file():
        return None
    text = backend.read_text(encoding="utf-8")
    if 'backend "gcs"' not in text:
        return None
    found = _BUCKET_RE.search(text)
    return found.group(1) if found else None


def _module_dirs(root: Path) -> list[Path]:
    """The root and every module directory terraform init resolved (local and downloaded)."""
    dirs = [root]
    manifest = root / ".terraform" / "modules" / "modules.json"
    if manifest.is_file():
        for mod in json.loads(manifest.read_text(encoding="utf-8")).get("Modules", []):
            d = mod.get("Dir")
            if d:
                dirs.append((root / d).resolve())
    return dirs


def _hash_files(dirs: Iterable[Path]) -> Iterator[Path]:
    seen: set[Path] = set()
    for top in dirs:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d not in _HASH_SKIP_DIRS)
            for name in sorted(filenames):
                if _HASH_SKIP_FILE.search(name) or name == BACKEND_OVERRIDE:
                    continue
                path = Path(dirpath, name).resolve()
                if path not in seen and path.is_file():
                    seen.add(path)
                    yield path


def config_sha256(root: Path, *, include_lock: bool = True) -> str:
    """sha256 over the configuration: every file of the root and of each module it calls (paths
    relative to the root, then contents), without state, plan files and `.terraform/`.
    `include_lock=False` leaves out `.terraform.lock.hcl` (offline scratch copies, whose lock
    file is made afresh for the stand-in providers; terraform checks providers itself)."""
    digest = hashlib.sha256()
    base = root.resolve()
    entries = sorted(
        (os.path.relpath(p, base), p)
        for p in _hash_files(_module_dirs(base))
        if include_lock or p.name != ".terraform.lock.hcl"
    )
    for rel, path in entries:
        digest.update(rel.replace(os.sep, "/").encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- offline -------------------------------------------------------------------------------------


@contextlib.contextmanager
def offline_workspace(dest: Path, env: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """A scratch copy of DEST/terraform whose env root uses a local backend, and the environment
    for terraform to use the stand-in providers. Yields (env root in scratch, env vars)."""
    try:
        offline_providers = importlib.import_module("generator.offline").offline_providers
    except (ImportError, AttributeError) as exc:
        raise HookError(
            "--offline needs generator.offline.offline_providers (the stand-in providers), "
            f"which this installation lacks: {exc}"
        ) from exc
    state_file = state_root(dest) / "offline" / env / "terraform.tfstate"
    state_file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlopsgen-offline-") as tmp:
        scratch = Path(tmp)
        shutil.copytree(
            dest / "terraform",
            scratch / "terraform",
            ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"),
            symlinks=True,
        )
        root = scratch / "terraform" / "envs" / env
        (root / BACKEND_OVERRIDE).write_text(
            'terraform {\n  backend "local" {\n'
            f"    path = {json.dumps(str(state_file.resolve()))}\n"
            "  }\n}\n",
            encoding="utf-8",
        )
        kwargs: dict[str, Any] = {}
        if "reattach" in inspect.signature(offline_providers).parameters:
            kwargs["reattach"] = True  # one long-lived stand-in process: much faster
        with offline_providers(scratch, **kwargs) as tf_env:
            yield root, dict(tf_env)


def offline_limits() -> str | None:
    """What the stand-in providers cannot show (generator.offline.LIMITS), if available."""
    try:
        limits = getattr(importlib.import_module("generator.offline"), "LIMITS", None)
    except ImportError:
        return None
    return str(limits) if limits else None


# -- the plan workflow ---------------------------------------------------------------------------


@dataclass
class PlanOutcome:
    env: str
    offline: bool
    exit_code: int
    plan_dir: Path
    summary: plan_summary.PlanSummary | None = None
    policy: plan_policy.PolicyResult | None = None
    record: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def status(self) -> str:
        return {
            EXIT_NO_CHANGES: "no-changes",
            EXIT_CHANGES: "changes",
            EXIT_REFUSED: "refused",
        }.get(self.exit_code, "error")

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "offline": self.offline,
            "status": self.status,
            "exit_code": self.exit_code,
            "plan_dir": str(self.plan_dir),
            "plan_file": self.record.get("plan_file_path"),
            "plan_json": str(self.plan_dir / PLAN_JSON) if self.record else None,
            "summary_json": str(self.plan_dir / SUMMARY_JSON) if self.record else None,
            "config_sha256": self.record.get("config_sha256"),
            "state_serial": (self.record.get("state") or {}).get("serial"),
            "summary": self.summary.to_dict() if self.summary else None,
            "policy": self.policy.to_dict() if self.policy else None,
            "error": self.error,
        }


def run_plan(
    dest: Path,
    env: str,
    *,
    offline: bool = False,
    allow_destroy: Iterable[str] = (),
    extra_protected_types: Iterable[str] = (),
    replace: Iterable[str] = (),
    timeout_s: float = DEFAULT_TIMEOUT_S,
    progress: Callable[[str], None] | None = None,
    on_output: Callable[[str], None] | None = None,
) -> PlanOutcome:
    """Plan ENV of the client repo DEST; raises HookError/TerraformError on errors."""
    dest = dest.resolve()
    answers = load_answers(dest)
    root = env_root(dest, answers, env)
    out_dir = plans_dir(dest, env, offline=offline)
    state_bucket = backend_bucket(root)
    protected = set(plan_policy.DEFAULT_PROTECTED_TYPES) | set(extra_protected_types)
    allow = list(allow_destroy)

    with contextlib.ExitStack() as stack:
        tf_env: dict[str, str] = {}
        work_root = root
        if offline:
            work_root, tf_env = stack.enter_context(offline_workspace(dest, env))
        tf = Terraform(
            work_root, env=tf_env, timeout_s=timeout_s, progress=progress, on_output=on_output
        )
        version = tf.version()
        tf.init()
        state = tf.state_info()
        config_hash = config_sha256(work_root, include_lock=not offline)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        plan_file = out_dir / PLAN_FILE
        result = tf.plan(plan_file, replace=list(replace))

    summary = plan_summary.summarize(result.plan_json)
    policy = plan_policy.evaluate(
        result.plan_json,
        allow_destroy=allow,
        protected_types=protected,
        state_bucket=state_bucket,
    )
    (out_dir / PLAN_JSON).write_text(json.dumps(result.plan_json), encoding="utf-8")
    if policy.refused:
        exit_code = EXIT_REFUSED
        plan_file.unlink()  # a refused plan must not be applied
    elif result.has_changes:
        exit_code = EXIT_CHANGES
    else:
        exit_code = EXIT_NO_CHANGES
    record: dict[str, Any] = {
        "format": SUMMARY_FORMAT,
        "env": env,
        "offline": offline,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "terraform_version": version,
        "root": os.path.relpath(root, dest),
        "config_sha256": config_hash,
        "state": {"serial": state.serial, "lineage": state.lineage},
        "state_bucket": state_bucket,
        "plan_file": PLAN_FILE if plan_file.exists() else None,
        "plan_file_path": str(plan_file) if plan_file.exists() else None,
        "plan_sha256": file_sha256(plan_file) if plan_file.exists() else None,
        "has_changes": result.has_changes,
        "allow_destroy": allow,
        "protected_types": sorted(protected),
        "summary": summary.to_dict(),
        "policy": policy.to_dict(),
        "exit_code": exit_code,
    }
    (out_dir / SUMMARY_JSON).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return PlanOutcome(
        env=env,
        offline=offline,
        exit_code=exit_code,
        plan_dir=out_dir,
        summary=summary,
        policy=policy,
        record=record,
    )


def _stderr(line: str) -> None:
    click.echo(line, err=True)


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
    "--allow-destroy",
    "allow_destroy",
    multiple=True,
    metavar="ADDR",
    help="Allow deleting/replacing this protected resource (full address or TYPE.NAME). Repeat.",
)
@click.option(
    "--protect-type",
    "protect_types",
    multiple=True,
    metavar="TYPE",
    help="Also treat this resource type as protected (adds to the Google defaults). Repeat.",
)
@click.option(
    "--replace",
    "replace",
    multiple=True,
    metavar="ADDR",
    help="Force replacement of this resource (terraform plan -replace). Repeat.",
)
@click.option(
    "--timeout", "timeout_s", type=float, default=DEFAULT_TIMEOUT_S, show_default=True,
    help="Seconds each terraform command may run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON on stdout.")
@click.option("--quiet", is_flag=True, help="Do not stream terraform's own messages.")
def command(
    dest: Path,
    env: str,
    offline: bool,
    allow_destroy: tuple[str, ...],
    protect_types: tuple[str, ...],
    replace: tuple[str, ...],
    timeout_s: float,
    as_json: bool,
    quiet: bool,
) -> None:
    """Plan ENV of the client repo DEST: summary, policy gate, saved plan for `mlopsgen apply`.

    Exit codes: 0 no changes, 2 changes, 1 error, 3 refused by the policy gate.
    """
    dest_dir = dest.resolve()
    try:
        outcome = run_plan(
            dest_dir,
            env,
            offline=offline,
            allow_destroy=allow_destroy,
            extra_protected_types=protect_types,
            replace=replace,
            timeout_s=timeout_s,
            progress=_stderr,
            on_output=None if quiet else _stderr,
        )
    except (HookError, TerraformError) as exc:
        message = exc.format_message() if isinstance(exc, HookError) else str(exc)
        if as_json:
            failed = PlanOutcome(
                env=env, offline=offline, exit_code=EXIT_ERROR,
                plan_dir=plans_dir(dest_dir, env, offline=offline) if dest_dir.is_dir() else dest,
                error=message,
            )
            click.echo(json.dumps(failed.to_json(), indent=2))
        click.echo(f"Error: {message}", err=True)
        sys.exit(EXIT_ERROR)
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2))
    else:
        assert outcome.summary is not None and outcome.policy is not None
        color = sys.stdout.isatty()
        title = f"Plan for {env}" + (" (offline preview)" if offline else "")
        click.echo(title)
        click.echo(plan_summary.render_table(outcome.summary, color=color))
        click.echo("")
        click.echo(plan_policy.render(outcome.policy))
        click.echo(f"Saved in {outcome.plan_dir}")
        if offline and (limits := offline_limits()):
            click.echo(f"Note: {limits}")
        if outcome.exit_code == EXIT_CHANGES and not offline:
            click.echo(f"Apply it with: mlopsgen apply {dest} --env {env}")
    sys.exit(outcome.exit_code)
