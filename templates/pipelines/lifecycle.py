"""The model's lifecycle in the pipeline: registry, champion/challenger gate, deploy without
leaks, monitoring (KFP lightweight components; pipeline.py wires them).

- Registry: one Vertex AI model per environment (display name `inventory-forecast-<env>`);
  every run uploads a new version of it (`parent_model`), labelled with commit and run. Aliases
  say what is where: `candidate` on the version a run trained, `champion` (and `default`) on
  the version that passed the gate and serves.
- Gate: `champion_gate` compares the candidate with the champion on the same holdout window and
  the same metrics (pure; the decision rule is `config/<env>.yaml` `gate:`).
- Deploy without leaks: once the new champion is deployed with all traffic, `plan_retirement`
  (pure) checks the endpoint's traffic split and names every earlier deployed model, which
  `retire_previous` undeploys before it moves the `champion` alias. A failed deploy stops the
  run before either: the old champion keeps serving.
- Monitoring: `configure_monitoring` creates or updates the endpoint's model deployment
  monitoring job; `batch_predict_monitored` is the batch prediction of batch-only clients with
  Vertex AI's batch prediction monitoring (skew against the training data).

The decisions are pure, typed functions here (`gate_decision`, `retirement_plan`), unit tested
directly; KFP ships them with the components that use them (`additional_funcs`), since a
component's image has only the function's source. The pure components run under `kfp.local`
in the tests; the others call Vertex AI through google-cloud-aiplatform.
"""

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from kfp import dsl

from pipelines.components import AIPLATFORM, BASE_IMAGE, BIGQUERY

CANDIDATE_ALIAS = "candidate"
CHAMPION_ALIAS = "champion"


@dsl.component(base_image=BASE_IMAGE, packages_to_install=AIPLATFORM)
def find_registry_model(
    project: str, location: str, display_name: str
) -> NamedTuple("Registry", [("parent_model", str), ("parent_uri", str), ("champion", str),
                             ("champion_artifact_uri", str)]):
    """The environment's registry model and its champion version ('' for each when absent).

    The model is the one named `display_name` that has a `champion` version; without one (the
    first run, or models from before the registry) the newest model of that name. The champion
    is the version aliased `champion` (resource name `<model>@<version id>`)."""
    from collections import namedtuple

    from google.cloud import aiplatform

    out = namedtuple("Registry", ["parent_model", "parent_uri", "champion",
                                  "champion_artifact_uri"])
    models = aiplatform.Model.list(filter=f'display_name="{display_name}"', project=project,
                                   location=location, order_by="create_time desc")
    if not models:  # an importer needs a URI: a placeholder with an empty resourceName
        return out("", f"https://{location}-aiplatform.googleapis.com/v1/projects/{project}/"
                   f"locations/{location}/models/none-yet", "", "")
    chosen, champion = models[0], None
    for model in models:
        registry = aiplatform.models.ModelRegistry(model.resource_name, project=project,
                                                   location=location)
        versions = [v for v in registry.list_versions() if "champion" in v.version_aliases]
        if versions:
            chosen, champion = model, versions[0]
            break
    name = chosen.resource_name
    uri = f"https://{location}-aiplatform.googleapis.com/v1/{name}"
    if champion is None:
        return out(name, uri, "", "")
    version = aiplatform.Model(f"{name}@{champion.version_id}", project=project,
                               location=location)
    return out(name, uri, f"{name}@{champion.version_id}", version.uri or "")


@dsl.component(base_image=BASE_IMAGE, packages_to_install=AIPLATFORM)
def set_aliases(project: str, location: str, model: dsl.Input[dsl.Artifact],
                aliases: list) -> str:
    """Move `aliases` onto the run's model version (an alias names one version of a model:
    merging moves it from the version that had it). Returns `<model>@<version id>`."""
    from google.cloud import aiplatform

    resource = model.metadata.get("resourceName") or model.uri.split("/v1/")[-1]
    found = aiplatform.Model(resource, project=project, location=location)
    found.versioning_registry.add_version_aliases(new_aliases=list(aliases),
                                                  version=found.version_id)
    return f"{found.resource_name}@{found.version_id}"


