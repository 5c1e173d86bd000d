# Plan-only checks of the composition's intent: least privilege for the CI accounts, nothing
# force-destroyable outside the disposable environment, and validation of the inputs.
variables {
  environment = "prod"
  client_name = "Acme \"Retail\" $${x}"
  region      = "europe-west4"
  project = {
    id              = "acme-prod-1a2b"
    create          = true
    parent          = "folders/123456789012"
    billing_account = "0A1B2C-3D4E5F-6A7B8C"
    deletion_policy = "PREVENT"
  }
  features = {
    workbench        = true
    automl           = true
    model_deployment = true
    model_monitoring = true
    feature_store    = true
    cmek             = true
  }
  names = {
    buckets              = { data = "acme-prod-1a2b-data", pipeline_root = "acme-prod-1a2b-pipeline-root" }
    datasets             = { training = "acme_prod_training", predictions = "acme_prod_predictions", runs = "acme_prod_runs" }
    service_accounts     = { pipeline = "prod-pipeline", notebook = "prod-notebook" }
    artifact_registry    = { docker = "prod-containers", kfp = "prod-pipelines" }
    tensorboard          = "acme-prod"
    pubsub_topic         = "prod-pipeline-events"
    kms_key_ring         = "acme-prod"
    endpoint             = "acme-prod-forecast"
    feature_online_store = "acme_prod_features"
    workbench_instance   = "prod-workbench"
    network              = { name = "prod-mlops", subnet = "prod-mlops-europe-west4", cidr = "10.10.0.0/24" }
    log_bucket           = "prod-pipeline-logs"
  }
  ci_service_accounts = {
    plan  = "prod-ci-plan@acme-cicd-1a2b.iam.gserviceaccount.com"
    apply = "prod-ci-apply@acme-cicd-1a2b.iam.gserviceaccount.com"
  }
  notification_email = "ml-team@example.com"
  ci_seed_roles = {
    plan  = ["roles/browser", "roles/iam.securityReviewer", "roles/serviceusage.serviceUsageViewer"]
    apply = ["roles/resourcemanager.projectIamAdmin", "roles/serviceusage.serviceUsageAdmin"]
  }
  pipeline_root_run_prefixes = ["runs/", "scheduled/"]
}

run "production_defaults" {
  command = plan

  assert {
    condition     = var.force_destroy == false && var.deletion_protection == true
    error_message = "Outside the disposable environment nothing is force-destroyed and deletion protection is on."
  }
  assert {
    condition     = local.deletion_policy == "PREVENT"
    error_message = "Stateful resources refuse terraform destroy outside the disposable environment."
  }
  assert {
    condition     = alltrue([for g in values(local.ci_grants) : !contains(["roles/owner", "roles/editor", "roles/viewer"], g.role)])
    error_message = "No CI grant may be a primitive role."
  }
  assert {
    condition = alltrue([for r in local.ci_plan_roles : (
      endswith(r, "viewer") || endswith(r, "Viewer") || endswith(r, "reader") || endswith(r, "Reviewer") || r == "roles/browser"
      # with cmek: needed to read the BigQuery encryption agent; grants no data access
      || (var.features.cmek && r == "roles/bigquery.jobUser")
    )])
    error_message = "The plan account gets read-only roles only."
  }
  assert {
    condition     = length(local.kms_keys) == 6
    error_message = "With cmek every service (storage, bigquery, aiplatform, artifactregistry, pubsub, compute) gets its own key."
  }
  assert {
    condition     = contains(local.services, "notebooks.googleapis.com") && !contains(local.services, "dataflow.googleapis.com")
    error_message = "Workbench's API is enabled when the feature is on; AutoML forecasting runs no Dataflow, so its API stays off."
  }
}

run "adopted_project_leaves_seed_roles_to_bootstrap" {
  command = plan

  variables {
    project = {
      id     = "acme-prod-1a2b"
      create = false
      shared = true
    }
    features = {}
  }

  assert {
    condition     = !contains([for g in values(local.ci_grants) : g.role], "roles/resourcemanager.projectIamAdmin")
    error_message = "On an adopted project the bootstrap root grants projectIamAdmin; this configuration must not manage it too."
  }
  assert {
    condition     = length(local.kms_keys) == 0
    error_message = "No keys without cmek."
  }
}

run "creating_a_project_needs_parent_and_billing" {
  command = plan

  variables {
    project = {
      id     = "acme-prod-1a2b"
      create = true
    }
  }

  expect_failures = [var.project]
}

run "primitive_ci_roles_are_refused" {
  command = plan

  variables {
    ci_apply_roles = ["roles/editor"]
  }

  expect_failures = [var.ci_apply_roles]
}

run "disposable_environment" {
  command = plan

  variables {
    force_destroy       = true
    deletion_protection = false
  }

  assert {
    condition     = local.deletion_policy == "DELETE"
    error_message = "The disposable environment can be destroyed."
  }
}
