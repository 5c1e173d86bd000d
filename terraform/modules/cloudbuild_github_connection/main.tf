# Cloud Build (2nd gen) connection to GitHub through the Google Cloud Build GitHub App, and the
# linked repository the triggers build from. The OAuth token stays in Secret Manager: only the
# secret version's name is in the configuration.

locals {
  cloudbuild_service_agent = "serviceAccount:service-${var.project_number}@gcp-sa-cloudbuild.iam.gserviceaccount.com"
}

# The Cloud Build service agent reads the token when it creates and uses the connection.
resource "google_secret_manager_secret_iam_member" "service_agent_token_access" {
  project   = var.project_id
  secret_id = var.oauth_token_secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.cloudbuild_service_agent
}

resource "google_cloudbuildv2_connection" "github" {
  project  = var.project_id
  location = var.region
  name     = var.connection_name

  github_config {
    app_installation_id = var.github_app_installation_id

    authorizer_credential {
      oauth_token_secret_version = "${var.oauth_token_secret_id}/versions/latest"
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.service_agent_token_access]
}

resource "google_cloudbuildv2_repository" "this" {
  project           = var.project_id
  location          = var.region
  name              = coalesce(var.repository_name, var.github_repo)
  parent_connection = google_cloudbuildv2_connection.github.name
  remote_uri        = "https://github.com/${var.github_owner}/${var.github_repo}.git"
}