def trained_version(model: str, versions: Sequence[tuple[str, Mapping[str, str]]],
                    labels: Mapping[str, str]) -> str:
    """`<model>@<version id>` of the one version of `model` that carries all of the run's
    `labels` (pure; versions: (version id, labels) of each version of the model).

    AutoML's model artifact names the model without a version (with is_default_version=False
    that name means the `default` version, the champion), so the run finds its version by the
    labels it trained it with (`model_labels`; `run-id` is unique to the run). Raises
    RuntimeError unless exactly one version matches."""
    name = model.split("@")[0]
    wanted = dict(labels)
    if not wanted.get("run-id"):
        raise RuntimeError(f"the run's labels {wanted} have no run-id: cannot tell which "
                           f"version of {name} this run trained")
    found = sorted({str(v) for v, have in versions
                    if all(have.get(k) == value for k, value in wanted.items())})
    if len(found) != 1:
        raise RuntimeError(f"expected one version of {name} labelled run-id="
                           f"{wanted['run-id']}, found {found or 'none'}: the run cannot "
                           "tell which version it trained")
    return f"{name}@{found[0]}"


@dsl.component(base_image=BASE_IMAGE, packages_to_install=AIPLATFORM,
               additional_funcs=[trained_version])
def resolve_trained_version(
    project: str, location: str, model: dsl.Input[dsl.Artifact], labels: dict
) -> NamedTuple("Trained", [("resource_name", str), ("uri", str)]):
    """The version this run trained: `<model>@<version id>` (`trained_version` of the model's
    versions) and its Vertex AI URI, for the steps after AutoML training (its artifact names
    the model without a version, i.e. the `default` one)."""
    from collections import namedtuple

    from google.cloud import aiplatform

    resource = model.metadata.get("resourceName") or model.uri.split("/v1/")[-1]
    registry = aiplatform.models.ModelRegistry(resource.split("@")[0], project=project,
                                               location=location)
    listed = registry.client.list_model_versions(request={"name": registry.model_resource_name})
    name = trained_version(resource, [(v.version_id, dict(v.labels)) for v in listed], labels)
    uri = f"https://{location}-aiplatform.googleapis.com/v1/{name}"
    return namedtuple("Trained", ["resource_name", "uri"])(name, uri)


