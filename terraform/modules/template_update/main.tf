# The scheduled template-update build of one client repo (mlopsgen template-update): a manual
# Cloud Build trigger that Cloud Scheduler runs on a cron schedule. The build runs as its own
# account, which may read the GitHub token (push its branch, open its pull request) and, for a
# private template, the template token, and write its logs: no Terraform state, no plans, no
# apply rights, no other builds. Cloud Scheduler calls triggers:run as a second account that
# may start builds and act as the build account, and nothing else.
# (https://cloud.google.com/build/docs/schedule-builds: scheduled builds are manual triggers
# invoked by Cloud Scheduler.)

locals {
  build_email     = "${google_service_account.build.account_id}@${google_service_account.build.project}.iam.gserviceaccount.com"
  scheduler_email = "${google_service_account.scheduler.account_id}@${google_service_account.scheduler.project}.iam.gserviceaccount.com"
  template_secret = coalesce(var.template_token_secret, var.github_token_secret)
  # the token secrets the build reads: the GitHub token, and the template's when it has its own
  token_secrets = toset(distinct([var.github_token_secret, local.template_secret]))
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = var.account_id
  display_name = "CI template update"
  description  = "Runs the scheduled template-update build: updates a clone to the newest template release and opens its pull request (reads the GitHub token only)."
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = var.scheduler_account_id
  display_name = "CI template update schedule"
  description  = "Cloud Scheduler runs the ${var.trigger_name} trigger as this account."
}

# a build that runs as a user-managed account writes its logs as it
resource "google_project_iam_member" "build_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${local.build_email}"
}

resource "google_secret_manager_secret_iam_member" "build_tokens" {
  for_each  = local.token_secrets
  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${local.build_email}"
}

resource "google_cloudbuild_trigger" "this" {
  project         = var.project_id
  location        = var.region
  name            = var.trigger_name
  description     = "update ${var.base_branch} to the newest template release and open or refresh its pull request (scheduled: ${var.schedule})"
  tags            = ["mlopsgen", "template-update"]
  service_account = "projects/${var.project_id}/serviceAccounts/${local.build_email}"

  # manual: Cloud Scheduler runs it; the config comes from the base branch
  source_to_build {
    repository = var.repository_id
    ref        = "refs/heads/${var.base_branch}"
    repo_type  = "GITHUB"
  }

  git_file_source {
    path       = var.build_config
    repository = var.repository_id
    revision   = "refs/heads/${var.base_branch}"
    repo_type  = "GITHUB"
  }

  substitutions = {
    _GITHUB_REPOSITORY     = var.github_repository
    _GITHUB_TOKEN_SECRET   = var.github_token_secret
    _TEMPLATE_TOKEN_SECRET = local.template_secret
    _BASE_BRANCH           = var.base_branch
  }

  depends_on = [google_secret_manager_secret_iam_member.build_tokens]
}

# triggers:run creates a build (cloudbuild.builds.create; roles/cloudbuild.builds.editor is the
# smallest predefined role with it), and the build runs as the build account, which the caller
# must be able to act as
resource "google_project_iam_member" "scheduler_runs_builds" {
  #checkov:skip=CKV_GCP_49:triggers:run needs cloudbuild.builds.create on the project (Cloud Build has no per-trigger grants); this account may act as the template-update build account only, so a build it starts holds that account's rights (the tokens, its logs)
  project = var.project_id
  role    = "roles/cloudbuild.builds.editor"
  member  = "serviceAccount:${local.scheduler_email}"
}

resource "google_service_account_iam_member" "scheduler_acts_as_build" {
  service_account_id = google_service_account.build.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${local.scheduler_email}"
}

resource "google_cloud_scheduler_job" "this" {
  project          = var.project_id
  region           = var.region
  name             = var.trigger_name
  description      = "runs the ${var.trigger_name} Cloud Build trigger"
  schedule         = var.schedule
  time_zone        = var.time_zone
  attempt_deadline = "60s"

  http_target {
    uri         = "https://cloudbuild.googleapis.com/v1/projects/${var.project_id}/locations/${var.region}/triggers/${google_cloudbuild_trigger.this.trigger_id}:run"
    http_method = "POST"
    body        = base64encode(jsonencode({}))
    headers     = { "Content-Type" = "application/json" }

    oauth_token {
      service_account_email = local.scheduler_email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  retry_config {
    retry_count = 1
  }

  depends_on = [
    google_project_iam_member.scheduler_runs_builds,
    google_service_account_iam_member.scheduler_acts_as_build,
  ]
}
