# A user-managed service account with additive grants. No keys are ever created: workloads
# attach the account (Vertex AI, Workbench, Cloud Build) or impersonate it.
resource "google_service_account" "this" {
  project      = var.project_id
  account_id   = var.account_id
  display_name = var.display_name
  description  = var.description
}

locals {
  # The email GCP gives the account (account id and project), known when planning: plans show
  # who every grant is for. Referencing the account keeps the dependency on it.
  email = "${google_service_account.this.account_id}@${google_service_account.this.project}.iam.gserviceaccount.com"
}

resource "google_project_iam_member" "this" {
  for_each = var.project_roles
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${local.email}"
}

resource "google_service_account_iam_member" "this" {
  for_each           = var.iam_members
  service_account_id = google_service_account.this.name
  role               = each.value.role
  member             = each.value.member
}
