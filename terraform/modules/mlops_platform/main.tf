locals {
  f = var.features
  # the private network is for the Workbench VM (AutoML forecasting runs in Vertex AI's own
  # infrastructure: no Dataflow workers, no network of ours)
  needs_network   = local.f.workbench
  deploy_endpoint = local.f.model_deployment || local.f.model_monitoring
  labels          = merge(var.labels, { environment = var.environment })
  # catalog labels of the data stores: who owns the data, how sensitive it is, how long it is
  # kept (a store that expires says its own expiry)
  data_labels = {
    owner               = var.data_governance.owner
    data-classification = var.data_governance.classification
  }
  data_note       = "Owner: ${var.data_governance.owner}; classification: ${var.data_governance.classification}."
  primitive_roles = ["roles/owner", "roles/editor", "roles/viewer"]
  display_name    = "${var.client_name} (${var.environment})"
  # Stateful resources refuse `terraform destroy` outside the disposable environment.
  deletion_policy = var.deletion_protection ? "PREVENT" : "DELETE"

  services = sort(distinct(concat(
    [
      "aiplatform.googleapis.com",
      "artifactregistry.googleapis.com",
      "bigquery.googleapis.com",
      "bigquerystorage.googleapis.com",
      "cloudresourcemanager.googleapis.com",
      # lineage of BigQuery jobs and Vertex AI pipeline runs, recorded once the API is on;
      # Dataplex runs the training data's quality scan (docs/governance.md in a client repo)
      "datalineage.googleapis.com",
      "dataplex.googleapis.com",
      "iam.googleapis.com",
      "logging.googleapis.com",
      "monitoring.googleapis.com",
      "pubsub.googleapis.com",
      "serviceusage.googleapis.com",
      "storage.googleapis.com",
    ],
    local.needs_network ? ["compute.googleapis.com"] : [],
    local.f.workbench ? ["notebooks.googleapis.com"] : [],
    local.f.cmek ? ["cloudkms.googleapis.com"] : [],
  )))

  # CMEK: one key per service, each usable only by that service's agent.
  kms_keys = local.f.cmek ? merge(
    {
      storage          = "storage"
      bigquery         = "bigquery"
      aiplatform       = "aiplatform"
      artifactregistry = "artifactregistry"
      pubsub           = "pubsub"
    },
    local.f.workbench ? { compute = "compute" } : {},
  ) : {}
  # Each store takes its key id from the grant that lets its service agent use the key, so no
  # store is created before its agent may encrypt with it.
  kms_key = merge(
    { for k, g in google_kms_crypto_key_iam_member.service_identity : k => g.crypto_key_id },
    { for g in google_kms_crypto_key_iam_member.storage_agent : "storage" => g.crypto_key_id },
    { for g in google_kms_crypto_key_iam_member.bigquery_agent : "bigquery" => g.crypto_key_id },
    { for g in google_kms_crypto_key_iam_member.compute_agent : "compute" => g.crypto_key_id },
  )

  # CI accounts: everything they need on this project, minus what the bootstrap root already
  # granted on a project that existed before CI ran.
  ci_plan_roles = setunion(
    var.ci_plan_roles,
    # Reading the BigQuery encryption service agent (bigquery.projects.getServiceAccount, at every
    # plan) requires bigquery.jobs.create; jobUser grants no access to data.
    local.f.cmek ? ["roles/cloudkms.viewer", "roles/bigquery.jobUser"] : [],
    local.f.workbench ? ["roles/notebooks.viewer"] : [],
    local.needs_network ? ["roles/compute.networkViewer"] : [],
  )
  ci_apply_roles = setunion(
    var.ci_apply_roles,
    local.f.cmek ? ["roles/cloudkms.admin"] : [],
    local.f.workbench ? ["roles/notebooks.admin"] : [],
    local.needs_network ? ["roles/compute.networkAdmin", "roles/compute.securityAdmin"] : [],
  )
  ci_grants = merge(
    { for r in setsubtract(local.ci_plan_roles, var.project.create ? [] : var.ci_seed_roles.plan) : "plan/${r}" => {
      role = r, member = "serviceAccount:${var.ci_service_accounts.plan}"
    } },
    { for r in setsubtract(local.ci_apply_roles, var.project.create ? [] : var.ci_seed_roles.apply) : "apply/${r}" => {
      role = r, member = "serviceAccount:${var.ci_service_accounts.apply}"
    } },
  )

  # What the pipeline's steps do as this account: pipelines/iam-needs.yaml (AutoML forecasting,
  # AutoMLForecastingTrainingJobRunOp, trains in Vertex AI: no Dataflow).
  pipeline_roles = [
    "roles/aiplatform.user",
    "roles/bigquery.jobUser",
    "roles/bigquery.readSessionUser",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
  ]
  notebook_roles = [
    "roles/aiplatform.user",
    "roles/bigquery.jobUser",
    "roles/bigquery.readSessionUser",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
  ]
  notebook_member = local.f.workbench ? module.notebook_sa[0].member : null

  log_alerts = merge(
    {
      pipeline_failed = {
        display_name  = "Vertex AI pipeline failed: ${local.display_name}"
        filter        = "resource.type=\"aiplatform.googleapis.com/PipelineJob\" AND (jsonPayload.state=\"PIPELINE_STATE_FAILED\" OR severity>=ERROR)"
        severity      = "ERROR"
        documentation = "A Vertex AI pipeline run failed in project ${var.project.id}. Open the run in the Vertex AI console (Pipelines), read the failed step's logs, fix and re-run."
      }
    },
    local.f.model_monitoring ? {
      model_monitoring = {
        display_name  = "Vertex AI model monitoring alert: ${local.display_name}"
        filter        = "resource.type=\"aiplatform.googleapis.com/ModelDeploymentMonitoringJob\" AND severity>=WARNING"
        severity      = "WARNING"
        documentation = "A model monitoring job in project ${var.project.id} reported skew or drift, or failed. Compare the serving data with the training data before promoting or retraining."
      }
    } : {},
  )
}

