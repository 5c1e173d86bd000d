"""Open (or refresh) the promotion pull request from an environment's branch to the next one.

    python scripts/promote.py --env dev --next-env staging --source-branch dev \
        --target-branch staging --commit SHA --repo owner/name \
        [--metrics build/metrics.json] [--artifacts gs://bucket/runs/SHA/] \
        [--build-url URL] [--dry-run]

Idempotent: an open pull request from the same branch into the same base is updated, not
duplicated; nothing is opened when the target already has every change. A candidate that lost
the champion/challenger gate (metrics.json `gate.verdict` = fail, written by pipelines/submit.py)
opens no pull request: the build log says why and the champion keeps serving. The body carries
the candidate commit, the gate's comparison with the champion, the metrics summary and links;
the approvers in CODEOWNERS review it, and merging it promotes (the next environment's apply
waits for its Cloud Build approval).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import approval_record
from ghapi import GitHub, GitHubError, log

MARKER = "<!-- mlopsgen:promotion env={env} -->"


def load_metrics(path: Path | None) -> dict[str, Any]:
    """Numbers to show from a metrics.json (the notebook's run record or a flat mapping)."""
    if path is None or not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("metrics"), dict):
        data = data["metrics"]
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, int | float | str | bool)}


def load_gate(path: Path | None) -> dict[str, Any] | None:
    """The champion/challenger gate's record in metrics.json (`gate`), if the run wrote one."""
    if path is None or not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    gate = data.get("gate") if isinstance(data, dict) else None
    return dict(gate) if isinstance(gate, dict) else None


def rejected(gate: dict[str, Any] | None) -> str | None:
    """Why the candidate may not be promoted (it lost the gate), or None."""
    if gate and gate.get("verdict") == "fail":
        return str(gate.get("reason") or "the champion/challenger gate failed")
    return None


def gate_lines(gate: dict[str, Any]) -> list[str]:
    """Markdown: the verdict, its reason, and both models' holdout metrics side by side."""
    candidate = gate.get("candidate_metrics") or {}
    champion = gate.get("champion_metrics") or {}
    lines = ["### Champion/challenger gate", "",
             f"Verdict: **{_cell(gate.get('verdict', 'none'))}**: {_cell(gate.get('reason', ''))}",
             ""]
    if gate.get("champion"):
        lines += [f"Compared with champion `{_cell(gate['champion'])}` on the same holdout "
                  f"window, deciding on `{_cell(gate.get('metric', ''))}` (at least "
                  f"{_cell(gate.get('min_improvement', 0))} better, relative).", ""]
    else:
        lines += ["No champion yet: the candidate was judged on the absolute bar alone.", ""]
    keys = sorted(set(candidate) | set(champion))
    if keys:
        lines += ["| metric | candidate | champion |", "| --- | --- | --- |"]
        lines += [f"| {_cell(k)} | {_cell(candidate.get(k, '-'))} | "
                  f"{_cell(champion.get(k, '-'))} |" for k in keys]
        lines.append("")
    return lines


def _cell(value: Any) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def pull_body(*, env: str, next_env: str, commit: str, metrics: dict[str, Any],
              artifacts: str | None, build_url: str | None, commits: list[str],
              gate: dict[str, Any] | None = None) -> str:
    """Markdown body of the promotion pull request (pure)."""
    lines = [
        MARKER.format(env=env),
        f"## Promote `{env}` → `{next_env}`",
        "",
        f"Candidate commit: `{commit}`.",
        "",
        "Merging this pull request promotes the candidate: Cloud Build applies the Terraform "
        f"of `{next_env}` after an approver approves the build. Closing it without merging "
        f"rejects the candidate: the rollback build deletes what it produced in `{env}` and "
        "opens a pull request that reverts its infrastructure change.",
        "",
    ]
    if gate:
        lines += gate_lines(gate)
    if metrics:
        lines += ["### Metrics", "", "| metric | value |", "| --- | --- |"]
        lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in sorted(metrics.items())]
        lines.append("")
    links = []
    if artifacts:
        links.append(f"- Artifacts: `{artifacts}`")
    if build_url:
        links.append(f"- Build: {build_url}")
    if links:
        lines += ["### Links", "", *links, ""]
    if commits:
        lines += ["### Commits", "", *[f"- {c}" for c in commits[:50]], ""]
    return "\n".join(lines)


def promote(gh: GitHub, *, env: str, next_env: str, source: str, target: str, commit: str,
            metrics: dict[str, Any], artifacts: str | None, build_url: str | None,
            gate: dict[str, Any] | None = None) -> str:
    """Create or update the pull request; return what happened ('created', 'updated', 'none',
    'rejected': the candidate lost the champion/challenger gate)."""
    why = rejected(gate)
    if why:
        log(f"candidate {commit[:12]} lost the champion/challenger gate in {env}: {why}. The "
            "champion keeps serving; no promotion pull request")
        return "rejected"
    compare = gh.get(f"compare/{target}...{source}") or {}
    if int(compare.get("ahead_by", 0)) == 0 or not compare.get("files", [True]):
        log(f"{target} already has every change of {source}: nothing to promote")
        return "none"
    commits = [
        f"`{c['sha'][:12]}` {c['commit']['message'].splitlines()[0][:100]}"
        for c in compare.get("commits", [])
    ]
    body = pull_body(env=env, next_env=next_env, commit=commit, metrics=metrics,
                     artifacts=artifacts, build_url=build_url, commits=commits, gate=gate)
    title = f"Promote {env} → {next_env} ({commit[:12]})"
    existing = gh.open_pull(source, target)
    if existing:
        gh.request("PATCH", f"pulls/{existing['number']}", {"title": title, "body": body})
        log(f"updated promotion pull request #{existing['number']}")
        return "updated"
    gh.request("POST", "pulls", {"title": title, "head": source, "base": target, "body": body,
                                 "maintainer_can_modify": False})
    log(f"opened the promotion pull request {source} -> {target}")
    return "created"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--next-env", required=True)
    parser.add_argument("--source-branch", required=True)
    parser.add_argument("--target-branch", required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--repo", required=True, help="owner/name")
    parser.add_argument("--metrics", type=Path)
    parser.add_argument("--artifacts")
    parser.add_argument("--build-url")
    parser.add_argument("--dry-run", action="store_true", help="read, but print writes")
    args = parser.parse_args(argv)
    if not args.target_branch:
        log(f"{args.env} is the last environment: nothing to promote")
        return 0
    try:
        gh = GitHub(args.repo, dry_run=args.dry_run)
        result = promote(gh, env=args.env, next_env=args.next_env, source=args.source_branch,
                         target=args.target_branch, commit=args.commit,
                         metrics=load_metrics(args.metrics), artifacts=args.artifacts,
                         build_url=args.build_url, gate=load_gate(args.metrics))
        if result != "rejected":  # who approved the promotion that brought it here (audit)
            approval_record.record_arrival(gh, env=args.env, commit=args.commit,
                                           branch=args.source_branch,
                                           metrics_path=args.metrics, build_url=args.build_url)
    except (GitHubError, ValueError) as err:
        log(f"error: {err}")
        return 1
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
