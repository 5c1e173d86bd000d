"""The inventory-forecasting pipeline, built from one environment's config.

Feature toggles are read when the pipeline is BUILT (compile time), so the compiled spec
contains only the steps the platform supports: AutoML forecasting or the custom trainer, the
deployment steps only with `model_deployment`, monitoring only with `model_monitoring`.

The loop (pipelines/lifecycle.py): find the environment's registry model and its champion;
train a new version of it (`parent_model`, labelled with commit and run, alias `candidate`;
AutoML's artifact names no version, so the run resolves its version by those labels); score
the candidate and the champion on the same holdout window; the champion/challenger gate
(config `gate:`) decides; only a candidate that passes predicts, deploys (earlier models are
undeployed once the new one has all traffic), becomes `champion` and is monitored.

Names come from `EnvConfig`; the run's commit, thresholds and data window are runtime
parameters. With `cmek`, every Vertex AI resource a step creates (dataset, training job,
model, batch prediction and monitoring job) is encrypted with the environment's key
(`EnvConfig.vertex_ai_kms_key`), as the PipelineJob itself is (submit.py).
"""

import json
from collections.abc import Callable
from typing import Any

from google_cloud_pipeline_components.types import artifact_types
from google_cloud_pipeline_components.v1.automl.training_job import (
    AutoMLForecastingTrainingJobRunOp,
)
from google_cloud_pipeline_components.v1.batch_predict_job import ModelBatchPredictOp
from google_cloud_pipeline_components.v1.custom_job import (
    create_custom_training_job_from_component,
)
from google_cloud_pipeline_components.v1.dataset import TimeSeriesDatasetCreateOp
from google_cloud_pipeline_components.v1.endpoint import ModelDeployOp
from google_cloud_pipeline_components.v1.model import ModelUploadOp
from google_cloud_pipeline_components.v1.vertex_notification_email import (
    VertexNotificationEmailOp,
)
from kfp import dsl

from pipelines import components, lifecycle, quality, sql, tracking
from pipelines.config import EnvConfig
from pipelines.trainer.model import TrainParams

FORECAST_HORIZON = 7  # days; fixed at compile time (SQL and AutoML must agree)
AUTOML_CONTEXT_DAYS = 28
AUTOML_BUDGET_MILLI_NODE_HOURS = 1000
TRAINING_MACHINE = "n1-standard-4"
SERVING_MACHINE = "n1-standard-2"


