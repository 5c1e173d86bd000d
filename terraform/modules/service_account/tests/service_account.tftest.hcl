# Plan-only checks: additive grants only, and no primitive roles.
variables {
  project_id    = "acme-dev-1a2b"
  account_id    = "dev-pipeline"
  display_name  = "Vertex AI pipelines (dev)"
  project_roles = ["roles/aiplatform.user", "roles/bigquery.jobUser"]
}

run "grants_each_role_additively" {
  command = plan

  assert {
    condition     = toset([for m in google_project_iam_member.this : m.role]) == toset(var.project_roles)
    error_message = "Every requested role, and only those, must be granted."
  }
}

run "owner_is_refused" {
  command = plan

  variables {
    project_roles = ["roles/owner"]
  }

  expect_failures = [var.project_roles]
}

run "editor_is_refused" {
  command = plan

  variables {
    project_roles = ["roles/aiplatform.user", "roles/editor"]
  }

  expect_failures = [var.project_roles]
}