module "project" {
  source          = "../project"
  project_id      = var.project.id
  create          = var.project.create
  name            = var.project.create ? substr("${var.environment} ${replace(var.project.id, "/[^A-Za-z0-9 -]/", "")}", 0, 30) : null
  parent          = var.project.create ? var.project.parent : null
  billing_account = var.project.create ? var.project.billing_account : null
  labels          = local.labels
  deletion_policy = var.project.deletion_policy
  services        = local.services
  service_agents  = local.f.cmek ? keys(local.kms_keys) : []
  # Admin Read and Data Access audit logs for all services (this is also the bucket access
  # log); a shared project's audit config belongs to the bootstrap root.
  audit_all_services = !var.project.shared
}

resource "google_project_iam_member" "ci" {
  for_each = local.ci_grants
  project  = module.project.project_id
  role     = each.value.role
  member   = each.value.member

  lifecycle {
    precondition {
      condition     = !contains(local.primitive_roles, each.value.role)
      error_message = "Primitive roles are never granted."
    }
  }
}

module "kms" {
  source          = "../kms"
  count           = local.f.cmek ? 1 : 0
  project_id      = module.project.project_id
  location        = var.region
  key_ring        = var.names.kms_key_ring
  deletion_policy = local.deletion_policy
  labels          = local.labels
  rotation_period = var.kms_rotation_period
  keys            = { for k in keys(local.kms_keys) : k => {} }
}

# CMEK: each service agent may use its own service's key and nothing else. One grant per kind of
# agent, each naming the resource the agent comes from (a plan traces every grant to its agent,
# even before the project has a number): the service identities (Vertex AI, Artifact Registry,
# Pub/Sub), the Cloud Storage and BigQuery agents, and the Compute Engine agent of the
# Workbench disks, whose address Google derives from the project number.
resource "google_kms_crypto_key_iam_member" "service_identity" {
  for_each      = module.project.service_identities
  crypto_key_id = module.kms[0].key_ids[each.key]
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value.member
}