def build(cfg: EnvConfig, *, image_tag: str = "latest") -> Callable[..., Any]:
    """The @dsl.pipeline function for `cfg`'s environment and feature toggles."""
    automl = cfg.features.automl
    deploy = cfg.features.model_deployment
    lag_features = not automl
    training_sql = sql.training_query(lag_features=lag_features)
    snapshot_sql = sql.snapshot_query()
    backtest_sql = sql.backtest_input_query(FORECAST_HORIZON, context_days=AUTOML_CONTEXT_DAYS) \
        if automl else ""
    default_source = f"{cfg.project_id}.{cfg.training_dataset}.{sql.SOURCE_TABLE}"
    trainer = None if automl else _custom_trainer(cfg, image_tag)

    @dsl.pipeline(
        name=tracking.PIPELINE_NAME,
        description=(
            "Inventory forecasting: snapshot + preprocess BigQuery sales, train a new registry "
            f"version ({'AutoML forecasting' if automl else 'custom trainer'}), score it and "
            "the champion on the same holdout, champion/challenger gate, batch-predict"
            f"{', deploy and retire earlier models' if deploy else ''}"
            f"{', monitor' if cfg.features.model_monitoring else ''}; owners notified on exit."
        ),
    )
    def inventory_forecast(
        commit: str = "unknown",
        project: str = cfg.project_id,
        location: str = cfg.region,
        environment: str = cfg.environment,
        source_table: str = default_source,
        runs_dataset: str = cfg.runs_dataset,
        predictions_dataset: str = cfg.predictions_dataset,
        snapshot_time: str = "",
        min_r_squared: float = cfg.gate.min_r_squared,
        train_params: str = json.dumps(TrainParams().as_dict()),
    ) -> None:
        notify = VertexNotificationEmailOp(recipients=[cfg.notification_email])
        notify.set_display_name("notify-owners")
        with dsl.ExitHandler(notify, name="forecast-run"):
            labels = components.run_labels(
                commit=commit, environment=environment, run_name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER
            ).set_display_name("run-labels")
            labels.set_caching_options(False)
            # the data quality gate (pipelines/quality.py): a failed rule stops the run here
            data_quality = components.data_quality_gate(
                **quality.gate_inputs(cfg.project_id, cfg.region, cfg.quality)
            ).set_display_name("data-quality-gate")
            data_quality.set_caching_options(False)
            prepared = components.prepare_training_data(
                project=project,
                location=location,
                source_table=source_table,
                runs_dataset=runs_dataset,
                predictions_dataset=predictions_dataset,
                run_name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
                snapshot_time=snapshot_time,
                snapshot_sql=snapshot_sql,
                training_sql=training_sql,
                forecast_sql=sql.forecast_input_query(
                    FORECAST_HORIZON, lag_features=lag_features,
                    context_days=AUTOML_CONTEXT_DAYS if automl else 0,
                ),
                backtest_sql=backtest_sql,
            ).set_display_name("extract-and-preprocess")
            prepared.set_caching_options(False)
            prepared.after(data_quality)
            registry = lifecycle.find_registry_model(
                project=project, location=location, display_name=model_name(cfg),
            ).set_display_name("find-registry-model")
            registry.set_caching_options(False)
            run = _Run(cfg, project, location, labels.output, prepared.outputs, registry.outputs)
            if automl:
                candidate, scores = _train_automl(run)
            else:
                assert trainer is not None
                candidate, scores = _train_custom(run, trainer, train_params)
            tagged = lifecycle.set_aliases(
                project=project, location=location, model=candidate,
                aliases=[lifecycle.CANDIDATE_ALIAS],
            ).set_display_name("alias-candidate")
            gate = lifecycle.champion_gate(
                candidate_metrics_json=scores[0], champion_metrics_json=scores[1],
                champion=registry.outputs["champion"], metric=cfg.gate.metric,
                min_improvement=cfg.gate.min_improvement, min_r_squared=min_r_squared,
                max_mape=cfg.gate.max_mape,
            ).set_display_name("champion-gate")
            with dsl.If(gate.outputs["verdict"] == "pass", name="challenger-wins"):
                predicted = _batch_predict(run, candidate)
                if deploy:
                    _deploy(run, candidate, tagged.output)
                else:
                    lifecycle.promote_champion(
                        project=project, location=location, model=tagged.output,
                    ).set_display_name("alias-champion").after(predicted)

    return inventory_forecast


def model_name(cfg: EnvConfig) -> str:
    """The environment's one registry model (every run uploads a version of it)."""
    return f"{tracking.PIPELINE_NAME}-{cfg.environment}"


class _Run:
    """What the steps of one run share (channels of the pipeline being built)."""

    def __init__(self, cfg: EnvConfig, project: Any, location: Any, labels: Any,
                 prepared: Any, registry: Any) -> None:
        self.cfg, self.project, self.location = cfg, project, location
        self.labels, self.prepared, self.registry = labels, prepared, registry
        self.kms_key = cfg.vertex_ai_kms_key or ""  # "" = Google-managed encryption


def _custom_trainer(cfg: EnvConfig, image_tag: str) -> Any:
    return create_custom_training_job_from_component(
        components.trainer_component(cfg.image(tracking.TRAINER_IMAGE, image_tag)),
        display_name="train-forecaster",
        machine_type=TRAINING_MACHINE,
        service_account=cfg.pipeline_service_account,
        encryption_spec_key_name=cfg.vertex_ai_kms_key or "",
        # the job's commit/run labels are on the pipeline run; these are fixed at compile time
        labels=tracking.labels(environment=cfg.environment, pipeline=tracking.PIPELINE_NAME),
    )