def _numbers(values: Mapping[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in values.items()
            if isinstance(v, int | float) and not isinstance(v, bool)}


def gate_decision(candidate_metrics: Mapping[str, Any], champion_metrics: Mapping[str, Any],
                  champion: str, metric: str, min_improvement: float, min_r_squared: float,
                  max_mape: float) -> dict[str, Any]:
    """The champion/challenger decision (pure): the record the gate logs and the build reads.

    The candidate must clear the absolute bar (r_squared >= min_r_squared, mape <= max_mape);
    with a `champion`, its `metric` must also beat the champion's by `min_improvement`
    (relative; lower is better, except for r_squared). Raises ValueError when a metric the rule
    needs is missing (a champion that was not scored is an error, not a pass)."""
    candidate, incumbent = _numbers(candidate_metrics), _numbers(champion_metrics)
    missing = sorted({metric, "r_squared", "mape"} - set(candidate))
    if missing:
        raise ValueError(f"candidate metrics lack {missing}: {sorted(candidate)}")
    if champion and metric not in incumbent:
        raise ValueError(f"champion {champion} was not scored on the holdout ({metric!r} "
                         f"missing from {sorted(incumbent)})")
    reasons = [text for failed, text in (
        (candidate["r_squared"] < min_r_squared,
         f"r_squared {candidate['r_squared']:.4g} is below the bar {min_r_squared:.4g}"),
        (candidate["mape"] > max_mape,
         f"mape {candidate['mape']:.4g} is above the bar {max_mape:.4g}"),
    ) if failed]
    improvement = None
    if champion:
        new, old = candidate[metric], incumbent[metric]
        gain = (new - old) if metric == "r_squared" else (old - new)
        improvement = gain / abs(old) if old else (1.0 if gain > 0 else 0.0)
        if improvement < min_improvement:
            reasons.append(f"{metric} {new:.4g} vs champion {old:.4g}: improvement "
                           f"{improvement:.2%} is below the required {min_improvement:.2%}")
    summary = "; ".join(reasons) or (
        "first model: clears the absolute bar" if improvement is None else
        f"{metric} {candidate[metric]:.4g} beats champion {incumbent[metric]:.4g} "
        f"({improvement:.2%})")
    return {"verdict": "fail" if reasons else "pass", "reason": summary, "metric": metric,
            "min_improvement": min_improvement, "min_r_squared": min_r_squared,
            "max_mape": max_mape, "improvement": improvement, "champion": champion or None,
            "candidate_metrics": candidate, "champion_metrics": incumbent}


def retirement_plan(state: Mapping[str, Any], model: str) -> dict[str, Any]:
    """Which deployed models to undeploy now that `model` (`<model>@<version>`) is deployed
    (pure): every other one, once the traffic split is checked to send all traffic to the new
    deployment. Raises RuntimeError (nothing is undeployed) when it does not: a partial
    rollout, a second deployment of the same version or a missing one needs a person."""
    name, _, version = model.partition("@")
    deployed = list(state.get("deployedModels", []))
    split = {str(k): int(v) for k, v in dict(state.get("trafficSplit", {})).items()}
    new = [str(d["id"]) for d in deployed
           if str(d.get("model", "")).split("@")[0] == name
           and (not version or str(d.get("modelVersionId", "")) == version)]
    if len(new) != 1:
        raise RuntimeError(f"expected one deployment of {model} on {state.get('name')}, found "
                           f"{len(new)}: nothing undeployed")
    keep = new[0]
    if split.get(keep, 0) != 100 or sum(split.values()) != 100:
        raise RuntimeError(f"traffic split of {state.get('name')} is {split}, not all to the new "
                           f"deployment {keep}: nothing undeployed")
    others = sorted(str(d["id"]) for d in deployed if str(d["id"]) != keep)
    return {"keep": keep, "undeploy": others, "traffic": {keep: 100}}


def move_champion(registry: Any, version: str) -> str | None:
    """Give `version` the `champion` and `default` aliases (registry: an aiplatform
    ModelRegistry); the version that had `champion` gets `previous-champion`, what a rollback
    restores. Returns that earlier version's id, or None."""
    earlier = [v.version_id for v in registry.list_versions()
               if "champion" in v.version_aliases and v.version_id != version]
    if earlier:
        registry.add_version_aliases(new_aliases=["previous-champion"], version=earlier[0])
    registry.add_version_aliases(new_aliases=["champion", "default"], version=version)
    return str(earlier[0]) if earlier else None


@dsl.component(base_image=BASE_IMAGE, additional_funcs=[_numbers, gate_decision])
def champion_gate(
    candidate_metrics_json: str,
    champion_metrics_json: str,
    champion: str,
    metric: str,
    min_improvement: float,
    min_r_squared: float,
    max_mape: float,
    metrics: dsl.Output[dsl.Metrics],
    gate: dsl.Output[dsl.Artifact],
) -> NamedTuple("Gate", [("verdict", str), ("reasons", str)]):
    """Champion/challenger gate: 'pass' (deploy the candidate) or 'fail' (stop before deploy).

    Both models were scored on the same holdout window with the same metrics. The candidate
    must clear the absolute bar (r_squared >= min_r_squared, mape <= max_mape); with a
    champion, its `metric` must also be better than the champion's by `min_improvement`
    (relative; lower is better except for r_squared). Both sets of metrics and the verdict are
    logged (Vertex AI Experiments shows the Metrics artifact with the run) and written to the
    `gate` artifact, the record the build reads into metrics.json."""
    import json
    from collections import namedtuple

    record = gate_decision(json.loads(candidate_metrics_json or "{}"),
                           json.loads(champion_metrics_json or "{}"), champion, metric,
                           min_improvement, min_r_squared, max_mape)
    candidate, incumbent = record["candidate_metrics"], record["champion_metrics"]
    verdict, summary, improvement = record["verdict"], record["reason"], record["improvement"]
    logged = {**{f"candidate_{k}": v for k, v in candidate.items()},
              **{f"champion_{k}": v for k, v in incumbent.items()},
              "gate_passed": 1.0 if verdict == "pass" else 0.0,
              "gate_improvement": improvement}
    for key, value in sorted(logged.items()):
        if value is not None:
            metrics.log_metric(key, value)
    gate.metadata.update(record)
    with open(gate.path, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=2, sort_keys=True)
    return namedtuple("Gate", ["verdict", "reasons"])(verdict, summary)


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[*AIPLATFORM, *BIGQUERY])
def automl_backtest(
    project: str,
    location: str,
    candidate: dsl.Input[dsl.Artifact],
    champion: str,
    backtest_bq_uri: str,
    actuals_table: str,
    destination_bq_uri: str,
    metrics_sql: str,
    service_account: str,
    labels: dict,
    encryption_spec_key_name: str,
) -> NamedTuple("Backtest", [("candidate_metrics_json", str), ("champion_metrics_json", str)]):
    """AutoML: the candidate and the champion forecast the same holdout window (the last
    horizon of the run's data, its actuals hidden) by batch prediction; `metrics_sql`
    (pipelines/sql.py backtest_metrics_query) scores both forecasts against the actuals with
    the trainer's metrics. The champion's metrics are '{}' without one."""
    import json
    from collections import namedtuple

    from google.cloud import aiplatform, bigquery

    def forecast_metrics(model_name: str, tag: str) -> str:
        job = aiplatform.BatchPredictionJob.create(
            job_display_name=f"backtest-{tag}", model_name=model_name,
            instances_format="bigquery", predictions_format="bigquery",
            bigquery_source=backtest_bq_uri, bigquery_destination_prefix=destination_bq_uri,
            labels={**labels, "purpose": "backtest"}, service_account=service_account or None,
            encryption_spec_key_name=encryption_spec_key_name or None,
            project=project, location=location, sync=True)
        info = job.output_info
        table = f"{info.bigquery_output_dataset.removeprefix('bq://')}." \
                f"{info.bigquery_output_table}"
        client = bigquery.Client(project=project, location=location)
        rows = list(client.query(metrics_sql.format(predictions=table,
                                                    actuals=actuals_table)).result())
        values = {k: float(v) for k, v in dict(rows[0]).items() if v is not None} if rows else {}
        if not values.get("test_rows"):
            raise RuntimeError(f"backtest of {model_name} produced no forecast for the holdout "
                               f"window ({table})")
        return json.dumps(values)

    resource = candidate.metadata.get("resourceName") or candidate.uri.split("/v1/")[-1]
    outputs = namedtuple("Backtest", ["candidate_metrics_json", "champion_metrics_json"])
    return outputs(forecast_metrics(resource, "candidate"),
                   forecast_metrics(champion, "champion") if champion else "{}")


