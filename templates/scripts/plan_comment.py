"""Post (or refresh) the Terraform plan summary of one environment on a pull request.

    python scripts/plan_comment.py --env dev --pr 12 --repo owner/name \
        --plan-file plan.txt [--exit-code-file plan.rc] [--dry-run]

One comment per environment and pull request (found again by a hidden marker and edited), so a
new push updates it instead of adding another. Exits with the plan's exit code, so the build
still fails after commenting on a failed plan.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ghapi import GitHub, GitHubError, log

MARKER = "<!-- mlopsgen:plan env={env} -->"
MAX_PLAN_CHARS = 60000
_SUMMARY = re.compile(r"^Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\.", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def summarize(plan_text: str, exit_code: int) -> str:
    """One line: what the plan does, or that it failed (pure)."""
    text = _ANSI.sub("", plan_text)
    if exit_code != 0:
        return f"❌ plan failed (exit code {exit_code})"
    match = _SUMMARY.search(text)
    if match:
        add, change, destroy = match.groups()
        warn = " ⚠️ destroys resources" if int(destroy) else ""
        return f"{add} to add, {change} to change, {destroy} to destroy{warn}"
    if "No changes." in text:
        return "no changes"
    return "plan finished; no summary line found"


def comment_body(env: str, plan_text: str, exit_code: int) -> str:
    text = _ANSI.sub("", plan_text)
    if len(text) > MAX_PLAN_CHARS:
        text = text[-MAX_PLAN_CHARS:]
        text = "… (truncated; the full plan is in the build log)\n" + text
    text = text.replace("```", "'''")
    return "\n".join([
        MARKER.format(env=env),
        f"### Terraform plan: `{env}`",
        "",
        f"**{summarize(plan_text, exit_code)}**",
        "",
        "<details><summary>Plan output</summary>",
        "",
        "```",
        text.rstrip(),
        "```",
        "",
        "</details>",
    ])


def upsert_comment(gh: GitHub, pr: int, env: str, body: str) -> str:
    marker = MARKER.format(env=env)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--pr", required=True, type=int)
    parser.add_argument("--repo", required=True, help="owner/name")
    parser.add_argument("--plan-file", required=True, type=Path)
    parser.add_argument("--exit-code-file", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="read, but print writes")
    args = parser.parse_args(argv)
    plan_text = args.plan_file.read_text(encoding="utf-8", errors="replace") \
        if args.plan_file.is_file() else "(no plan output)"
    exit_code = 1
    if args.exit_code_file is None:
        exit_code = 0
    elif args.exit_code_file.is_file():
        exit_code = int(args.exit_code_file.read_text().strip() or 1)
    try:
        gh = GitHub(args.repo, dry_run=args.dry_run)
        result = upsert_comment(gh, args.pr, args.env, comment_body(args.env, plan_text,
                                                                    exit_code))
    except (GitHubError, ValueError) as err:
        log(f"error: {err}")
        return 1
    print(f"{result}: {summarize(plan_text, exit_code)}")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
