"""The plan hook: a saved plan of one environment, its summary, the policy gate and the record.

`run_plan` runs `terraform init`, `plan -out`, `show -json` in the environment's root (or in an
offline workspace with the stand-in providers), summarises the plan (generator.plan_summary),
applies the policy gate (generator.plan_policy) and writes, side by side in
`.mlopsgen/plans/ENV/` (`.../ENV/offline/` for previews): `tfplan` (the saved plan),
`plan.json` (`show -json`) and `summary.json` (the record: summary, gate result, sha256 of
the configuration and the state serial the plan was made against). `generator.apply` reads the
record and refuses a plan that is no longer what was reviewed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from generator import plan_policy, plan_summary
from generator.client_repo import STATE_DIR, ClientRepo
from generator.errors import ExitCode, RepoError
from generator.tfrunner import DEFAULT_TIMEOUT_S, PlanOptions, Progress, StateInfo, Terraform
from generator.workspace import OVERRIDE_FILE, Workspace, offline_workspace

PLAN_FILE = "tfplan"
PLAN_JSON = "plan.json"
SUMMARY_JSON = "summary.json"
SUMMARY_FORMAT = 1

_HASH_SKIP_DIRS = {".terraform", ".git", STATE_DIR}
_HASH_SKIP_FILE = re.compile(r"(\.tfstate(\.backup)?$|^\.terraform\.tfstate\.lock\.info$|^tfplan$)")
_STATUS = {ExitCode.OK: "no-changes", ExitCode.CHANGES: "changes", ExitCode.REFUSED: "refused"}


# -- configuration identity ------------------------------------------------------------------------


def _module_dirs(root: Path) -> list[Path]:
    """The root and every module directory terraform init resolved (local and downloaded)."""
    dirs = [root]
    manifest = root / ".terraform" / "modules" / "modules.json"
    if manifest.is_file():
        for mod in json.loads(manifest.read_text(encoding="utf-8")).get("Modules", []):
            if mod.get("Dir"):
                dirs.append((root / mod["Dir"]).resolve())
    return dirs


def _hash_files(dirs: Iterable[Path]) -> Iterator[Path]:
    seen: set[Path] = set()
    for top in dirs:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d not in _HASH_SKIP_DIRS)
            for name in sorted(filenames):
                if _HASH_SKIP_FILE.search(name) or name == OVERRIDE_FILE:
                    continue
                path = Path(dirpath, name).resolve()
                if path not in seen and path.is_file():
                    seen.add(path)
                    yield path


def config_sha256(root: Path, *, include_lock: bool = True) -> str:
    """sha256 over the configuration: every file of the root and of each module it calls (paths
    relative to the root, then contents), without state, plan files and `.terraform/`.
    `include_lock=False` leaves out `.terraform.lock.hcl` (offline workspaces, whose lock file
    is made afresh for the stand-in providers; terraform checks providers itself)."""
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


# -- where terraform runs --------------------------------------------------------------------------


@dataclass(frozen=True)
class TerraformOptions:
    """How to run terraform for a hook."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    progress: Progress | None = None
    on_output: Progress | None = None


@contextlib.contextmanager
def env_terraform(
    repo: ClientRepo, env: str, *, offline: bool, options: TerraformOptions
) -> Iterator[tuple[Terraform, Path]]:
    """A runner in ENV's root: the repo's own (real backend and providers), or, `offline`, the
    offline workspace's copy with the local rehearsal state. Yields (runner, root it runs in)."""
    root = repo.env_root(env)
    with contextlib.ExitStack() as stack:
        tf_env: dict[str, str] = {}
        work_root = root
        if offline:
            rel = root.relative_to(repo.path).as_posix()
            space: Workspace = stack.enter_context(
                offline_workspace(repo.path, states={rel: repo.offline_state_file(env)})
            )
            work_root, tf_env = space.path(rel), space.env
        yield Terraform(
            work_root, env=tf_env, timeout_s=options.timeout_s, progress=options.progress,
            on_output=options.on_output, isolated=offline,
        ), work_root


# -- the plan --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRequest:
    """What `mlopsgen plan` was asked."""

    env: str
    offline: bool = False
    allow_destroy: tuple[str, ...] = ()
    extra_protected_types: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    lock: bool = True  # False: no state lock (an account that may only read state, e.g. PR CI)


