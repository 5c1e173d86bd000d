"""The inventory-forecasting pipeline, built from one environment's config.

Feature toggles are read when the pipeline is BUILT (compile time), so the compiled spec
contains only the steps the platform supports: AutoML forecasting or the custom trainer, and
the deployment step only with `model_deployment`. Names come from `EnvConfig`; the run's
commit, thresholds and data window are runtime parameters. With `cmek`, every Vertex AI
resource a step creates (dataset, training job, model, batch prediction job) is encrypted with
the environment's key (`EnvConfig.vertex_ai_kms_key`), as the PipelineJob itself is (submit.py).
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

from pipelines import components, sql, tracking
from pipelines.config import EnvConfig
from pipelines.trainer.model import TrainParams

FORECAST_HORIZON = 7  # days; fixed at compile time (SQL and AutoML must agree)
DEFAULT_MIN_R_SQUARED = 0.5
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
    default_source = f"{cfg.project_id}.{cfg.training_dataset}.{sql.SOURCE_TABLE}"
    kms_key = cfg.vertex_ai_kms_key or ""  # "" = Google-managed encryption
    trainer = None
    if not automl:
        trainer = create_custom_training_job_from_component(
            components.trainer_component(cfg.image(tracking.TRAINER_IMAGE, image_tag)),
            display_name="train-forecaster",
            machine_type=TRAINING_MACHINE,
            service_account=cfg.pipeline_service_account,
            encryption_spec_key_name=kms_key,
            # the job's commit/run labels are on the pipeline run; these are fixed at compile time
            labels=tracking.labels(environment=cfg.environment, pipeline=tracking.PIPELINE_NAME),
        )

    @dsl.pipeline(
        name=tracking.PIPELINE_NAME,
        description=(
            "Inventory forecasting: snapshot + preprocess BigQuery sales, train "
            f"({'AutoML forecasting' if automl else 'custom trainer'}), evaluate, register, "
            f"batch-predict{', deploy' if deploy else ''}; owners notified on exit."
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
        min_r_squared: float = DEFAULT_MIN_R_SQUARED,
        train_params: str = json.dumps(TrainParams().as_dict()),
    ) -> None:
        notify = VertexNotificationEmailOp(recipients=[cfg.notification_email])
        notify.set_display_name("notify-owners")
        with dsl.ExitHandler(notify, name="forecast-run"):
            labels = components.run_labels(
                commit=commit, environment=environment, run_name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER
            ).set_display_name("run-labels")
            labels.set_caching_options(False)
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
            ).set_display_name("extract-and-preprocess")
            prepared.set_caching_options(False)
            out = prepared.outputs

            if automl:
                dataset = TimeSeriesDatasetCreateOp(
                    project=project, location=location,
                    display_name=f"{tracking.PIPELINE_NAME}-{cfg.environment}",
                    bq_source=out["train_bq_uri"], labels=labels.output,
                    encryption_spec_key_name=kms_key,
                ).set_display_name("create-dataset")
                train = AutoMLForecastingTrainingJobRunOp(
                    project=project, location=location,
                    display_name=f"{tracking.PIPELINE_NAME}-{cfg.environment}",
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
                    model_display_name=f"{tracking.PIPELINE_NAME}-{cfg.environment}",
                    labels=labels.output,
                    model_labels=labels.output,
                    training_encryption_spec_key_name=kms_key,
                    model_encryption_spec_key_name=kms_key,
                ).set_display_name("train-automl-forecasting")
                model = train.outputs["model"]
                metrics_json = components.automl_model_metrics(
                    model=model, location=location
                ).set_display_name("automl-metrics").output
            else:
                assert trainer is not None
                train = trainer(
                    project=project, location=location,
                    train_table=out["train_table"], params=train_params,
                ).set_display_name("train-custom")
                metrics_json = train.outputs["metrics_json"]

            evaluate = components.check_metrics(
                metrics_json=metrics_json, min_r_squared=min_r_squared
            ).set_display_name("evaluate")

            with dsl.If(evaluate.outputs["Output"] == "pass", name="metrics-above-threshold"):
                if automl:
                    registered = model  # AutoML registers the model, labelled, when it trains
                else:
                    unmanaged = dsl.importer(
                        artifact_uri=train.outputs["model_uri"],
                        artifact_class=artifact_types.UnmanagedContainerModel,
                        metadata={"containerSpec": {
                            "imageUri": tracking.prediction_image(cfg.region)
                        }},
                    ).set_display_name("import-model-artifact")
                    registered = ModelUploadOp(
                        project=project, location=location,
                        display_name=f"{tracking.PIPELINE_NAME}-{cfg.environment}",
                        description="Custom inventory forecaster",
                        unmanaged_container_model=unmanaged.outputs["artifact"],
                        labels=labels.output,
                        encryption_spec_key_name=kms_key,
                    ).set_display_name("register-model").outputs["model"]

                predict_args: dict[str, Any] = {}
                if not automl:
                    predict_args = {"instance_type": "array",
                                    "included_fields": list(sql.CUSTOM_FEATURES)}
                ModelBatchPredictOp(
                    project=project, location=location,
                    job_display_name=f"{tracking.PIPELINE_NAME}-{cfg.environment}-batch",
                    model=registered,
                    instances_format="bigquery", predictions_format="bigquery",
                    bigquery_source_input_uri=out["forecast_bq_uri"],
                    bigquery_destination_output_uri=out["predictions_bq_uri"],
                    service_account=cfg.pipeline_service_account,
                    labels=labels.output,
                    encryption_spec_key_name=kms_key,
                    **predict_args,
                ).set_display_name("batch-predict")

                if deploy:
                    assert cfg.endpoint_display_name is not None
                    endpoint = components.find_endpoint(
                        project=project, location=location,
                        display_name=cfg.endpoint_display_name,
                    ).set_display_name("find-endpoint")
                    endpoint_artifact = dsl.importer(
                        artifact_uri=endpoint.outputs["uri"],
                        artifact_class=artifact_types.VertexEndpoint,
                        metadata={"resourceName": endpoint.outputs["resource_name"]},
                    ).set_display_name("import-endpoint")
                    ModelDeployOp(
                        model=registered,
                        endpoint=endpoint_artifact.outputs["artifact"],
                        dedicated_resources_machine_type=SERVING_MACHINE,
                        dedicated_resources_min_replica_count=1,
                        dedicated_resources_max_replica_count=1,
                        traffic_split={"0": 100},
                        service_account=cfg.pipeline_service_account,
                    ).set_display_name("deploy-model")

    return inventory_forecast
