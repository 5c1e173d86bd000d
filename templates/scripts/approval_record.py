"""The approval record of a promoted or rejected candidate: who decided, on what evidence.

    python scripts/approval_record.py --env staging --commit SHA --repo owner/name \
        [--pr N] [--decision promoted|rejected] [--metrics build/metrics.json] [--dry-run]

For one pull request (given, or the merged pull request that brought the commit into the
environment's branch) it records the commit, the data snapshot, the metrics, the pull request and
who approved (reviews whose last state is APPROVED, and who merged it) or closed it (the `closed`
issue event): a JSON document at gs://<pipeline_root bucket>/approvals/<env>/<commit>-pr<N>.json
(written once: an existing record is kept), the same facts as labels on the environment's model
versions labelled commit=<commit>, and a comment on the pull request that links the record.

scripts/promote.py calls `record_arrival` (the promotion that brought its commit here) and
scripts/rollback.py `record_rejection` (before it deletes the evidence). Pure builders
first, effects below them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import envconfig
from gcpapi import Gcp, GcpError
from ghapi import GitHub, GitHubError, log

SCHEMA = "mlopsgen.approval/1"
PREFIX = "approvals/"
PROMOTION_MARKER = "<!-- mlopsgen:promotion env="
COMMENT_MARKER = "<!-- mlopsgen:approval-record -->"
LABEL_VALUE_MAX = 63
_LABEL_INVALID = re.compile(r"[^a-z0-9_-]+")


# --- pure ------------------------------------------------------------------------------------


def label_value(text: Any) -> str:
    """A GCP label value: at most 63 of lowercase letters, digits, '_' and '-' (every other run
    of characters becomes one '-'; upper case is lowered)."""
    value = _LABEL_INVALID.sub("-", str(text).lower())
    return value[:LABEL_VALUE_MAX].rstrip("-") if len(value) > LABEL_VALUE_MAX else value


def approvers(reviews: list[dict[str, Any]]) -> list[str]:
    """Who approved: each reviewer's last decisive review (APPROVED, CHANGES_REQUESTED or
    DISMISSED; comments do not change it) is APPROVED, in the order they approved."""
    last: dict[str, dict[str, Any]] = {}
    for review in sorted(reviews, key=lambda r: str(r.get("submitted_at") or "")):
        login = (review.get("user") or {}).get("login")
        if login and review.get("state") in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            last[login] = review
    approved = [r for r in last.values() if r["state"] == "APPROVED"]
    return [r["user"]["login"] for r in sorted(approved, key=lambda r: str(r["submitted_at"]))]


def closed_by(events: list[dict[str, Any]]) -> str | None:
    """Who last closed the pull request (its issue events)."""
    closes = [e for e in events if e.get("event") == "closed"]
    return ((closes[-1].get("actor") or {}).get("login")) if closes else None


def decision_of(pull: dict[str, Any]) -> str:
    if pull.get("merged_at") or pull.get("merged"):
        return "promoted"
    return "rejected" if pull.get("state") == "closed" else "pending"


def build_record(*, env: str, commit: str, pull: dict[str, Any], reviews: list[dict[str, Any]],
                 events: list[dict[str, Any]], metrics: dict[str, Any],
                 data_snapshot: str | None, model_versions: list[str],
                 build_url: str | None, recorded_at: str) -> dict[str, Any]:
    """The JSON record (pure)."""
    return {
        "schema": SCHEMA,
        "decision": decision_of(pull),
        "environment": env,
        "commit": commit,
        "data_snapshot": data_snapshot,
        "metrics": metrics,
        "model_versions": model_versions,
        "pull_request": {
            "number": pull.get("number"),
            "url": pull.get("html_url"),
            "title": pull.get("title"),
            "head": (pull.get("head") or {}).get("ref"),
            "head_sha": (pull.get("head") or {}).get("sha"),
            "base": (pull.get("base") or {}).get("ref"),
            "merged_at": pull.get("merged_at"),
            "merge_commit_sha": pull.get("merge_commit_sha") if pull.get("merged_at") else None,
            "closed_at": pull.get("closed_at"),
        },
        "approved_by": approvers(reviews),
        "merged_by": (pull.get("merged_by") or {}).get("login"),
        "closed_by": closed_by(events),
        "reviews": [{"user": (r.get("user") or {}).get("login"), "state": r.get("state"),
                     "submitted_at": r.get("submitted_at"), "commit_id": r.get("commit_id")}
                    for r in reviews],
        "build_url": build_url,
        "recorded_at": recorded_at,
    }


def record_labels(record: dict[str, Any]) -> dict[str, str]:
    """Labels for the model versions (every value sanitized)."""
    who = record["approved_by"] or [record["merged_by"] or record["closed_by"] or "unknown"]
    return {
        "approval": label_value(record["decision"]),
        "approved-by" if record["decision"] == "promoted" else "decided-by": label_value(who[0]),
        "approval-pr": label_value(record["pull_request"]["number"]),
    }


def object_name(env: str, commit: str, number: Any) -> str:
    return f"{PREFIX}{env}/{commit}-pr{number}.json"


def comment_body(record: dict[str, Any], uri: str) -> str:
    who = ", ".join(record["approved_by"]) or "nobody"
    by = record["merged_by"] if record["decision"] == "promoted" else record["closed_by"]
    action = "merged" if record["decision"] == "promoted" else "closed"
    return "\n".join([
        COMMENT_MARKER,
        f"Approval record (`{record['decision']}` in `{record['environment']}`): `{uri}`",
        "",
        f"- commit `{record['commit']}`, data snapshot `{record['data_snapshot'] or 'unknown'}`",
        f"- approved by: {who}; {action} by: {by or 'unknown'}",
        f"- model versions: {len(record['model_versions'])}",
    ])


def run_facts(path: Path | None) -> tuple[dict[str, Any], str | None]:
    """(metrics, data snapshot) from a run record (build/metrics.json); empty when absent."""
    if path is None or not path.is_file():
        return {}, None
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        return {}, None
    metrics = data.get("metrics") if isinstance(data.get("metrics"), dict) else {}
    snapshot = data.get("snapshot_table") or (data.get("data") or {}).get("snapshot_table")
    return dict(metrics or {}), (str(snapshot) if snapshot else None)


# --- effects ---------------------------------------------------------------------------------


def _all(gh: GitHub, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        batch = gh.get(path, per_page="100", page=str(page)) or []
        items += batch
        if len(batch) < 100:
            return items
        page += 1


def merged_pull_of(gh: GitHub, commit: str, branch: str) -> dict[str, Any] | None:
    """The merged promotion pull request into `branch` that `commit` came with, if any."""
    for pull in gh.get(f"commits/{commit}/pulls") or []:
        if (pull.get("merged_at") and (pull.get("base") or {}).get("ref") == branch
                and PROMOTION_MARKER in str(pull.get("body") or "")):
            return dict(pull)
    return None


def model_versions(gcp: Gcp, parent: str, commit: str) -> list[dict[str, Any]]:
    found = []
    for model in gcp.vertex_list(f"{parent}/models", "models"):
        found += gcp.vertex_list(f"{model['name']}:listVersions", "models",
                                 filter=f'labels.commit="{commit[:40]}"')
    return found


def label_versions(gcp: Gcp, versions: list[dict[str, Any]], labels: dict[str, str]) -> None:
    for version in versions:
        merged = {**version.get("labels", {}), **labels}
        gcp.vertex("PATCH", f"{version['name']}@{version['versionId']}", {"labels": merged},
                   updateMask="labels")


def write_once(gcp: Gcp, bucket: str, name: str, record: dict[str, Any]) -> bool:
    """Upload unless the object exists (ifGenerationMatch=0): a record is never rewritten."""
    query = urllib.parse.urlencode({"uploadType": "media", "name": name, "ifGenerationMatch": "0"})
    url = (f"{gcp.storage_url}/upload/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o?"
           f"{query}")
    data = json.dumps(record, indent=2, sort_keys=True).encode()
    try:
        gcp.call("POST", url, raw=data, content_type="application/json")
    except GcpError as err:
        if err.status == 412:
            return False
        raise
    return True


def record(gh: GitHub, gcp: Gcp, cfg: dict[str, Any], *, env: str, commit: str,
           pull: dict[str, Any], metrics: dict[str, Any] | None = None,
           data_snapshot: str | None = None, build_url: str | None = None) -> str:
    """Record the decision on `pull` for `commit` in `env`; return the record's gs:// URI."""
    number = pull["number"]
    pull = gh.get(f"pulls/{number}") or pull
    reviews = _all(gh, f"pulls/{number}/reviews")
    events = _all(gh, f"issues/{number}/events")
    parent = f"projects/{cfg['project_id']}/locations/{cfg['region']}"
    versions = model_versions(gcp, parent, commit)
    snapshots = [v["labels"]["data-snapshot"] for v in versions
                 if v.get("labels", {}).get("data-snapshot")]
    snapshot = data_snapshot or (snapshots[0] if snapshots else None)
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    doc = build_record(env=env, commit=commit, pull=pull, reviews=reviews, events=events,
                       metrics=metrics or {}, data_snapshot=snapshot,
                       model_versions=[f"{v['name']}@{v['versionId']}" for v in versions],
                       build_url=build_url, recorded_at=now)
    bucket = cfg["buckets"]["pipeline_root"]
    name = object_name(env, commit, number)
    uri = f"gs://{bucket}/{name}"
    if not write_once(gcp, bucket, name, doc):
        log(f"{uri} exists: the first record of this decision is kept")
        return uri
    label_versions(gcp, versions, record_labels(doc))
    gh.request("POST", f"issues/{number}/comments", {"body": comment_body(doc, uri)})
    log(f"approval record {uri}: {doc['decision']} by {', '.join(doc['approved_by']) or '-'}")
    return uri