resource "google_kms_crypto_key_iam_member" "storage_agent" {
  count         = local.f.cmek ? 1 : 0
  crypto_key_id = module.kms[0].key_ids["storage"]
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = module.project.storage_service_agent
}

resource "google_kms_crypto_key_iam_member" "bigquery_agent" {
  count         = local.f.cmek ? 1 : 0
  crypto_key_id = module.kms[0].key_ids["bigquery"]
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = module.project.bigquery_service_agent
}

resource "google_kms_crypto_key_iam_member" "compute_agent" {
  count         = local.f.cmek && local.f.workbench ? 1 : 0
  crypto_key_id = module.kms[0].key_ids["compute"]
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:service-${module.project.number}@compute-system.iam.gserviceaccount.com"
}

module "pipeline_sa" {
  source        = "../service_account"
  project_id    = module.project.project_id
  account_id    = var.names.service_accounts.pipeline
  display_name  = "Vertex AI pipelines (${var.environment})"
  description   = "Runs Vertex AI pipeline jobs and their steps in ${var.environment}."
  project_roles = local.pipeline_roles
  iam_members = merge(
    # Vertex AI runs pipeline steps as this account; submitters need actAs on it.
    { self = { role = "roles/iam.serviceAccountUser", member = "serviceAccount:${var.names.service_accounts.pipeline}@${var.project.id}.iam.gserviceaccount.com" } },
    { ci_apply = { role = "roles/iam.serviceAccountUser", member = "serviceAccount:${var.ci_service_accounts.apply}" } },
    local.f.workbench ? { notebook = { role = "roles/iam.serviceAccountUser", member = local.notebook_member } } : {},
  )
}

module "notebook_sa" {
  source        = "../service_account"
  count         = local.f.workbench ? 1 : 0
  project_id    = module.project.project_id
  account_id    = var.names.service_accounts.notebook
  display_name  = "Workbench notebooks (${var.environment})"
  description   = "Identity of the ${var.environment} Workbench instance."
  project_roles = local.notebook_roles
  # Service-account access to JupyterLab: whoever opens the instance acts as this account.
  iam_members = { for u in var.workbench_users : "user/${u}" => {
    role = "roles/iam.serviceAccountUser", member = u
  } }
}

module "data_bucket" {
  source          = "../gcs"
  project_id      = module.project.project_id
  deletion_policy = local.deletion_policy
  name            = var.names.buckets.data
  location        = var.region
  labels          = merge(local.labels, local.data_labels, { purpose = "data-lake", retention = var.data_governance.retention })
  force_destroy   = var.force_destroy
  versioning      = true
  kms_key_id      = lookup(local.kms_key, "storage", null)
  lifecycle_rules = {
    noncurrent = {
      action    = { type = "Delete" }
      condition = { days_since_noncurrent_time = var.noncurrent_version_retention_days }
    }
    abort_uploads = {
      action    = { type = "AbortIncompleteMultipartUpload" }
      condition = { age = 7 }
    }
  }
  iam_members = merge(
    { pipeline = { role = "roles/storage.objectUser", member = module.pipeline_sa.member } },
    local.f.workbench ? { notebook = { role = "roles/storage.objectUser", member = local.notebook_member } } : {},
  )
}

module "pipeline_root_bucket" {
  source          = "../gcs"
  project_id      = module.project.project_id
  deletion_policy = local.deletion_policy
  name            = var.names.buckets.pipeline_root
  location        = var.region
  labels          = merge(local.labels, local.data_labels, { purpose = "pipeline-root", retention = "${var.pipeline_root_retention_days}d" })
  force_destroy   = var.force_destroy
  versioning      = true
  kms_key_id      = lookup(local.kms_key, "storage", null)
  lifecycle_rules = {
    old_runs = {
      action = { type = "Delete" }
      condition = {
        age            = var.pipeline_root_retention_days
        matches_prefix = var.pipeline_root_run_prefixes
      }
    }
    noncurrent = {
      action    = { type = "Delete" }
      condition = { days_since_noncurrent_time = 7 }
    }
  }
  iam_members = merge(
    { pipeline = { role = "roles/storage.objectUser", member = module.pipeline_sa.member } },
    { ci_apply = { role = "roles/storage.objectUser", member = "serviceAccount:${var.ci_service_accounts.apply}" } },
    local.f.workbench ? { notebook = { role = "roles/storage.objectUser", member = local.notebook_member } } : {},
  )
}

