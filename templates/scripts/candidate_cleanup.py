"""What a rejected candidate left in Vertex AI and BigQuery, found by its `commit` label and
removed (scripts/rollback.py calls `clean`); the champion it replaced is restored first.

For one commit, in order:
1. monitoring: the model deployment monitoring jobs labelled commit=<sha> are deleted (they
   watch the candidate's deployment; the next run that deploys creates the champion's again);
2. registry: if a version labelled commit=<sha> is the `champion`, the previous champion (the
   version aliased `previous-champion`, else the newest other version) gets `champion` and
   `default` back and, when the endpoint no longer serves it, is deployed again with all
   traffic before anything is undeployed (rollback.py then undeploys and deletes the candidate);
3. batch predictions labelled commit=<sha>: their BigQuery output tables (forecasts, backtests)
   are deleted, then the jobs;
4. AutoML training pipelines labelled commit=<sha> are cancelled and deleted, then the Vertex
   AI datasets labelled commit=<sha>.
Everything already gone is skipped: safe to run twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gcpapi import Gcp, GcpError
from ghapi import log

CHAMPION = "champion"
PREVIOUS = "previous-champion"
SERVING_MACHINE = "n1-standard-2"  # pipelines/pipeline.py SERVING_MACHINE
ACTIVE = {"JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING",
          "PIPELINE_STATE_QUEUED", "PIPELINE_STATE_PENDING", "PIPELINE_STATE_RUNNING"}


@dataclass
class Cleaned:
    monitoring_jobs: list[str] = field(default_factory=list)
    champion_restored: str = ""
    redeployed: str = ""
    tables_deleted: list[str] = field(default_factory=list)
    batch_jobs_deleted: list[str] = field(default_factory=list)
    training_pipelines_deleted: list[str] = field(default_factory=list)
    datasets_deleted: list[str] = field(default_factory=list)


# --- pure helpers -------------------------------------------------------------------------------


def label_filter(commit: str) -> str:
    return f'labels.commit="{commit[:40]}"'


def restore_target(versions: list[dict[str, Any]], rejected: set[str]) -> dict[str, Any] | None:
    """The version to make champion again when the champion is rejected: the one aliased
    `previous-champion`, else the newest version not rejected; None when there is none."""
    others = [v for v in versions if v["versionId"] not in rejected]
    marked = [v for v in others if PREVIOUS in v.get("versionAliases", [])]
    if marked:
        return marked[0]
    return max(others, key=lambda v: v.get("versionCreateTime", ""), default=None)


def output_table(job: dict[str, Any]) -> tuple[str, str, str] | None:
    """(project, dataset, table) of a batch prediction job's BigQuery output, or None."""
    info = job.get("outputInfo") or {}
    dataset = str(info.get("bigqueryOutputDataset", "")).removeprefix("bq://")
    table = info.get("bigqueryOutputTable", "")
    parts = dataset.split(".")
    if len(parts) != 2 or not table:
        return None
    return parts[0], parts[1], str(table)


def deploy_request(version_name: str, service_account: str | None) -> dict[str, Any]:
    """endpoints.deployModel body: the restored champion on one replica, all traffic."""
    deployed: dict[str, Any] = {
        "model": version_name,
        "dedicatedResources": {"machineSpec": {"machineType": SERVING_MACHINE},
                               "minReplicaCount": 1, "maxReplicaCount": 1},
    }
    if service_account:
        deployed["serviceAccount"] = service_account
    return {"deployedModel": deployed, "trafficSplit": {"0": 100}}


# --- effects -------------------------------------------------------------------------------------


def _delete(gcp: Gcp, name: str) -> bool:
    try:
        gcp.vertex("DELETE", name)
        return True
    except GcpError as err:
        if err.status != 404:
            raise
        return False


def delete_monitoring_jobs(gcp: Gcp, parent: str, commit: str, out: Cleaned) -> None:
    for job in gcp.vertex_list(f"{parent}/modelDeploymentMonitoringJobs",
                               "modelDeploymentMonitoringJobs", filter=label_filter(commit)):
        if _delete(gcp, job["name"]):
            out.monitoring_jobs.append(job["name"])


