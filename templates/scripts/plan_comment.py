"""Post a saved plan's summary on its pull request.

    python scripts/plan_comment.py --env dev --repo owner/name --pr 12 --commit SHA \
        --plan-build BUILD_ID --status SUCCESS --bucket PLANS_BUCKET \
        --trigger dev-terraform-plan --expected-trigger dev-terraform-plan \
        [--log-url URL] [--dry-run]

Run by the trusted comment build (cloudbuild/plan-comment.yaml, from the branch the pull request
targets, never from the pull request), which Cloud Build starts when a pull request's plan
build ends: the plan build itself reads no secret. It reads that build's summary from the plans
bucket (`<env>/pr/<commit>/<build id>/`, scripts/plans.py) and keeps one comment per
environment on the pull request, edited on each push; a build of a commit that is no longer the
pull request's head comments nothing. The merge build posts the plan it will apply with
`merge_body` (scripts/ci_plan.py).

The summary comes from the pull request's own build, so it is shown as what that code planned;
what is applied is the merge build's plan, posted before anyone approves it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from ghapi import GitHub, GitHubError, log

MARKER = "<!-- mlopsgen:plan env={env} -->"
MERGE_MARKER = "<!-- mlopsgen:merge-plan env={env} build={build} -->"
MAX_TEXT = 50000
FINAL_STATUSES = ("SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED", "INTERNAL_ERROR", "EXPIRED")
_HIDE = ("Saved in ", "Apply it with: ")  # mlopsgen's hints for a laptop


def fenced(text: str) -> str:
    """`text` in a code block whose fence is longer than any backtick run in it (pure)."""
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}text\n{text}\n{fence}"


def clean_summary(text: str) -> str:
    """mlopsgen's printed summary without its laptop hints, bounded (pure)."""
    lines = [ln for ln in text.splitlines() if not ln.startswith(_HIDE)]
    body = "\n".join(lines).strip()
    if len(body) > MAX_TEXT:
        body = body[:MAX_TEXT] + "\n… (truncated; the full summary is in the plans bucket)"
    return body


def code(text: Any) -> str:
    """A value from a plan record as an inline code span, on one line (pure)."""
    return "`" + str(text).replace("`", "'").replace("\n", " ")[:200] + "`"


def refusal(record: dict[str, Any]) -> str | None:
    """Why CI applies nothing from this plan, or None (pure): the policy gate refused it, or an
    allowance names a destroy the plan does not make (an allowance is for one change)."""
    policy = record.get("policy") or {}
    if policy.get("refused") or not record.get("plan_sha256"):
        return "refused by the policy gate"
    unused = policy.get("unused_allowances") or []
    if unused:
        return ("refused: allow-destroy.txt allows what this plan does not destroy: "
                + ", ".join(code(u) for u in unused) + " (remove those lines)")
    return None


def headline(record: dict[str, Any] | None) -> str:
    """One line: what the plan does and the gate's verdict (pure)."""
    if not record:
        return "❌ no plan: the build failed before planning (see its log)"
    totals = (record.get("summary") or {}).get("totals") or {}
    counts = ", ".join(f"{int(totals.get(k, 0))} to {k}"
                       for k in ("create", "update", "delete", "replace"))
    refused = refusal(record)
    if refused:
        return f"⛔ {counts}: {refused}"
    destroys = int(totals.get("delete", 0)) + int(totals.get("replace", 0))
    warn = " ⚠️ destroys resources" if destroys else ""
    return f"{counts}{warn}; policy gate passed"


def pr_body(*, env: str, commit: str, status: str, record: dict[str, Any] | None,
            summary: str | None, log_url: str) -> str:
    """The pull request comment of one plan build (pure)."""
    lines = [
        MARKER.format(env=env),
        f"### Terraform plan: `{env}` at `{commit[:12]}`",
        "",
        f"**{headline(record)}** (plan build {status.lower()}; [log]({log_url}))",
        "",
    ]
    if summary:
        lines += ["<details><summary>Summary (mlopsgen plan)</summary>", "",
                  fenced(clean_summary(summary)), "", "</details>", ""]
    lines.append("Planned by this pull request's own build. Nothing is applied from it: after "
                 "the merge, Cloud Build plans the merged tree again, posts that plan here and "
                 "applies exactly it (after approval where the environment requires one).")
    return "\n".join(lines)