def _train_automl(run: _Run) -> tuple[Any, tuple[Any, Any]]:
    """AutoML trains a new version of the registry model; both models then forecast the same
    backtest window (the run's last horizon) and are scored against its actuals."""
    cfg, out = run.cfg, run.prepared
    dataset = TimeSeriesDatasetCreateOp(
        project=run.project, location=run.location, display_name=model_name(cfg),
        bq_source=out["train_bq_uri"], labels=run.labels,
        encryption_spec_key_name=run.kms_key,
    ).set_display_name("create-dataset")
    train = AutoMLForecastingTrainingJobRunOp(
        project=run.project, location=run.location,
        display_name=model_name(cfg),
        dataset=dataset.outputs["dataset"],
        target_column=sql.TARGET_COLUMN,
        time_column=sql.TIME_COLUMN,
        time_series_identifier_column=sql.SERIES_COLUMN,
        unavailable_at_forecast_columns=[sql.TARGET_COLUMN],
        available_at_forecast_columns=[sql.TIME_COLUMN, *sql.KNOWN_COLUMNS],
        forecast_horizon=FORECAST_HORIZON,
        context_window=AUTOML_CONTEXT_DAYS,
        data_granularity_unit="day",
        data_granularity_count=1,
        optimization_objective="minimize-rmse",
        budget_milli_node_hours=AUTOML_BUDGET_MILLI_NODE_HOURS,
        model_display_name=model_name(cfg),
        # a new version of the environment's model ('' on the first run: a new model); the
        # `default` alias stays on the champion until this version passes the gate
        parent_model=run.registry["parent_model"],
        is_default_version=False,
        labels=run.labels,
        model_labels=run.labels,
        training_encryption_spec_key_name=run.kms_key,
        model_encryption_spec_key_name=run.kms_key,
    ).set_display_name("train-automl-forecasting")
    # its artifact names the model without a version (= `default`, the champion): every step
    # after training takes the version this run trained, found by the run's labels
    trained = lifecycle.resolve_trained_version(
        project=run.project, location=run.location, model=train.outputs["model"],
        labels=run.labels,
    ).set_display_name("resolve-trained-version")
    trained.set_caching_options(False)
    model = dsl.importer(
        artifact_uri=trained.outputs["uri"],
        artifact_class=artifact_types.VertexModel,
        metadata={"resourceName": trained.outputs["resource_name"]},
    ).set_display_name("import-trained-version").outputs["artifact"]
    backtest = lifecycle.automl_backtest(
        project=run.project, location=run.location, candidate=model,
        champion=run.registry["champion"], backtest_bq_uri=out["backtest_bq_uri"],
        actuals_table=out["train_table"], destination_bq_uri=out["runs_bq_uri"],
        metrics_sql=sql.backtest_metrics_query(FORECAST_HORIZON),
        service_account=cfg.pipeline_service_account, labels=run.labels,
        encryption_spec_key_name=run.kms_key,
    ).set_display_name("backtest-candidate-and-champion")
    return model, (backtest.outputs["candidate_metrics_json"],
                   backtest.outputs["champion_metrics_json"])


def _train_custom(run: _Run, trainer: Any, train_params: Any) -> tuple[Any, tuple[Any, Any]]:
    """The custom trainer scores the new model and the champion on the same holdout; the
    model is uploaded as a new version of the registry model (parent_model)."""
    cfg = run.cfg
    train = trainer(
        project=run.project, location=run.location,
        train_table=run.prepared["train_table"], params=train_params,
        champion_model_uri=run.registry["champion_artifact_uri"],
    ).set_display_name("train-custom")
    unmanaged = dsl.importer(
        artifact_uri=train.outputs["model_uri"],
        artifact_class=artifact_types.UnmanagedContainerModel,
        metadata={"containerSpec": {"imageUri": tracking.prediction_image(cfg.region)}},
    ).set_display_name("import-model-artifact")
    parent = dsl.importer(
        artifact_uri=run.registry["parent_uri"],
        artifact_class=artifact_types.VertexModel,
        metadata={"resourceName": run.registry["parent_model"]},
    ).set_display_name("import-registry-model")
    model = ModelUploadOp(
        project=run.project, location=run.location,
        display_name=model_name(cfg),
        description="Custom inventory forecaster",
        unmanaged_container_model=unmanaged.outputs["artifact"],
        # a new version of the environment's model; an empty resourceName (first run) uploads
        # a new model. Without a `default` alias the champion keeps it until the gate passes.
        parent_model=parent.outputs["artifact"],
        labels=run.labels,
        encryption_spec_key_name=run.kms_key,
    ).set_display_name("register-model-version").outputs["model"]
    return model, (train.outputs["metrics_json"], train.outputs["champion_metrics_json"])