@dataclass
class PlanOutcome:
    env: str
    offline: bool
    exit_code: ExitCode
    plan_dir: Path
    summary: plan_summary.PlanSummary | None = None
    policy: plan_policy.PolicyResult | None = None
    record: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def status(self) -> str:
        return _STATUS.get(self.exit_code, "error")

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "offline": self.offline,
            "status": self.status,
            "exit_code": int(self.exit_code),
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


def _record(
    repo: ClientRepo, request: PlanRequest, *, version: str, root: Path, config_hash: str,
    state: StateInfo, plan_file: Path, has_changes: bool, protected: set[str],
    summary: plan_summary.PlanSummary, policy: plan_policy.PolicyResult, exit_code: ExitCode,
) -> dict[str, Any]:
    kept = plan_file.exists()
    return {
        "format": SUMMARY_FORMAT,
        "env": request.env,
        "offline": request.offline,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "terraform_version": version,
        "root": os.path.relpath(root, repo.path),
        "config_sha256": config_hash,
        "state": {"serial": state.serial, "lineage": state.lineage},
        "state_bucket": repo.context["state_bucket"],
        "plan_file": PLAN_FILE if kept else None,
        "plan_file_path": str(plan_file) if kept else None,
        "plan_sha256": file_sha256(plan_file) if kept else None,
        "has_changes": has_changes,
        "allow_destroy": list(request.allow_destroy),
        "protected_types": sorted(protected),
        "summary": summary.to_dict(),
        "policy": policy.to_dict(),
        "exit_code": int(exit_code),
    }


def run_plan(
    path: Path, request: PlanRequest, options: TerraformOptions | None = None
) -> PlanOutcome:
    """Plan one environment of the client repo at `path`; raises MlopsgenError on errors."""
    repo = ClientRepo.open(path)
    opts = options or TerraformOptions()
    out_dir = repo.plans_dir(request.env, offline=request.offline)
    protected = set(plan_policy.DEFAULT_PROTECTED_TYPES) | set(request.extra_protected_types)
    with env_terraform(repo, request.env, offline=request.offline, options=opts) as (tf, root):
        tf.init()
        state = tf.state_info()
        config_hash = config_sha256(root, include_lock=not request.offline)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        plan_file = out_dir / PLAN_FILE
        result = tf.plan(plan_file, PlanOptions(replace=request.replace, lock=request.lock))

    summary = plan_summary.summarize(result.plan_json)
    policy = plan_policy.evaluate(
        result.plan_json, allow_destroy=list(request.allow_destroy), protected_types=protected,
        state_bucket=repo.context["state_bucket"],
    )
    (out_dir / PLAN_JSON).write_text(json.dumps(result.plan_json), encoding="utf-8")
    if policy.refused:
        exit_code = ExitCode.REFUSED
        plan_file.unlink()  # a refused plan must not be applied
    else:
        exit_code = ExitCode.CHANGES if result.has_changes else ExitCode.OK
    record = _record(
        repo, request, version=tf.version(), root=repo.env_root(request.env),
        config_hash=config_hash, state=state, plan_file=plan_file,
        has_changes=result.has_changes, protected=protected, summary=summary, policy=policy,
        exit_code=exit_code,
    )
    (out_dir / SUMMARY_JSON).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return PlanOutcome(
        env=request.env, offline=request.offline, exit_code=exit_code, plan_dir=out_dir,
        summary=summary, policy=policy, record=record,
    )


def load_record(repo: ClientRepo, env: str, *, offline: bool) -> tuple[dict[str, Any], Path]:
    """The saved plan's record and plan file path; RepoError when there is none."""
    plan_dir = repo.plans_dir(env, offline=offline)
    path = plan_dir / SUMMARY_JSON
    if not path.is_file():
        flag = " --offline" if offline else ""
        raise RepoError(
            f"no saved plan for {env!r} in {plan_dir}: run `mlopsgen plan {repo.path} --env "
            f"{env}{flag}` first"
        )
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return record, plan_dir / PLAN_FILE


def save_record(repo: ClientRepo, env: str, record: dict[str, Any], *, offline: bool) -> None:
    path = repo.plans_dir(env, offline=offline) / SUMMARY_JSON
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