@dsl.component(base_image=BASE_IMAGE, packages_to_install=AIPLATFORM)
def endpoint_state(project: str, location: str, endpoint: str) -> str:
    """The endpoint's deployed models and traffic split (JSON), read after the deploy."""
    import json

    from google.cloud import aiplatform

    found = aiplatform.Endpoint(endpoint, project=project, location=location).gca_resource
    return json.dumps({
        "name": found.name,
        "deployedModels": [{"id": d.id, "model": d.model, "modelVersionId": d.model_version_id}
                           for d in found.deployed_models],
        "trafficSplit": {k: int(v) for k, v in found.traffic_split.items()},
    })


@dsl.component(base_image=BASE_IMAGE, additional_funcs=[retirement_plan])
def plan_retirement(state_json: str, model: str) -> str:
    """`retirement_plan` of the endpoint's state after the deploy, as JSON
    {"keep": id, "undeploy": [ids], "traffic": {id: 100}}."""
    import json

    return json.dumps(retirement_plan(json.loads(state_json), model))


@dsl.component(base_image=BASE_IMAGE, packages_to_install=AIPLATFORM,
               additional_funcs=[move_champion])
def retire_previous(project: str, location: str, endpoint: str, plan_json: str,
                    model: str) -> str:
    """Undeploy the earlier models `plan_retirement` named (re-checking the traffic split
    first), then make `model` the champion: the `champion` and `default` aliases move to it,
    and the version that had `champion` gets `previous-champion` (what rollback restores)."""
    import json

    from google.cloud import aiplatform

    plan = json.loads(plan_json)
    ep = aiplatform.Endpoint(endpoint, project=project, location=location)
    split = {k: int(v) for k, v in ep.gca_resource.traffic_split.items()}
    if split.get(plan["keep"], 0) != 100:
        raise RuntimeError(f"traffic split of {endpoint} changed to {split} since it was "
                           "checked: nothing undeployed")
    live = {d.id for d in ep.gca_resource.deployed_models}
    for deployed_id in plan["undeploy"]:
        if deployed_id in live:
            ep.undeploy(deployed_model_id=deployed_id)
    name, _, version = model.partition("@")
    previous = move_champion(
        aiplatform.models.ModelRegistry(name, project=project, location=location), version)
    return json.dumps({"champion": model, "previous": previous,
                       "undeployed": plan["undeploy"]})


