"""The Terraform steps of the CI builds: plan and save, request the apply, apply a saved plan.

    python scripts/ci_plan.py plan --env dev --kind pr|merge --commit SHA --build-id ID \
        --bucket PLANS_BUCKET --tf-root terraform/envs/dev --state-bucket B --state-prefix P
    python scripts/ci_plan.py request-apply --env dev --trigger dev-terraform-apply \
        --commit SHA --branch dev --project P --location L --repo owner/name \
        --build-id ID --approval-required true|false
    python scripts/ci_plan.py apply --env dev --bucket PLANS_BUCKET --plan-uri gs://... \
        --plan-sha256 HEX --tf-root terraform/envs/dev --state-bucket B --state-prefix P
    python scripts/ci_plan.py replan --trigger dev-plan-for-apply --repo owner/name \
        --commit SHA --branch dev --project P --location L
    python scripts/ci_plan.py run-trigger --trigger dev-ml-pipeline --commit SHA --branch dev \
        --project P --location L

`plan` runs `mlopsgen plan` (summary, policy gate, saved plan with its configuration hash and
state serial; the mlopsgen of `pyproject.toml`'s group `ci`) with the environment's named
allowances (`terraform/envs/<env>/allow-destroy.txt`), and saves tfplan, plan.json,
summary.json and summary.txt in the plans bucket (scripts/plans.py). A pull request plan
(`--kind pr`) takes no state lock: its account may only read state. Exit codes: 0 planned,
3 refused by the gate (or an allowance the plan does not use), 1 error.

`request-apply` starts the apply trigger with the merge plan it names (_PLAN_URI, _PLAN_SHA256,
_PLAN_SUMMARY) and posts that plan on the merged pull request; `apply` downloads exactly that
plan, checks its sha256 and runs `mlopsgen apply --approve` (Cloud Build's approval was the
approval), which refuses a plan gone stale (exit 3); then `replan` starts the merge build again
for the commit, if it is still the branch's head (a newer push has its own), and fails the build.
Nothing here applies any other plan.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PLAN_DIR = ".mlopsgen/plans"  # mlopsgen's saved plans, per environment
ALLOW_DESTROY = "allow-destroy.txt"
WORK_DIR = ROOT / ".mlopsgen" / "ci"  # what one step of a build leaves for the next
REFUSED = 3


class CiError(RuntimeError):
    pass


@dataclass(frozen=True)
class Allowance:
    address: str
    reason: str


# -- pure helpers ------------------------------------------------------------------------------


def parse_allowances(text: str, source: str) -> list[Allowance]:
    """`ADDRESS  # why` per line; blank lines and whole-line comments are skipped. Every
    allowance names its reason: a protected destroy is allowed only on purpose (pure)."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        address, _, reason = line.partition("#")
        address, reason = address.strip(), reason.strip()
        if not address or " " in address or not reason:
            raise CiError(f"{source}:{number}: write `RESOURCE_ADDRESS  # why it may be "
                          f"destroyed`, got {raw!r}")
        out.append(Allowance(address, reason))
    return out


def backend_problems(root: Path, state_bucket: str, state_prefix: str) -> list[str]:
    """The trigger's state location against the root's backend block (they must agree)."""
    backend = root / "backend.tf"
    text = backend.read_text(encoding="utf-8") if backend.is_file() else ""
    shown = backend.relative_to(ROOT) if backend.is_relative_to(ROOT) else backend
    problems = []
    for key, value in (("bucket", state_bucket), ("prefix", state_prefix)):
        if not re.search(rf'^\s*{key}\s*=\s*{re.escape(json.dumps(value))}\s*$', text, re.M):
            problems.append(f"{shown} does not set {key} = {json.dumps(value)} as the trigger says")
    return problems


def plan_summary_line(record: dict[str, Any]) -> str:
    """A one-line summary for the apply build's substitutions, shown to the approver (pure)."""
    totals = (record.get("summary") or {}).get("totals") or {}
    counts = ", ".join(f"{int(totals.get(k, 0))} {k}"
                       for k in ("create", "update", "delete", "replace"))
    allowed = [v["address"] for v in (record.get("policy") or {}).get("violations", [])
               if v.get("allowed")]
    extra = f"; allowed destroys: {', '.join(allowed)}" if allowed else ""
    return f"{counts}{extra}"[:500]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- steps -------------------------------------------------------------------------------------


