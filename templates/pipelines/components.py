"""The pipeline's own KFP components (the rest are Google Cloud Pipeline Components).

Lightweight components: KFP ships each function's source to a plain Python image, so every
body is self-contained (imports inside, no module-level helpers). Their pure parts are unit
tested through `<component>.python_func`. No resource names here: everything is an input.
"""

from typing import Any, NamedTuple

from kfp import dsl

from pipelines import quality
from pipelines.quality import evaluate

BASE_IMAGE = "python:3.11-slim"
BIGQUERY = ["google-cloud-bigquery==3.27.0"]
AIPLATFORM = ["google-cloud-aiplatform==1.165.1"]


@dsl.component(base_image=BASE_IMAGE)
def run_labels(commit: str, environment: str, run_name: str) -> dict:
    """Labels for everything this run creates: commit, run id and environment."""
    import re

    def clean(text: str) -> str:
        value = re.sub(r"[^a-z0-9_-]", "-", str(text).lower())
        return re.sub(r"-+", "-", value).strip("-")[:63]

    return {
        "commit": clean(commit[:40]) or "unknown",
        "run-id": clean(run_name) or "unknown",
        "environment": clean(environment) or "unknown",
        "pipeline": "inventory-forecast",
    }


@dsl.component(base_image=BASE_IMAGE, packages_to_install=BIGQUERY)
def prepare_training_data(
    project: str,
    location: str,
    source_table: str,
    runs_dataset: str,
    predictions_dataset: str,
    run_name: str,
    snapshot_time: str,
    snapshot_sql: str,
    training_sql: str,
    forecast_sql: str,
    backtest_sql: str,
    training_data: dsl.Output[dsl.Dataset],
) -> NamedTuple(
    "PreparedData",
    [("train_table", str), ("train_bq_uri", str), ("forecast_bq_uri", str),
     ("predictions_bq_uri", str), ("snapshot_table", str), ("snapshot_time", str),
     ("backtest_bq_uri", str), ("runs_bq_uri", str)],
):
    """Extract + preprocess: snapshot the source table (the run's exact data, re-readable later),
    then build the run's training table and batch-prediction input from that snapshot (and,
    with `backtest_sql`, the champion/challenger backtest input). All go to `runs_dataset` (the
    pipeline's own; the source's dataset stays read-only to it)."""
    import datetime
    import re

    from google.cloud import bigquery

    parts = source_table.split(".")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"source_table must be project.dataset.table, got {source_table!r}")
    src_project, _source_dataset, table = parts
    run = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", run_name)).strip("_")[-200:]
    if snapshot_time:
        at = datetime.datetime.fromisoformat(snapshot_time.replace("Z", "+00:00"))
    else:
        at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=30)
    if at.tzinfo is None:
        at = at.replace(tzinfo=datetime.UTC)
    stamp = at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S+00")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,1024}", runs_dataset):
        raise ValueError(f"runs_dataset must be a dataset id, got {runs_dataset!r}")
    names = {
        "snapshot": f"{src_project}.{runs_dataset}.{table}_snapshot_{run}",
        "train_table": f"{src_project}.{runs_dataset}.train_{run}",
        "forecast_table": f"{src_project}.{runs_dataset}.forecast_input_{run}",
        "backtest_table": f"{src_project}.{runs_dataset}.backtest_input_{run}",
    }
    client = bigquery.Client(project=project, location=location)
    labels = {"pipeline-run": run.lower().replace("_", "-")[:63]}
    queries = [
        snapshot_sql.format(snapshot=names["snapshot"], table=source_table, timestamp=stamp,
                            expiration_days=400),
        training_sql.format(source=names["snapshot"], **names),
        forecast_sql.format(source=names["snapshot"], **names),
    ]
    if backtest_sql:
        queries.append(backtest_sql.format(source=names["snapshot"], **names))
    for sql in queries:
        client.query(sql, job_config=bigquery.QueryJobConfig(labels=labels)).result()
    rows = client.get_table(names["train_table"]).num_rows
    if not rows:
        raise RuntimeError(f"training table {names['train_table']} is empty: check {source_table}")
    training_data.uri = f"bq://{names['train_table']}"
    training_data.metadata.update({
        "source_table": source_table, "snapshot_table": names["snapshot"],
        "snapshot_time": stamp, "rows": rows, "run": run_name,
    })
    from collections import namedtuple

    outputs = namedtuple(
        "PreparedData",
        ["train_table", "train_bq_uri", "forecast_bq_uri", "predictions_bq_uri", "snapshot_table",
         "snapshot_time", "backtest_bq_uri", "runs_bq_uri"],
    )
    return outputs(
        train_table=names["train_table"],
        train_bq_uri=f"bq://{names['train_table']}",
        forecast_bq_uri=f"bq://{names['forecast_table']}",
        predictions_bq_uri=f"bq://{src_project}.{predictions_dataset}",
        snapshot_table=names["snapshot"],
        snapshot_time=stamp,
        backtest_bq_uri=f"bq://{names['backtest_table']}" if backtest_sql else "",
        runs_bq_uri=f"bq://{src_project}.{runs_dataset}",
    )


