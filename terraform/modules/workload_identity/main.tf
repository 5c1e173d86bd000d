# Workload Identity Federation for CI systems outside Google Cloud (GitHub Actions, Jenkins): a pool,
# one OIDC provider per system whose attribute_condition admits only the client's repository (or
# the one Jenkins job), and roles/iam.workloadIdentityUser on chosen service accounts for exactly
# that principal set. No service account keys.

locals {
  # One of the exact subjects (when listed: e.g. pull request workflows and pushes to the
  # environment branches only), the repository, and its numeric id when known.
  github_subject_condition = length(var.github_subjects) == 0 ? "" : "(${join(" || ", formatlist("assertion.sub == '%s'", var.github_subjects))}) && "
  github_id_condition      = var.github_repository_id == null ? "" : " && assertion.repository_id == '${var.github_repository_id}'"
  github_condition         = "${local.github_subject_condition}assertion.repository == '${coalesce(var.github_repository, "-")}'${local.github_id_condition}"

  principal_sets = {
    github  = var.github_repository == null ? null : "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.this.name}/attribute.repository/${var.github_repository}"
    jenkins = var.jenkins == null ? null : "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.this.name}/attribute.jenkins_job/${var.jenkins.subject}"
  }
}

resource "google_iam_workload_identity_pool" "this" {
  project                   = var.project_id
  workload_identity_pool_id = var.pool_id
  display_name              = "CI outside Google Cloud"
  description               = "GitHub Actions / Jenkins of the client repository; no keys"
}

resource "google_iam_workload_identity_pool_provider" "github" {
  #checkov:skip=CKV_GCP_125:The condition always pins assertion.repository (and repository_id, and exact sub claims when given, see local.github_condition); checkov cannot evaluate the join that builds it and sees no literal sub
  count                              = var.github_repository == null ? 0 : 1
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.this.workload_identity_pool_id
  workload_identity_pool_provider_id = "github-actions"
  display_name                       = "GitHub Actions"
  description                        = "GitHub Actions OIDC tokens of ${var.github_repository} only"

  attribute_mapping = {
    "google.subject"       = "assertion.sub"
    "attribute.repository" = "assertion.repository"
    "attribute.ref"        = "assertion.ref"
    "attribute.actor"      = "assertion.actor"
  }
  attribute_condition = local.github_condition

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_iam_workload_identity_pool_provider" "jenkins" {
  count                              = var.jenkins == null ? 0 : 1
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.this.workload_identity_pool_id
  workload_identity_pool_provider_id = "jenkins"
  display_name                       = "Jenkins"
  description                        = "OIDC tokens of one Jenkins job"

  attribute_mapping = {
    "google.subject"        = "assertion.sub"
    "attribute.jenkins_job" = "assertion.sub"
  }
  attribute_condition = "assertion.sub == \"${try(var.jenkins.subject, "")}\""

  oidc {
    issuer_uri        = try(var.jenkins.issuer_uri, "")
    allowed_audiences = [try(var.jenkins.audience, "")]
  }
}

resource "google_service_account_iam_member" "workload_identity_user" {
  for_each           = var.service_account_bindings
  service_account_id = each.value.service_account_id
  role               = "roles/iam.workloadIdentityUser"
  member             = local.principal_sets[each.value.provider]

  lifecycle {
    precondition {
      condition     = local.principal_sets[each.value.provider] != null
      error_message = "Binding ${each.key} uses provider ${each.value.provider}, which is not configured (set github_repository or jenkins)."
    }
  }
}