def mlopsgen(*args: str, env: dict[str, str] | None = None,
             stdout: Any = None) -> int:
    command = ["mlopsgen", *args]
    print("+ " + " ".join(command), file=sys.stderr, flush=True)
    return subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=stdout,
                          check=False).returncode


def env_root(args: argparse.Namespace) -> Path:
    """The environment's root, once the trigger's root and state agree with the repo's."""
    root = ROOT / str(args.tf_root)
    if root != ROOT / "terraform" / "envs" / args.env:
        raise CiError(f"the trigger names {args.tf_root}, not terraform/envs/{args.env}")
    problems = backend_problems(root, args.state_bucket, args.state_prefix)
    if problems:
        raise CiError("; ".join(problems))
    return root


def _plan(args: argparse.Namespace) -> int:
    import plan_comment
    import plans

    root = env_root(args)
    allow_file = root / ALLOW_DESTROY
    allowances = parse_allowances(allow_file.read_text(encoding="utf-8"),
                                  str(allow_file.relative_to(ROOT))) \
        if allow_file.is_file() else []
    for a in allowances:
        print(f"allowance: {a.address} ({a.reason})", file=sys.stderr)
    plan_dir = ROOT / PLAN_DIR / args.env
    plan_dir.mkdir(parents=True, exist_ok=True)
    flags = [f"--allow-destroy={a.address}" for a in allowances]
    if args.kind == "pr":
        flags.append("--no-lock")  # a pull request's account reads state only
    with open(plan_dir.parent / f"{args.env}.summary.txt", "w", encoding="utf-8") as out:
        code = mlopsgen("plan", ".", "--env", args.env, *flags, stdout=out)
    summary_txt = plan_dir.parent / f"{args.env}.summary.txt"
    record_path = plan_dir / "summary.json"
    if code not in (0, 2, REFUSED) or not record_path.is_file():
        print(summary_txt.read_text(encoding="utf-8"), file=sys.stderr)
        raise CiError(f"mlopsgen plan failed (exit {code})")
    summary_txt.replace(plan_dir / "summary.txt")
    print((plan_dir / "summary.txt").read_text(encoding="utf-8"))
    record = json.loads(record_path.read_text(encoding="utf-8"))
    prefix = plans.plan_prefix(args.env, args.kind, args.commit, args.build_id)
    names = plans.upload(args.bucket, prefix, plan_dir,
                         {"env": args.env, "commit": args.commit, "build": args.build_id,
                          "kind": args.kind})
    uri = plans.plan_uri(args.bucket, prefix)
    print(f"saved {', '.join(n.rsplit('/', 1)[1] for n in names)} in {uri}", file=sys.stderr)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    (WORK_DIR / "plan-uri").write_text(uri, encoding="utf-8")
    refused = plan_comment.refusal(record)
    if refused:
        print(refused, file=sys.stderr)
    return REFUSED if refused or code == REFUSED else 0


def _request_apply(args: argparse.Namespace) -> int:
    import cloudbuild_api
    import plan_comment
    import plans
    from ghapi import GitHub

    uri = (WORK_DIR / "plan-uri").read_text(encoding="utf-8").strip()
    bucket = plans.parse_uri(uri)[0]
    plan_dir = ROOT / PLAN_DIR / args.env
    record = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    summary = (plan_dir / "summary.txt").read_text(encoding="utf-8")
    refused = plan_comment.refusal(record) is not None
    started = None
    if not refused:
        started = cloudbuild_api.run_trigger(
            args.project, args.location, args.trigger, commit=args.commit, branch=args.branch,
            substitutions={"_PLAN_URI": uri, "_PLAN_SHA256": record["plan_sha256"],
                           "_PLAN_SUMMARY": plan_summary_line(record)})
        print(f"apply build {started.build_id}: {started.log_url}", file=sys.stderr)
    gh = GitHub(args.repo)
    pr = plan_comment.merged_pull(gh, args.commit)
    if pr is not None:
        body = plan_comment.merge_body(
            env=args.env, commit=args.commit, build_id=args.build_id, record=record,
            summary=summary, plan_uri=uri, apply_url=started.log_url if started else None,
            approval_required=args.approval_required == "true")
        plan_comment.upsert_comment(gh, pr, plan_comment.MERGE_MARKER.format(
            env=args.env, build=args.build_id), body)
    else:
        print(f"no pull request merged {args.commit}: the plan is only in {bucket}",
              file=sys.stderr)
    return REFUSED if refused else 0