def _wait(gcp: Gcp, operation: Any, what: str) -> None:
    name = (operation or {}).get("name")
    if gcp.dry_run or not name or (operation or {}).get("done"):
        return
    import time

    for _ in range(180):
        if (gcp.vertex("GET", name) or {}).get("done"):
            return
        time.sleep(10)
    raise RuntimeError(f"{what} still running after 30 minutes ({name}): run the rollback again")


def restore_champion(gcp: Gcp, parent: str, commit: str, cfg: dict[str, Any],
                     out: Cleaned) -> None:
    """If the candidate is the champion: the previous champion takes the aliases back and is
    served again (deployed with all traffic) before the candidate is undeployed."""
    for model in gcp.vertex_list(f"{parent}/models", "models"):
        name = model["name"]
        candidates = gcp.vertex_list(f"{name}:listVersions", "models",
                                     filter=label_filter(commit))
        if not any(CHAMPION in v.get("versionAliases", []) for v in candidates):
            continue
        versions = gcp.vertex_list(f"{name}:listVersions", "models")
        target = restore_target(versions, {v["versionId"] for v in candidates})
        if target is None:
            log(f"{name}: the rejected candidate is its only version; nothing to restore")
            continue
        gcp.vertex("POST", f"{name}@{target['versionId']}:mergeVersionAliases",
                   {"versionAliases": [CHAMPION, "default", f"-{PREVIOUS}"]})
        out.champion_restored = f"{name}@{target['versionId']}"
        endpoints = {d["endpoint"] for v in candidates for d in v.get("deployedModels", [])}
        if endpoints and not target.get("deployedModels"):
            for endpoint in sorted(endpoints):
                operation = gcp.vertex("POST", f"{endpoint}:deployModel", deploy_request(
                    out.champion_restored, (cfg.get("service_accounts") or {}).get("pipeline")))
                _wait(gcp, operation, f"deploying {out.champion_restored} to {endpoint}")
                out.redeployed = endpoint


def delete_batch_predictions(gcp: Gcp, parent: str, commit: str, out: Cleaned) -> None:
    for job in gcp.vertex_list(f"{parent}/batchPredictionJobs", "batchPredictionJobs",
                               filter=label_filter(commit)):
        if job.get("state") in ACTIVE:
            gcp.vertex("POST", f"{job['name']}:cancel", {})
            continue  # deleted by the next run, once cancelled
        table = output_table(job)
        if table and gcp.delete_table(*table):
            out.tables_deleted.append(".".join(table))
        if _delete(gcp, job["name"]):
            out.batch_jobs_deleted.append(job["name"])


def delete_training(gcp: Gcp, parent: str, commit: str, out: Cleaned) -> None:
    for pipeline in gcp.vertex_list(f"{parent}/trainingPipelines", "trainingPipelines",
                                    filter=label_filter(commit)):
        if pipeline.get("state") in ACTIVE:
            gcp.vertex("POST", f"{pipeline['name']}:cancel", {})
            continue
        if _delete(gcp, pipeline["name"]):
            out.training_pipelines_deleted.append(pipeline["name"])
    for dataset in gcp.vertex_list(f"{parent}/datasets", "datasets",
                                   filter=label_filter(commit)):
        if _delete(gcp, dataset["name"]):
            out.datasets_deleted.append(dataset["name"])


def before_versions(gcp: Gcp, cfg: dict[str, Any], commit: str, out: Cleaned) -> None:
    """What goes before the candidate's model versions are undeployed and deleted."""
    parent = f"projects/{cfg['project_id']}/locations/{cfg['region']}"
    delete_monitoring_jobs(gcp, parent, commit, out)
    restore_champion(gcp, parent, commit, cfg, out)


def after_versions(gcp: Gcp, cfg: dict[str, Any], commit: str, out: Cleaned) -> None:
    """What goes after: the candidate's prediction tables, batch jobs, training, datasets."""
    parent = f"projects/{cfg['project_id']}/locations/{cfg['region']}"
    delete_batch_predictions(gcp, parent, commit, out)
    delete_training(gcp, parent, commit, out)
