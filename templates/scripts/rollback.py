"""Roll back a rejected candidate: the promotion pull request from an environment's branch was
closed without merge.

    python scripts/rollback.py --env dev --commit SHA --pr 12 --repo owner/name \
        --source-branch dev --target-branch staging [--paths terraform/] [--dry-run]

For the candidate commit and every commit of the closed pull request, in the environment of
config/<env>.yaml:
1. deletes the run-scoped artifacts, gs://<pipeline_root bucket>/runs/<commit>/;
2. cancels and deletes the Vertex AI pipeline jobs labelled commit=<commit>;
3. removes what else the candidate created (scripts/candidate_cleanup.py): its monitoring
   jobs; if it is the champion, the previous champion gets the `champion` alias back and is
   deployed again with all traffic;
4. undeploys the model versions labelled commit=<commit> from their endpoints and deletes them
   (the default alias moves to the newest remaining version first);
5. deletes its batch predictions' BigQuery output tables and the jobs, its AutoML training
   pipelines and its Vertex AI datasets (all labelled commit=<commit>);
then opens a pull request on the source branch that reverts its infrastructure change (files
under --paths back to the target branch's content).

Idempotent: what is already gone is skipped, an existing revert branch / pull request is reused.
Exit 0 when done, 3 when a pipeline job is still cancelling (run again), 1 on error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import approval_record
import candidate_cleanup
import envconfig
from gcpapi import Gcp, GcpError
from ghapi import GitHub, GitHubError, log

ACTIVE_JOB_STATES = {"PIPELINE_STATE_QUEUED", "PIPELINE_STATE_PENDING",
                     "PIPELINE_STATE_RUNNING", "PIPELINE_STATE_PAUSED"}
TERMINAL_JOB_STATES = {"PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED",
                       "PIPELINE_STATE_CANCELLED"}


@dataclass
class Report:
    objects_deleted: int = 0
    jobs_cancelled: list[str] = field(default_factory=list)
    jobs_deleted: list[str] = field(default_factory=list)
    jobs_pending: list[str] = field(default_factory=list)
    undeployed: list[str] = field(default_factory=list)
    versions_deleted: list[str] = field(default_factory=list)
    # monitoring jobs, restored champion, prediction tables, batch jobs, training, datasets
    cleaned: candidate_cleanup.Cleaned = field(default_factory=candidate_cleanup.Cleaned)
    revert: str = "none"
    record: str = ""  # the approval record (scripts/approval_record.py)


# --- pure helpers -------------------------------------------------------------------------------


def label_filter(commit: str) -> str:
    return f'labels.commit="{commit[:40]}"'


def traffic_without(split: dict[str, int], removed: str, remaining: list[str]) -> dict[str, int]:
    """The endpoint's traffic split once `removed` is undeployed: the others keep their shares,
    scaled to 100; if they had none, the first remaining model takes all traffic."""
    kept = {k: int(v) for k, v in split.items() if k != removed and k in remaining}
    if not remaining:
        return {}
    total = sum(kept.values())
    if total == 0:
        return {remaining[0]: 100, **{k: 0 for k in remaining[1:]}}
    scaled = {k: (v * 100) // total for k, v in kept.items()}
    first = max(scaled, key=lambda k: scaled[k])
    scaled[first] += 100 - sum(scaled.values())
    return {k: scaled.get(k, 0) for k in remaining}


def revert_tree_entries(files: list[dict[str, Any]], target_blobs: dict[str, dict[str, str]],
                        paths: str) -> list[dict[str, Any]]:
    """Tree entries that put every file changed under `paths` back to the target's version
    (compare API `files` of target...source; `target_blobs`: path -> {sha, mode})."""
    entries: dict[str, dict[str, Any]] = {}

    def restore(path: str) -> None:
        blob = target_blobs.get(path)
        if blob:
            entries[path] = {"path": path, "mode": blob["mode"], "type": "blob", "sha": blob["sha"]}
        else:
            entries[path] = {"path": path, "mode": "100644", "type": "blob", "sha": None}

    for f in files:
        name = f["filename"]
        previous = f.get("previous_filename")
        touched = [p for p in (name, previous) if p and p.startswith(paths)]
        if not touched:
            continue
        restore(name)
        if previous:
            restore(previous)
    return [entries[k] for k in sorted(entries)]


# --- effects -------------------------------------------------------------------------------------


def delete_artifacts(gcp: Gcp, bucket: str, prefix: str, report: Report) -> None:
    for name in gcp.list_objects(bucket, prefix):
        gcp.delete_object(bucket, name)
        report.objects_deleted += 1
    log(f"gs://{bucket}/{prefix}: {report.objects_deleted} object(s) deleted so far")


def delete_pipeline_jobs(gcp: Gcp, parent: str, commit: str, report: Report,
                         wait_seconds: float) -> None:
    for job in gcp.vertex_list(f"{parent}/pipelineJobs", "pipelineJobs",
                               filter=label_filter(commit)):
        name, state = job["name"], job.get("state", "")
        if state in ACTIVE_JOB_STATES:
            gcp.vertex("POST", f"{name}:cancel", {})
            report.jobs_cancelled.append(name)
            deadline = time.monotonic() + wait_seconds
            while not gcp.dry_run:
                state = (gcp.vertex("GET", name) or {}).get("state", "")
                if state in TERMINAL_JOB_STATES or time.monotonic() >= deadline:
                    break
                time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
            if state not in TERMINAL_JOB_STATES and not gcp.dry_run:
                report.jobs_pending.append(name)
                continue
        try:
            gcp.vertex("DELETE", name)
            report.jobs_deleted.append(name)
        except GcpError as err:
            if err.status != 404:
                raise


def undeploy(gcp: Gcp, endpoint: str, deployed_id: str, report: Report) -> None:
    try:
        ep = gcp.vertex("GET", endpoint) or {}
    except GcpError as err:
        if err.status == 404:
            return
        raise
    deployed = [d["id"] for d in ep.get("deployedModels", [])]
    if deployed_id not in deployed:
        return
    remaining = [d for d in deployed if d != deployed_id]
    split = traffic_without(ep.get("trafficSplit", {}), deployed_id, remaining)
    gcp.vertex("POST", f"{endpoint}:undeployModel",
               {"deployedModelId": deployed_id, "trafficSplit": split})
    report.undeployed.append(f"{endpoint}/{deployed_id}")


def delete_model_versions(gcp: Gcp, parent: str, commit: str, report: Report) -> None:
    for model in gcp.vertex_list(f"{parent}/models", "models"):
        model_name = model["name"]
        versions = gcp.vertex_list(f"{model_name}:listVersions", "models",
                                   filter=label_filter(commit))
        for version in versions:
            for dep in version.get("deployedModels", []):
                undeploy(gcp, dep["endpoint"], dep["deployedModelId"], report)
            version_id = version["versionId"]
            if "default" in version.get("versionAliases", []):
                others = [v for v in gcp.vertex_list(f"{model_name}:listVersions", "models")
                          if v["versionId"] != version_id]
                if not others:
                    gcp.vertex("DELETE", model_name)
                    report.versions_deleted.append(f"{model_name}@{version_id}")
                    continue
                newest = max(others, key=lambda v: v.get("versionCreateTime", ""))
                gcp.vertex("POST", f"{model_name}@{newest['versionId']}:mergeVersionAliases",
                           {"versionAliases": ["default"]})
            try:
                gcp.vertex("DELETE", f"{model_name}@{version_id}:deleteVersion")
                report.versions_deleted.append(f"{model_name}@{version_id}")
            except GcpError as err:
                if err.status != 404:
                    raise


def open_revert(gh: GitHub, *, env: str, commit: str, pr: int | None, source: str,
                target: str, paths: str) -> str:
    """A pull request into `source` that puts the files under `paths` back to `target`."""
    branch = f"rollback/{env}-{commit[:12]}"
    if gh.open_pull(branch, source):
        return "exists"
    compare = gh.get(f"compare/{target}...{source}") or {}
    target_sha = compare.get("base_commit", {}).get("sha") or \
        gh.get(f"git/ref/heads/{target}")["object"]["sha"]
    try:
        ref = gh.get(f"git/ref/heads/{branch}")
        have_branch = bool(ref)
    except GitHubError as err:
        if err.status != 404:
            raise
        have_branch = False
    if not have_branch:
        target_tree = gh.get(f"git/commits/{target_sha}")["tree"]["sha"]
        blobs = {e["path"]: {"sha": e["sha"], "mode": e["mode"]}
                 for e in (gh.get(f"git/trees/{target_tree}", recursive="1") or {}).get("tree", [])
                 if e.get("type") == "blob"}
        entries = revert_tree_entries(compare.get("files", []), blobs, paths)
        if not entries:
            return "nothing-to-revert"
        source_sha = gh.get(f"git/ref/heads/{source}")["object"]["sha"]
        source_tree = gh.get(f"git/commits/{source_sha}")["tree"]["sha"]
        tree = gh.request("POST", "git/trees", {"base_tree": source_tree, "tree": entries})
        message = (f"Revert the infrastructure change of rejected candidate {commit[:12]}\n\n"
                   f"Promotion pull request #{pr} ({source} -> {target}) was closed without merge.")
        new = gh.request("POST", "git/commits", {
            "message": message, "tree": (tree or {}).get("sha", "dry-run"),
            "parents": [source_sha]})
        gh.request("POST", "git/refs", {"ref": f"refs/heads/{branch}",
                                        "sha": (new or {}).get("sha", "dry-run")})
    body = (f"Promotion pull request #{pr} from `{source}` into `{target}` was closed without "
            f"merge, so candidate `{commit}` is rejected. Its run-scoped artifacts, pipeline jobs, "
            f"model versions and endpoint deployments in `{env}` were deleted. Merging this pull "
            f"request puts `{paths or 'every file'}` back to what `{target}` has, and the next "
            f"apply of `{env}` removes the rejected infrastructure change.")
    gh.request("POST", "pulls", {"title": f"Roll back {env}: revert rejected {commit[:12]}",
                                 "head": branch, "base": source, "body": body})
    return "created"


def pull_commits(gh: GitHub, pr: int) -> list[str]:
    shas: list[str] = []
    page = 1
    while True:
        batch = gh.get(f"pulls/{pr}/commits", per_page="100", page=str(page)) or []
        shas += [c["sha"] for c in batch]
        if len(batch) < 100:
            return shas
        page += 1


def rollback(gh: GitHub, gcp: Gcp, cfg: dict[str, Any], *, env: str, commit: str,
             pr: int | None, source: str, target: str, paths: str,
             wait_seconds: float) -> Report:
    report = Report()
    commits = [commit] + [c for c in (pull_commits(gh, pr) if pr else []) if c != commit]
    parent = f"projects/{cfg['project_id']}/locations/{cfg['region']}"
    bucket = cfg["buckets"]["pipeline_root"]
    # who closed it and on what evidence, recorded before the evidence goes
    report.record = approval_record.record_rejection(gh, gcp, cfg, env=env, commit=commit, pr=pr)
    for sha in commits:
        delete_artifacts(gcp, bucket, envconfig.run_prefix(cfg, sha), report)
        delete_pipeline_jobs(gcp, parent, sha, report, wait_seconds)
        candidate_cleanup.before_versions(gcp, cfg, sha, report.cleaned)
        delete_model_versions(gcp, parent, sha, report)
        candidate_cleanup.after_versions(gcp, cfg, sha, report.cleaned)
    report.revert = open_revert(gh, env=env, commit=commit, pr=pr, source=source, target=target,
                                paths=paths)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--commit", required=True, help="head commit of the rejected candidate")
    parser.add_argument("--pr", type=int, help="number of the closed promotion pull request")
    parser.add_argument("--repo", required=True, help="owner/name")
    parser.add_argument("--source-branch", required=True)
    parser.add_argument("--target-branch", required=True)
    parser.add_argument("--paths", default="terraform/",
                        help="path prefix of the infrastructure to revert ('' = everything)")
    parser.add_argument("--config-dir", type=Path, default=envconfig.CONFIG_DIR)
    parser.add_argument("--wait-seconds", type=float, default=300.0,
                        help="how long to wait for cancelled pipeline jobs before deleting")
    parser.add_argument("--dry-run", action="store_true", help="read, but print writes")
    args = parser.parse_args(argv)
    if len(args.commit) < 7 or not all(c in "0123456789abcdef" for c in args.commit):
        log(f"error: --commit must be a lowercase hex commit sha, got {args.commit!r}")
        return 1
    try:
        cfg = envconfig.load(args.env, args.config_dir)
        gh = GitHub(args.repo, dry_run=args.dry_run)
        gcp = Gcp(cfg["region"], dry_run=args.dry_run)
        report = rollback(gh, gcp, cfg, env=args.env, commit=args.commit, pr=args.pr,
                          source=args.source_branch, target=args.target_branch, paths=args.paths,
                          wait_seconds=args.wait_seconds)
    except (envconfig.ConfigError, GitHubError, GcpError, ValueError, RuntimeError) as err:
        log(f"error: {err}")
        return 1
    print(json.dumps(dataclasses.asdict(report), indent=2))
    return 3 if report.jobs_pending else 0


if __name__ == "__main__":
    sys.exit(main())