locals {
  # training data (the pipeline reads it, notebooks write it), predictions (the reverse), and the
  # pipeline's own run tables: per run a snapshot of the training data (kept by its own
  # expiration), the training table and the batch-prediction input (pipelines/sql.py). The
  # pipeline owns that dataset: creating a snapshot that expires takes
  # bigquery.tables.deleteSnapshot, which only bigquery.dataOwner (of the predefined roles that
  # grant table access) has; curated training data stays read-only to the pipeline.
  datasets = {
    training = {
      id              = var.names.datasets.training
      friendly_name   = "Training data (${var.environment})"
      description     = "Training data and features for ${local.display_name}."
      pipeline        = "roles/bigquery.dataViewer"
      notebook        = "roles/bigquery.dataEditor"
      expiration_days = null
    }
    predictions = {
      id              = var.names.datasets.predictions
      friendly_name   = "Predictions (${var.environment})"
      description     = "Batch predictions and forecasts for ${local.display_name}."
      pipeline        = "roles/bigquery.dataEditor"
      notebook        = "roles/bigquery.dataViewer"
      expiration_days = null
    }
    runs = {
      id              = var.names.datasets.runs
      friendly_name   = "Pipeline run tables (${var.environment})"
      description     = "Tables the ${local.display_name} pipeline creates for each run: snapshots of the training data, training tables, batch-prediction inputs. They expire."
      pipeline        = "roles/bigquery.dataOwner"
      notebook        = "roles/bigquery.dataViewer"
      expiration_days = var.run_table_expiration_days
    }
  }
}

module "dataset" {
  source          = "../bigquery_dataset"
  for_each        = local.datasets
  project_id      = module.project.project_id
  deletion_policy = local.deletion_policy
  dataset_id      = each.value.id
  location        = var.region
  friendly_name   = each.value.friendly_name
  description     = "${each.value.description} ${local.data_note}"
  labels = merge(local.labels, local.data_labels, {
    purpose   = each.key
    retention = each.value.expiration_days == null ? var.data_governance.retention : "${each.value.expiration_days}d"
  })
  kms_key_id = lookup(local.kms_key, "bigquery", null)
  # run tables expire (a run's snapshot keeps the longer expiration the pipeline sets on it)
  default_table_expiration_days = each.value.expiration_days
  iam_members = merge(
    { pipeline = { role = each.value.pipeline, member = module.pipeline_sa.member } },
    local.f.workbench ? { notebook = { role = each.value.notebook, member = local.notebook_member } } : {},
  )
}

locals {
  # Docker images of pipeline components, and compiled KFP pipeline templates
  registries = {
    docker = {
      id          = var.names.artifact_registry.docker
      format      = "DOCKER"
      description = "Pipeline component images (${var.environment})."
      notebook    = "roles/artifactregistry.reader"
    }
    kfp = {
      id          = var.names.artifact_registry.kfp
      format      = "KFP"
      description = "Compiled pipeline templates (${var.environment})."
      notebook    = "roles/artifactregistry.writer"
    }
  }
}

module "registry" {
  source          = "../artifact_registry"
  for_each        = local.registries
  project_id      = module.project.project_id
  deletion_policy = local.deletion_policy
  location        = var.region
  repository_id   = each.value.id
  format          = each.value.format
  description     = each.value.description
  labels          = local.labels
  kms_key_id      = lookup(local.kms_key, "artifactregistry", null)
  iam_members = merge(
    { pipeline = { role = "roles/artifactregistry.reader", member = module.pipeline_sa.member } },
    { ci_apply = { role = "roles/artifactregistry.writer", member = "serviceAccount:${var.ci_service_accounts.apply}" } },
    local.f.workbench ? { notebook = { role = each.value.notebook, member = local.notebook_member } } : {},
  )
}

