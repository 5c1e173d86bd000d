output "project_id" {
  description = "Project id of the environment."
  value       = module.project.project_id
}

output "project_number" {
  description = "Project number of the environment."
  value       = module.project.number
}

output "buckets" {
  description = "Bucket names: data (data lake) and pipeline_root (Vertex AI pipeline root and run artifacts)."
  value = {
    data          = module.data_bucket.name
    pipeline_root = module.pipeline_root_bucket.name
  }
}

output "datasets" {
  description = "BigQuery dataset ids: training, predictions and runs (the pipeline's run tables)."
  value = {
    training    = module.dataset["training"].dataset_id
    predictions = module.dataset["predictions"].dataset_id
    runs        = module.dataset["runs"].dataset_id
  }
}

output "service_accounts" {
  description = "Runtime service account emails: pipeline (Vertex AI pipelines) and notebook (Workbench, null when off)."
  value = {
    pipeline = module.pipeline_sa.email
    notebook = local.f.workbench ? module.notebook_sa[0].email : null
  }
}

output "pipeline_service_account_id" {
  description = "Resource name of the pipeline service account (projects/<project>/serviceAccounts/<email>)."
  value       = module.pipeline_sa.id
}

output "artifact_registry" {
  description = "Repository addresses: docker (component images) and kfp (pipeline templates)."
  value = {
    docker = module.registry["docker"].url
    kfp    = module.registry["kfp"].url
  }
}

output "tensorboard_id" {
  description = "Vertex AI Tensorboard resource name for experiment tracking."
  value       = module.tensorboard.id
}

output "pubsub_topic" {
  description = "Pipeline events topic id."
  value       = module.pipeline_events.id
}

output "notification_channel_id" {
  description = "Email notification channel id."
  value       = module.alerting.notification_channel_id
}

output "endpoint_id" {
  description = "Vertex AI endpoint id (null unless model_deployment or model_monitoring)."
  value       = local.deploy_endpoint ? module.endpoint[0].id : null
}

output "feature_online_store_id" {
  description = "Feature online store id (null unless feature_store)."
  value       = local.f.feature_store ? module.feature_store[0].id : null
}

output "workbench_instance" {
  description = "Workbench instance name (null unless workbench)."
  value       = local.f.workbench ? module.workbench[0].name : null
}

output "kms_key_ids" {
  description = "CMEK key ids by service (empty unless cmek)."
  value       = local.kms_key
}

output "log_bucket_id" {
  description = "Log bucket that keeps pipeline and job logs."
  value       = module.pipeline_logs.bucket_id
}

output "ci_project_roles" {
  description = "Roles this configuration grants the CI accounts on the project, by account (plan, apply)."
  value = {
    plan  = sort([for k, g in local.ci_grants : g.role if startswith(k, "plan/")])
    apply = sort([for k, g in local.ci_grants : g.role if startswith(k, "apply/")])
  }
}

output "dashboard_id" {
  description = "The environment's Cloud Monitoring dashboard (serving SLOs with an endpoint; pipeline runs and batch prediction volume)."
  value       = module.serving_dashboard.dashboard_id
}

output "retraining_notification_channel_id" {
  description = "The pubsub notification channel on the retrain topic (null unless model_monitoring): model monitoring alerts sent to it may start a retraining."
  value       = local.retraining ? module.retraining_channel[0].notification_channel_id : null
}
