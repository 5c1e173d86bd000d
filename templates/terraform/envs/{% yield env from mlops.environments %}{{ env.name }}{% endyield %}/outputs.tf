output "project_id" {
  description = "Project id of the environment."
  value       = module.platform.project_id
}

output "project_number" {
  description = "Project number of the environment."
  value       = module.platform.project_number
}

output "buckets" {
  description = "Bucket names: data and pipeline_root."
  value       = module.platform.buckets
}

output "datasets" {
  description = "BigQuery dataset ids: training and predictions."
  value       = module.platform.datasets
}

output "service_accounts" {
  description = "Runtime service account emails: pipeline and notebook."
  value       = module.platform.service_accounts
}

output "pipeline_service_account_id" {
  description = "Resource name of the pipeline service account."
  value       = module.platform.pipeline_service_account_id
}

output "artifact_registry" {
  description = "Repository addresses: docker and kfp."
  value       = module.platform.artifact_registry
}

output "tensorboard_id" {
  description = "Vertex AI Tensorboard resource name."
  value       = module.platform.tensorboard_id
}

output "pubsub_topic" {
  description = "Pipeline events topic id."
  value       = module.platform.pubsub_topic
}

output "endpoint_id" {
  description = "Vertex AI endpoint id (null when off)."
  value       = module.platform.endpoint_id
}

output "feature_online_store_id" {
  description = "Feature online store id (null when off)."
  value       = module.platform.feature_online_store_id
}

output "workbench_instance" {
  description = "Workbench instance name (null when off)."
  value       = module.platform.workbench_instance
}

output "kms_key_ids" {
  description = "CMEK key ids by service (empty when off)."
  value       = module.platform.kms_key_ids
}

output "notification_channel_id" {
  description = "Email notification channel id."
  value       = module.platform.notification_channel_id
}

output "notification_channels" {
  description = "Notification channel ids of the environment: alerts (email) and retraining (the pubsub channel on the retrain topic; null unless model_monitoring). config/<env>.yaml names them (retraining.notification_channels) for code that looks them up."
  value = {
    alerts     = module.platform.notification_channel_id
    retraining = module.platform.retraining_notification_channel_id
  }
}

output "dashboard_id" {
  description = "The environment's Cloud Monitoring dashboard."
  value       = module.platform.dashboard_id
}