def record_arrival(gh: GitHub, *, env: str, commit: str, branch: str,
                   metrics_path: Path | None = None, build_url: str | None = None,
                   config_dir: Path = envconfig.CONFIG_DIR) -> str | None:
    """promote.py's hook: record the merged promotion pull request that brought `commit` into
    `branch` (none for a commit that came another way). Never fails the promotion: a record
    that cannot be written is reported."""
    try:
        pull = merged_pull_of(gh, commit, branch)
        if pull is None:
            return None
        cfg = envconfig.load(env, config_dir)
        metrics, snapshot = run_facts(metrics_path)
        return record(gh, Gcp(cfg["region"], dry_run=gh.dry_run), cfg, env=env, commit=commit,
                      pull=pull, metrics=metrics, data_snapshot=snapshot, build_url=build_url)
    except (envconfig.ConfigError, GitHubError, GcpError, RuntimeError, KeyError, ValueError,
            OSError) as err:
        log(f"warning: no approval record for {commit[:12]} in {env}: {err}")
        return None


def record_rejection(gh: GitHub, gcp: Gcp, cfg: dict[str, Any], *, env: str, commit: str,
                     pr: int | None) -> str:
    """rollback.py's hook, before it deletes the evidence: record who closed pull request `pr`.
    Never fails the rollback: a record that cannot be written is reported ('' then)."""
    if not pr:
        return ""
    try:
        return record(gh, gcp, cfg, env=env, commit=commit, pull={"number": pr})
    except (GitHubError, GcpError, RuntimeError, KeyError) as err:
        log(f"warning: no approval record for the rejection of {commit[:12]} (#{pr}): {err}")
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--repo", required=True, help="owner/name")
    parser.add_argument("--pr", type=int, help="the pull request (default: the merged "
                        "promotion pull request the commit came with)")
    parser.add_argument("--branch", help="the environment's branch (with no --pr)")
    parser.add_argument("--metrics", type=Path)
    parser.add_argument("--build-url")
    parser.add_argument("--config-dir", type=Path, default=envconfig.CONFIG_DIR)
    parser.add_argument("--dry-run", action="store_true", help="read, but print writes")
    args = parser.parse_args(argv)
    try:
        cfg = envconfig.load(args.env, args.config_dir)
        gh = GitHub(args.repo, dry_run=args.dry_run)
        pull = ({"number": args.pr} if args.pr
                else merged_pull_of(gh, args.commit, args.branch or args.env))
        if pull is None:
            log(f"no merged promotion pull request brought {args.commit[:12]} in: "
                "nothing to record")
            return 0
        metrics, snapshot = run_facts(args.metrics)
        uri = record(gh, Gcp(cfg["region"], dry_run=args.dry_run), cfg, env=args.env,
                     commit=args.commit, pull=pull, metrics=metrics, data_snapshot=snapshot,
                     build_url=args.build_url)
    except (envconfig.ConfigError, GitHubError, GcpError, ValueError, RuntimeError) as err:
        log(f"error: {err}")
        return 1
    print(uri)
    return 0


if __name__ == "__main__":
    sys.exit(main())