def _batch_predict(run: _Run, model: Any) -> Any:
    """This run's forecasts into the predictions dataset; batch-only clients with
    model_monitoring also get a monitored batch prediction (skew against the training table)."""
    cfg, out = run.cfg, run.prepared
    custom = not cfg.features.automl
    display_name = f"{model_name(cfg)}-batch"
    predict_args: dict[str, Any] = {}
    if custom:
        predict_args = {"instance_type": "array", "included_fields": list(sql.CUSTOM_FEATURES)}
    forecasts = ModelBatchPredictOp(
        project=run.project, location=run.location,
        job_display_name=display_name,
        model=model,
        instances_format="bigquery", predictions_format="bigquery",
        bigquery_source_input_uri=out["forecast_bq_uri"],
        bigquery_destination_output_uri=out["predictions_bq_uri"],
        service_account=cfg.pipeline_service_account,
        labels=run.labels,
        encryption_spec_key_name=run.kms_key,
        **predict_args,
    ).set_display_name("batch-predict")
    if not cfg.features.model_monitoring or cfg.features.model_deployment:
        return forecasts
    return lifecycle.batch_predict_monitored(
        project=run.project, location=run.location, display_name=f"{display_name}-monitored",
        model=model, source_bq_uri=out["forecast_bq_uri"], training_bq_uri=out["train_bq_uri"],
        target_field=sql.TARGET_COLUMN, features=_monitored_features(cfg),
        included_fields=list(sql.CUSTOM_FEATURES) if custom else [],
        machine_type=SERVING_MACHINE if custom else "",
        skew_threshold=cfg.monitoring.skew_threshold, emails=[cfg.notification_email],
        service_account=cfg.pipeline_service_account, labels=run.labels,
        encryption_spec_key_name=run.kms_key,
    ).set_display_name("batch-predict-monitored").after(forecasts)


def _monitored_features(cfg: EnvConfig) -> list[str]:
    return list(sql.KNOWN_COLUMNS if cfg.features.automl else sql.CUSTOM_FEATURES)


def _deploy(run: _Run, model: Any, version: Any) -> None:
    """Deploy the new champion with all traffic; once that succeeded, undeploy every earlier
    model (traffic split checked first) and move the `champion` alias; then monitoring. A
    failed deploy stops here: the old champion keeps serving."""
    cfg = run.cfg
    assert cfg.endpoint_display_name is not None
    endpoint = components.find_endpoint(
        project=run.project, location=run.location, display_name=cfg.endpoint_display_name,
    ).set_display_name("find-endpoint")
    endpoint_artifact = dsl.importer(
        artifact_uri=endpoint.outputs["uri"],
        artifact_class=artifact_types.VertexEndpoint,
        metadata={"resourceName": endpoint.outputs["resource_name"]},
    ).set_display_name("import-endpoint")
    deployed = ModelDeployOp(
        model=model,
        endpoint=endpoint_artifact.outputs["artifact"],
        dedicated_resources_machine_type=SERVING_MACHINE,
        dedicated_resources_min_replica_count=1,
        dedicated_resources_max_replica_count=1,
        traffic_split={"0": 100},
        service_account=cfg.pipeline_service_account,
    ).set_display_name("deploy-model")
    state = lifecycle.endpoint_state(
        project=run.project, location=run.location, endpoint=endpoint.outputs["resource_name"],
    ).set_display_name("read-endpoint").after(deployed)
    state.set_caching_options(False)
    plan = lifecycle.plan_retirement(state_json=state.output, model=version) \
        .set_display_name("plan-retirement")
    retired = lifecycle.retire_previous(
        project=run.project, location=run.location, endpoint=endpoint.outputs["resource_name"],
        plan_json=plan.output, model=version,
    ).set_display_name("undeploy-earlier-models")
    if cfg.features.model_monitoring:
        mon = cfg.monitoring
        lifecycle.configure_monitoring(
            project=run.project, location=run.location,
            endpoint=endpoint.outputs["resource_name"],
            display_name=f"{model_name(cfg)}-monitoring",
            training_bq_uri=run.prepared["train_bq_uri"], target_field=sql.TARGET_COLUMN,
            features=_monitored_features(cfg), sampling_rate=mon.sampling_rate,
            interval_hours=mon.interval_hours, drift_threshold=mon.drift_threshold,
            skew_threshold=mon.skew_threshold, emails=[cfg.notification_email],
            notification_channels=list(mon.notification_channels), labels=run.labels,
            encryption_spec_key_name=run.kms_key,
        ).set_display_name("configure-monitoring").after(retired)