module "tensorboard" {
  source          = "../vertex_tensorboard"
  project_id      = module.project.project_id
  deletion_policy = local.deletion_policy
  region          = var.region
  display_name    = var.names.tensorboard
  description     = "Experiment tracking for ${local.display_name}."
  labels          = local.labels
  kms_key_id      = lookup(local.kms_key, "aiplatform", null)
}

module "pipeline_events" {
  source                      = "../pubsub_topic"
  project_id                  = module.project.project_id
  name                        = var.names.pubsub_topic
  labels                      = local.labels
  kms_key_id                  = lookup(local.kms_key, "pubsub", null)
  allowed_persistence_regions = [var.region]
  iam_members = {
    pipeline = { role = "roles/pubsub.publisher", member = module.pipeline_sa.member }
  }
}

module "alerting" {
  source               = "../alerting"
  project_id           = module.project.project_id
  notification_email   = var.notification_email
  channel_display_name = "ML platform alerts: ${local.display_name}"
  labels               = local.labels
  log_alerts           = local.log_alerts
  # model monitoring alerts also go to the retrain topic (observability.tf)
  log_alert_channels = local.retraining ? { model_monitoring = [module.retraining_channel[0].notification_channel_id] } : {}
}

module "pipeline_logs" {
  source         = "../log_bucket"
  project_id     = module.project.project_id
  location       = var.region
  bucket_id      = var.names.log_bucket
  description    = "Vertex AI pipeline and training job logs (${var.environment})."
  retention_days = var.log_retention_days
  sink_name      = var.names.log_bucket
  filter         = "resource.type=(\"aiplatform.googleapis.com/PipelineJob\" OR \"aiplatform.googleapis.com/CustomJob\" OR \"ml_job\")"
}

module "network" {
  source      = "../network"
  count       = local.needs_network ? 1 : 0
  project_id  = module.project.project_id
  name        = var.names.network.name
  region      = var.region
  subnet_name = var.names.network.subnet
  subnet_cidr = var.names.network.cidr
}

module "workbench" {
  source                = "../workbench"
  count                 = local.f.workbench ? 1 : 0
  project_id            = module.project.project_id
  name                  = var.names.workbench_instance
  zone                  = "${var.region}-${var.workbench.zone_suffix}"
  machine_type          = var.workbench.machine_type
  service_account_email = module.notebook_sa[0].email
  network_id            = module.network[0].network_id
  subnet_id             = module.network[0].subnet_id
  idle_shutdown_minutes = var.workbench.idle_shutdown_minutes
  instance_owners       = var.workbench.instance_owner == null ? [] : [var.workbench.instance_owner]
  users                 = var.workbench_users
  kms_key_id            = lookup(local.kms_key, "compute", null)
  deletion_protection   = var.deletion_protection
  labels                = local.labels
}

module "endpoint" {
  source       = "../vertex_endpoint"
  count        = local.deploy_endpoint ? 1 : 0
  project_id   = module.project.project_id
  region       = var.region
  name         = var.names.endpoint
  display_name = var.names.endpoint
  description  = "Online predictions for ${local.display_name}."
  labels       = local.labels
  kms_key_id   = lookup(local.kms_key, "aiplatform", null)
  # Model monitoring reads logged requests and responses from the predictions dataset.
  request_response_logging = local.f.model_monitoring ? {
    sampling_rate      = 0.1
    bigquery_table_uri = "bq://${module.project.project_id}.${module.dataset["predictions"].dataset_id}.endpoint_request_response"
  } : null
}

module "feature_store" {
  source          = "../vertex_feature_online_store"
  count           = local.f.feature_store ? 1 : 0
  project_id      = module.project.project_id
  deletion_policy = local.deletion_policy
  region          = var.region
  name            = var.names.feature_online_store
  labels          = local.labels
  kms_key_id      = lookup(local.kms_key, "aiplatform", null)
  force_destroy   = var.force_destroy
}