def _apply(args: argparse.Namespace) -> int:
    import plans

    env_root(args)
    print(f"applying {args.plan_uri} ({args.plan_summary})", file=sys.stderr)
    plans.check_kind(args.plan_uri, args.env, "merge")
    bucket, prefix = plans.parse_uri(args.plan_uri)
    if bucket != args.bucket:
        raise CiError(f"{args.plan_uri} is not in the plans bucket {args.bucket}")
    plan_dir = ROOT / PLAN_DIR / args.env
    refused = WORK_DIR / "refused"
    refused.unlink(missing_ok=True)
    try:
        plans.download(bucket, prefix, plan_dir, required=("tfplan", "summary.json"))
        got = file_sha256(plan_dir / "tfplan")
        if got != args.plan_sha256:
            raise CiError(f"{args.plan_uri}tfplan has sha256 {got}, not the approved "
                          f"{args.plan_sha256}")
        code = mlopsgen("apply", ".", "--env", args.env, "--approve")
    except plans.PlansError as err:
        print(f"refused: {err}", file=sys.stderr)
        code = REFUSED
    if code == REFUSED:  # stale, consumed or expired: the next step plans again
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        refused.write_text(args.plan_uri, encoding="utf-8")
    return code


def _replan(args: argparse.Namespace) -> int:
    """After a refused apply: plan the branch again, if this commit is still its head (a newer
    push has its own merge build); fails the build either way."""
    import cloudbuild_api
    from ghapi import GitHub

    refused = WORK_DIR / "refused"
    if not refused.is_file():
        return 0
    head = ((GitHub(args.repo).get(f"git/ref/heads/{args.branch}") or {}).get("object")
            or {}).get("sha")
    if head != args.commit:
        print(f"{refused.read_text(encoding='utf-8')} was not applied; {args.branch} moved on "
              f"to {head}, whose merge build plans it", file=sys.stderr)
        return REFUSED
    started = cloudbuild_api.run_trigger(args.project, args.location, args.trigger,
                                         commit=args.commit, branch=args.branch)
    print(f"{refused.read_text(encoding='utf-8')} was not applied; planning {args.commit} again: "
          f"{started.log_url}", file=sys.stderr)
    return REFUSED


def _run_trigger(args: argparse.Namespace) -> int:
    import cloudbuild_api

    started = cloudbuild_api.run_trigger(args.project, args.location, args.trigger,
                                         commit=args.commit, branch=args.branch)
    print(f"started {args.trigger}: {started.log_url}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    plan = sub.add_parser("plan")
    for name in ("--env", "--commit", "--build-id", "--bucket", "--tf-root", "--state-bucket",
                 "--state-prefix"):
        plan.add_argument(name, required=True)
    plan.add_argument("--kind", choices=("pr", "merge"), required=True)
    where = argparse.ArgumentParser(add_help=False)
    for name in ("--commit", "--branch", "--project", "--location"):
        where.add_argument(name, required=True)
    request = sub.add_parser("request-apply", parents=[where])
    for name in ("--env", "--trigger", "--repo", "--build-id"):
        request.add_argument(name, required=True)
    request.add_argument("--approval-required", choices=("true", "false"), required=True,
                         help="whether the apply trigger waits for an approver")
    apply = sub.add_parser("apply")
    for name in ("--env", "--bucket", "--plan-uri", "--plan-sha256", "--tf-root",
                 "--state-bucket", "--state-prefix"):
        apply.add_argument(name, required=True)
    apply.add_argument("--plan-summary", default="")
    replan = sub.add_parser("replan", parents=[where])
    for name in ("--trigger", "--repo"):
        replan.add_argument(name, required=True)
    run = sub.add_parser("run-trigger", parents=[where])
    run.add_argument("--trigger", required=True)
    return parser


ACTIONS = {"plan": _plan, "request-apply": _request_apply, "apply": _apply,
           "replan": _replan, "run-trigger": _run_trigger}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return ACTIONS[args.action](args)
    except (CiError, RuntimeError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
