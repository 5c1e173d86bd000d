locals {
  parent_type = var.parent == null ? null : split("/", var.parent)[0]
  parent_id   = var.parent == null ? null : split("/", var.parent)[1]
  project_id  = var.create ? google_project.this[0].project_id : data.google_project.this[0].project_id
  number      = var.create ? google_project.this[0].number : data.google_project.this[0].number
  # Service agents created through the Service Usage API (google-beta only resource).
  identity_services = {
    aiplatform       = "aiplatform.googleapis.com"
    artifactregistry = "artifactregistry.googleapis.com"
    pubsub           = "pubsub.googleapis.com"
  }
  identities = { for k, v in local.identity_services : k => v if contains(var.service_agents, k) }
  # Agents whose address follows a fixed pattern and that Google creates with the API.
  derived_agents = {
    compute = "service-${local.number}@compute-system.iam.gserviceaccount.com"
  }
  service_agents = merge(
    { for k, v in google_project_service_identity.this : k => v.email },
    contains(var.service_agents, "storage") ? { storage = data.google_storage_project_service_account.this[0].email_address } : {},
    contains(var.service_agents, "bigquery") ? { bigquery = data.google_bigquery_default_service_account.this[0].email } : {},
    { for k, v in local.derived_agents : k => v if contains(var.service_agents, k) },
  )
}

resource "google_project" "this" {
  #checkov:skip=CKV2_GCP_5: google_project_iam_audit_config below turns on audit logs for allServices with no exemptions; it is off only when var.audit_all_services = false, i.e. for an adopted shared project whose audit config the bootstrap root owns (where this check passes).
  count               = var.create ? 1 : 0
  project_id          = var.project_id
  name                = coalesce(var.name, var.project_id)
  org_id              = local.parent_type == "organizations" ? local.parent_id : null
  folder_id           = local.parent_type == "folders" ? local.parent_id : null
  billing_account     = var.billing_account
  labels              = var.labels
  auto_create_network = false
  deletion_policy     = var.deletion_policy

  lifecycle {
    precondition {
      condition     = var.parent != null && var.billing_account != null
      error_message = "Creating a project needs parent and billing_account."
    }
  }
}

data "google_project" "this" {
  count      = var.create ? 0 : 1
  project_id = var.project_id
}

resource "google_project_service" "this" {
  for_each           = var.services
  project            = local.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_project_service_identity" "this" {
  provider   = google-beta
  for_each   = local.identities
  project    = local.project_id
  service    = each.value
  depends_on = [google_project_service.this]
}

# Reading these creates the GCS and BigQuery service agents if they do not exist yet.
data "google_storage_project_service_account" "this" {
  count      = contains(var.service_agents, "storage") ? 1 : 0
  project    = local.project_id
  depends_on = [google_project_service.this]
}

data "google_bigquery_default_service_account" "this" {
  count      = contains(var.service_agents, "bigquery") ? 1 : 0
  project    = local.project_id
  depends_on = [google_project_service.this]
}

resource "google_project_iam_audit_config" "this" {
  count   = var.audit_all_services ? 1 : 0
  project = local.project_id
  service = "allServices"
  audit_log_config {
    log_type = "ADMIN_READ"
  }
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}