def merge_body(*, env: str, commit: str, build_id: str, record: dict[str, Any] | None,
               summary: str | None, plan_uri: str, apply_url: str | None,
               approval_required: bool) -> str:
    """The comment of the merge build: the plan it will apply, and where to approve it (pure)."""
    lines = [
        MERGE_MARKER.format(env=env, build=build_id),
        f"### Plan to apply: `{env}` at `{commit[:12]}`",
        "",
        f"**{headline(record)}**",
        "",
    ]
    if summary:
        lines += [fenced(clean_summary(summary)), ""]
    lines.append(f"Saved plan: `{plan_uri}`.")
    if apply_url and approval_required:
        lines.append(f"The [apply build]({apply_url}) waits for an approver; it applies exactly "
                     "this plan, and refuses it if the configuration or the state changed since "
                     "(then this is planned again).")
    elif apply_url:
        lines.append(f"The [apply build]({apply_url}) applies exactly this plan.")
    else:
        lines.append("Nothing is applied: fix the change (or name the allowance, see "
                     "docs/promotion.md) in a new pull request.")
    return "\n".join(lines)


def upsert_comment(gh: GitHub, pr: int, marker: str, body: str) -> str:
    page = 1
    while True:
        comments = gh.get(f"issues/{pr}/comments", per_page="100", page=str(page)) or []
        for comment in comments:
            if marker in (comment.get("body") or ""):
                gh.request("PATCH", f"issues/comments/{comment['id']}", {"body": body})
                return "updated"
        if len(comments) < 100:
            break
        page += 1
    gh.request("POST", f"issues/{pr}/comments", {"body": body})
    return "created"


def merged_pull(gh: GitHub, commit: str) -> int | None:
    """The pull request whose merge made `commit` (None for a direct push or a re-plan)."""
    pulls = gh.get(f"commits/{commit}/pulls") or []
    for pull in pulls:
        if pull.get("merged_at") or pull.get("merged"):
            return int(pull["number"])
    return int(pulls[0]["number"]) if pulls else None


def _load(bucket: str, prefix: str) -> tuple[dict[str, Any] | None, str | None]:
    import plans

    raw = plans.read_text(bucket, prefix + "summary.json")
    return (json.loads(raw) if raw else None), plans.read_text(bucket, prefix + "summary.txt")


def _check(args: argparse.Namespace) -> str | None:
    if args.trigger != args.expected_trigger:
        return f"build of trigger {args.trigger!r}, not {args.expected_trigger!r}: nothing to post"
    if args.status not in FINAL_STATUSES:
        return f"build status {args.status!r} is not final: nothing to post"
    if not re.fullmatch(r"[0-9]{1,10}", args.pr):
        return f"pull request number {args.pr!r} is not one"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--env", "--repo", "--pr", "--commit", "--plan-build", "--status", "--bucket",
                 "--trigger", "--expected-trigger"):
        parser.add_argument(name, required=True)
    parser.add_argument("--log-url", default="")
    parser.add_argument("--dry-run", action="store_true", help="read, but print writes")
    args = parser.parse_args(argv)
    problem = _check(args)
    if problem:
        log(problem)
        return 0
    try:
        import plans

        prefix = plans.plan_prefix(args.env, "pr", args.commit, args.plan_build)
        gh = GitHub(args.repo, dry_run=args.dry_run)
        head = ((gh.get(f"pulls/{args.pr}") or {}).get("head") or {}).get("sha")
        if head and head != args.commit:
            log(f"pull request #{args.pr} moved on to {head[:12]}: no comment for {args.commit}")
            return 0
        record, summary = _load(args.bucket, prefix)
        body = pr_body(env=args.env, commit=args.commit, status=args.status, record=record,
                       summary=summary, log_url=args.log_url)
        result = upsert_comment(gh, int(args.pr), MARKER.format(env=args.env), body)
    except (GitHubError, ValueError, RuntimeError) as err:
        log(f"error: {err}")
        return 1
    print(f"{result}: {headline(record)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
