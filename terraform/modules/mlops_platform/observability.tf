# Serving SLOs and the retraining channel (issue 14): the environment's dashboard with its SLO
# policies (terraform/modules/serving_dashboard), and with model_monitoring the pubsub
# notification channel on the environment's retrain topic in the CI/CD project
# (terraform/modules/retraining_channel; the bootstrap root creates the topic and the trigger).

locals {
  retraining = local.f.model_monitoring && var.retraining_topic != null
}

module "serving_dashboard" {
  source                = "../serving_dashboard"
  project_id            = module.project.project_id
  environment           = var.environment
  display_name          = local.display_name
  endpoint_display_name = local.deploy_endpoint ? var.names.endpoint : null
  predictions_dataset   = module.dataset["predictions"].dataset_id
  slo                   = var.serving_slo
  notification_channels = [module.alerting.notification_channel_id]
  labels                = local.labels
}

module "retraining_channel" {
  source         = "../retraining_channel"
  count          = local.retraining ? 1 : 0
  project_id     = module.project.project_id
  project_number = module.project.number
  topic          = var.retraining_topic
  display_name   = "Retraining: ${local.display_name}"
  labels         = local.labels
}