@dsl.component(base_image=BASE_IMAGE, packages_to_install=AIPLATFORM,
               additional_funcs=[move_champion])
def promote_champion(project: str, location: str, model: str) -> str:
    """Batch-only: the version that passed the gate and wrote this run's forecasts becomes
    the champion (`champion` and `default` aliases)."""
    from google.cloud import aiplatform

    name, _, version = model.partition("@")
    move_champion(aiplatform.models.ModelRegistry(name, project=project, location=location),
                  version)
    return model


@dsl.component(base_image=BASE_IMAGE, packages_to_install=AIPLATFORM)
def configure_monitoring(
    project: str,
    location: str,
    endpoint: str,
    display_name: str,
    training_bq_uri: str,
    target_field: str,
    features: list,
    sampling_rate: float,
    interval_hours: int,
    drift_threshold: float,
    skew_threshold: float,
    emails: list,
    notification_channels: list,
    labels: dict,
    encryption_spec_key_name: str,
    schema: dsl.Output[dsl.Artifact],
) -> str:
    """Create, or update, the endpoint's model deployment monitoring job: feature drift of the
    sampled requests and skew against the champion's training table, per feature thresholds,
    alerts by email, to `notification_channels` and to Cloud Logging (enable_logging: the
    platform's log-based alert policy fires on them). The analysis instance schema (the
    features, in the order the model takes them) is written to `schema` (GCS, under the run's
    pipeline root): custom models need it. Returns the job's resource name."""
    from google.cloud import aiplatform
    from google.cloud.aiplatform import model_monitoring

    with open(schema.path, "w", encoding="utf-8") as handle:
        handle.write("type: object\nproperties:\n")
        handle.writelines(f"  {f}:\n    type: number\n" for f in features)
        handle.write("required:\n")
        handle.writelines(f"- {f}\n" for f in features)

    objective = model_monitoring.ObjectiveConfig(
        skew_detection_config=model_monitoring.SkewDetectionConfig(
            data_source=training_bq_uri, target_field=target_field,
            skew_thresholds={f: float(skew_threshold) for f in features}),
        drift_detection_config=model_monitoring.DriftDetectionConfig(
            drift_thresholds={f: float(drift_threshold) for f in features}),
    )
    alerts = model_monitoring.AlertConfig(user_emails=list(emails), enable_logging=True,
                                          notification_channels=list(notification_channels))
    sampling = model_monitoring.RandomSampleConfig(sample_rate=float(sampling_rate))
    schedule = model_monitoring.ScheduleConfig(monitor_interval=int(interval_hours))
    existing = aiplatform.ModelDeploymentMonitoringJob.list(
        filter=f'display_name="{display_name}"', project=project, location=location)
    existing = [j for j in existing if j.gca_resource.endpoint == endpoint]
    if existing:
        job = existing[0].update(objective_configs=objective, alert_config=alerts,
                                 logging_sampling_strategy=sampling, schedule_config=schedule,
                                 labels=dict(labels))
    else:
        job = aiplatform.ModelDeploymentMonitoringJob.create(
            display_name=display_name, endpoint=endpoint, objective_configs=objective,
            logging_sampling_strategy=sampling, schedule_config=schedule, alert_config=alerts,
            enable_monitoring_pipeline_logs=True, labels=dict(labels),
            analysis_instance_schema_uri=schema.uri,
            encryption_spec_key_name=encryption_spec_key_name or None,
            project=project, location=location)
    return str(job.resource_name)


