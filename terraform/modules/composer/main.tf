# A Cloud Composer 3 environment that runs the retraining DAGs of one environment project, with
# its own service account: roles/composer.worker to run Airflow, and only what the DAGs do on
# top (create Vertex AI pipeline jobs as the pipeline account, read the KFP templates, watch the
# training dataset and the data-lake bucket). No keys, no basic roles, private IP by default.


data "google_project" "this" {
  project_id = var.project_id
}

resource "google_project_service" "composer" {
  count              = var.enable_api ? 1 : 0
  project            = var.project_id
  service            = "composer.googleapis.com"
  disable_on_destroy = false
}

resource "google_service_account" "composer" {
  project      = var.project_id
  account_id   = var.service_account_id
  display_name = "Airflow (Cloud Composer) ${var.name}"
  description  = "Runs the retraining DAGs of ${var.name}: submits Vertex AI pipeline jobs as the pipeline account."
}

resource "google_project_iam_member" "composer_worker" {
  #checkov:skip=CKV_GCP_49:roles/composer.worker is the role Cloud Composer requires on an environment's own service account; it is granted to that account only, which no one else may impersonate
  project = var.project_id
  role    = "roles/composer.worker"
  member  = google_service_account.composer.member
}

# Create and watch Vertex AI pipeline jobs.
resource "google_project_iam_member" "aiplatform_user" {
  project = var.project_id
  role    = "roles/aiplatform.user"
  member  = google_service_account.composer.member
}

# The Composer service agent manages the environment's workloads as this account.
resource "google_service_account_iam_member" "service_agent" {
  service_account_id = google_service_account.composer.name
  role               = "roles/composer.ServiceAgentV2Ext"
  member             = "serviceAccount:service-${data.google_project.this.number}@cloudcomposer-accounts.iam.gserviceaccount.com"

  depends_on = [google_project_service.composer]
}

# Pipeline jobs run as the pipeline account, never as the Composer account.
resource "google_service_account_iam_member" "run_pipelines_as" {
  service_account_id = var.pipeline_service_account_id
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.composer.member
}

resource "google_artifact_registry_repository_iam_member" "templates" {
  project    = var.project_id
  location   = var.region
  repository = var.kfp_repository
  role       = "roles/artifactregistry.reader"
  member     = google_service_account.composer.member
}

# The partition sensor lists the table's partitions by reading its __PARTITIONS_SUMMARY__
# meta-table (tables.getData), so it needs data read on this one dataset, not metadata only.
resource "google_bigquery_dataset_iam_member" "training_partitions" {
  count      = var.training_dataset == null ? 0 : 1
  project    = var.project_id
  dataset_id = var.training_dataset
  role       = "roles/bigquery.dataViewer"
  member     = google_service_account.composer.member
}

resource "google_storage_bucket_iam_member" "data_lake" {
  count  = var.data_bucket == null ? 0 : 1
  bucket = var.data_bucket
  role   = "roles/storage.objectViewer"
  member = google_service_account.composer.member
}

resource "google_composer_environment" "this" {
  project = var.project_id
  name    = var.name
  region  = var.region
  labels  = var.labels

  config {
    environment_size           = var.environment_size
    enable_private_environment = var.private_environment

    software_config {
      image_version            = var.image_version
      env_variables            = var.env_variables
      airflow_config_overrides = var.airflow_config_overrides
    }

    node_config {
      service_account = google_service_account.composer.email
    }

    dynamic "encryption_config" {
      for_each = var.kms_key_id == null ? [] : [var.kms_key_id]
      content {
        kms_key_name = encryption_config.value
      }
    }
  }

  depends_on = [
    google_project_service.composer,
    google_project_iam_member.composer_worker,
    google_service_account_iam_member.service_agent,
  ]
}
