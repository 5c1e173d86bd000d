# Plan-only checks: parent and billing grants only for environments whose project CI creates;
# seed roles only on projects that exist before CI runs.
variables {
  project_id      = "acme-cicd-1a2b"
  parent          = "folders/123456789012"
  billing_account = "0A1B2C-3D4E5F-6A7B8C"
  environments = {
    dev  = { plan_account_id = "dev-ci-plan", apply_account_id = "dev-ci-apply", project_id = "acme-dev-existing", create_project = false }
    prod = { plan_account_id = "prod-ci-plan", apply_account_id = "prod-ci-apply", project_id = "acme-prod-1a2b", create_project = true }
  }
  seed_roles = {
    plan  = ["roles/browser", "roles/iam.securityReviewer"]
    apply = ["roles/resourcemanager.projectIamAdmin"]
  }
}

run "grants_follow_project_ownership" {
  command = plan

  assert {
    condition     = length(google_service_account.this) == 4
    error_message = "One plan and one apply account per environment."
  }
  assert {
    condition     = keys(google_folder_iam_member.project_creator) == ["prod"] && length(google_organization_iam_member.project_creator) == 0
    error_message = "Only the apply account of an environment whose project CI creates may create projects, on the folder parent."
  }
  assert {
    condition     = keys(google_billing_account_iam_member.billing_user) == ["prod"]
    error_message = "Only the apply account of an environment whose project CI creates may use the billing account."
  }
  assert {
    condition     = alltrue([for g in google_project_iam_member.seed : g.project == "acme-dev-existing"])
    error_message = "Seed roles go only to projects that exist before CI runs."
  }
  assert {
    condition     = length(google_project_iam_member.seed) == 3
    error_message = "Each given seed role is granted once, to the plan or the apply account of the existing project."
  }
  assert {
    condition     = alltrue([for g in google_project_iam_member.seed : !contains(["roles/owner", "roles/editor", "roles/viewer"], g.role)])
    error_message = "No primitive roles."
  }
}

run "invalid_account_id_is_refused" {
  command = plan

  variables {
    environments = {
      dev = { plan_account_id = "Dev_Plan", apply_account_id = "dev-ci-apply", project_id = "acme-dev-1a2b", create_project = true }
    }
  }

  expect_failures = [var.environments]
}

run "primitive_seed_roles_are_refused" {
  command = plan

  variables {
    seed_roles = { plan = ["roles/viewer"], apply = [] }
  }

  expect_failures = [var.seed_roles]
}