@dsl.component(base_image=BASE_IMAGE, packages_to_install=AIPLATFORM)
def find_endpoint(
    project: str, location: str, display_name: str
) -> NamedTuple("EndpointRef", [("resource_name", str), ("uri", str)]):
    """The endpoint the platform's Terraform created, looked up by display name."""
    from google.cloud import aiplatform

    found = aiplatform.Endpoint.list(
        filter=f'display_name="{display_name}"', project=project, location=location
    )
    if len(found) != 1:
        raise RuntimeError(
            f"expected one endpoint named {display_name!r} in {project}/{location}, found "
            f"{len(found)}: apply the environment's Terraform (model_deployment) first"
        )
    from collections import namedtuple

    name = found[0].resource_name
    uri = f"https://{location}-aiplatform.googleapis.com/v1/{name}"
    return namedtuple("EndpointRef", ["resource_name", "uri"])(name, uri)


def trainer_component(image: str) -> Any:
    """The custom training step: the repo's trainer image from the environment's Docker repo."""

    @dsl.container_component
    def train_forecaster(
        project: str,
        train_table: str,
        params: str,
        champion_model_uri: str,
        model: dsl.Output[dsl.Model],
        model_uri: dsl.OutputPath(str),
        metrics_json: dsl.OutputPath(str),
        champion_metrics_json: dsl.OutputPath(str),
    ):
        return dsl.ContainerSpec(
            image=image,
            command=["python", "-m", "pipelines.trainer.task"],
            args=[
                "--project", project, "--train-table", train_table, "--params", params,
                "--model-dir", model.path, "--model-uri", model.uri,
                "--model-uri-output", model_uri, "--metrics-output", metrics_json,
                "--champion-model-uri", champion_model_uri,
                "--champion-metrics-output", champion_metrics_json,
            ],
        )

    return train_forecaster


@dsl.component(base_image=BASE_IMAGE, packages_to_install=AIPLATFORM,
               additional_funcs=[quality.describe_rule, quality.evaluate])
def data_quality_gate(scan: str, expected_rules: str, timeout_seconds: int,
                      poll_seconds: float, result: dsl.Output[dsl.Metrics]) -> str:
    """The data quality gate: run the training data's Dataplex scan (dataScans.run), wait for
    its job and fail, naming every failed rule, unless pipelines/quality.py `evaluate` passes it.
    Returns the job's name. DATAPLEX_API_URL points it at another endpoint (tests)."""
    import json
    import os
    import time
    import urllib.error
    import urllib.request

    base = os.environ.get("DATAPLEX_API_URL", "https://dataplex.googleapis.com").rstrip("/")
    token = os.environ.get("GOOGLE_OAUTH_ACCESS_TOKEN")
    if not token:
        import google.auth
        import google.auth.transport.requests

        credentials, _ = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"])
        credentials.refresh(google.auth.transport.requests.Request())
        token = credentials.token

    def call(method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{base}/v1/{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read().decode() or "{}")
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"Dataplex {method} {path} failed with HTTP {err.code}: "
                               f"{err.read().decode(errors='replace')[:500]}") from err

    job = call("POST", f"{scan}:run", {})["job"]
    print(f"data quality scan {scan}: job {job['name']} started")
    deadline = time.monotonic() + timeout_seconds
    while True:
        job = call("GET", f"{job['name']}?view=FULL")
        if job.get("state") in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"data quality job {job['name']} still {job.get('state')} after "
                               f"{timeout_seconds} s")
        time.sleep(poll_seconds)
    outcome = job.get("dataQualityResult") or {}
    for key, value in (("score", outcome.get("score")), ("rows", outcome.get("rowCount"))):
        if value is not None:
            result.log_metric(key, float(value))
    reasons = evaluate(job, json.loads(expected_rules))
    result.log_metric("failed_checks", float(len(reasons)))
    if reasons:
        raise RuntimeError(f"data quality gate failed: scan {scan}, job {job['name']}:\n - "
                           + "\n - ".join(reasons))
    print(f"data quality gate passed: {len(outcome.get('rules') or [])} rules, "
          f"score {outcome.get('score')}")
    return str(job["name"])