@dsl.component(base_image=BASE_IMAGE, packages_to_install=AIPLATFORM)
def batch_predict_monitored(
    project: str,
    location: str,
    display_name: str,
    model: dsl.Input[dsl.Artifact],
    source_bq_uri: str,
    training_bq_uri: str,
    target_field: str,
    features: list,
    included_fields: list,
    machine_type: str,
    skew_threshold: float,
    emails: list,
    service_account: str,
    labels: dict,
    encryption_spec_key_name: str,
    analysis: dsl.Output[dsl.Artifact],
) -> str:
    """Batch-only clients: a batch prediction of the run's forecast input with Vertex AI's batch
    prediction monitoring (v1beta1 model_monitoring_config): the job compares the batch's
    feature distributions with the training table and alerts by email and in Cloud Logging
    when a feature's skew exceeds the threshold. Vertex AI analyses JSONL output only, so this
    job writes JSONL under the run's pipeline root (`analysis`); the forecasts themselves go to
    BigQuery by the batch-predict step. Drift between batches is not part of it. Waits for the
    job; returns its resource name."""
    import time

    from google.cloud import aiplatform_v1beta1 as v1beta1

    resource = model.metadata.get("resourceName") or model.uri.split("/v1/")[-1]
    thresholds = {f: v1beta1.ThresholdConfig(value=float(skew_threshold)) for f in features}
    objective = v1beta1.ModelMonitoringObjectiveConfig(
        training_dataset=v1beta1.ModelMonitoringObjectiveConfig.TrainingDataset(
            bigquery_source=v1beta1.BigQuerySource(input_uri=training_bq_uri),
            target_field=target_field),
        training_prediction_skew_detection_config=(
            v1beta1.ModelMonitoringObjectiveConfig.TrainingPredictionSkewDetectionConfig(
                skew_thresholds=thresholds)))
    job = v1beta1.BatchPredictionJob(
        display_name=display_name, model=resource, labels=dict(labels),
        input_config=v1beta1.BatchPredictionJob.InputConfig(
            instances_format="bigquery",
            bigquery_source=v1beta1.BigQuerySource(input_uri=source_bq_uri)),
        output_config=v1beta1.BatchPredictionJob.OutputConfig(
            predictions_format="jsonl",
            gcs_destination=v1beta1.GcsDestination(output_uri_prefix=analysis.uri)),
        instance_config=v1beta1.BatchPredictionJob.InstanceConfig(
            instance_type="array", included_fields=list(included_fields))
        if included_fields else None,
        model_monitoring_config=v1beta1.ModelMonitoringConfig(
            objective_configs=[objective],
            alert_config=v1beta1.ModelMonitoringAlertConfig(
                email_alert_config=v1beta1.ModelMonitoringAlertConfig.EmailAlertConfig(
                    user_emails=list(emails)),
                enable_logging=True)),
        dedicated_resources=v1beta1.BatchDedicatedResources(
            machine_spec=v1beta1.MachineSpec(machine_type=machine_type),
            starting_replica_count=1, max_replica_count=1) if machine_type else None,
        service_account=service_account,
        encryption_spec=v1beta1.EncryptionSpec(kms_key_name=encryption_spec_key_name)
        if encryption_spec_key_name else None,
    )
    client = v1beta1.JobServiceClient(
        client_options={"api_endpoint": f"{location}-aiplatform.googleapis.com"})
    created = client.create_batch_prediction_job(
        parent=f"projects/{project}/locations/{location}", batch_prediction_job=job)
    done = {v1beta1.JobState.JOB_STATE_SUCCEEDED, v1beta1.JobState.JOB_STATE_FAILED,
            v1beta1.JobState.JOB_STATE_CANCELLED, v1beta1.JobState.JOB_STATE_EXPIRED}
    while (current := client.get_batch_prediction_job(name=created.name)).state not in done:
        time.sleep(60)
    if current.state != v1beta1.JobState.JOB_STATE_SUCCEEDED:
        raise RuntimeError(f"batch prediction {created.name} ended {current.state.name}: "
                           f"{current.error.message}")
    return str(created.name)
