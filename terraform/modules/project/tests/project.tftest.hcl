# Plan-only checks of a created project and of the input rules.
variables {
  project_id      = "acme-dev-1a2b"
  create          = true
  parent          = "folders/123456789012"
  billing_account = "0A1B2C-3D4E5F-6A7B8C"
  labels          = { client = "acme", environment = "dev" }
  services        = ["aiplatform.googleapis.com", "storage.googleapis.com"]
}

run "created_project" {
  command = plan

  assert {
    condition     = google_project.this[0].auto_create_network == false
    error_message = "Projects are created without the default network."
  }
  assert {
    condition     = google_project.this[0].deletion_policy == "PREVENT" && google_project.this[0].folder_id == "123456789012" && google_project.this[0].org_id == null
    error_message = "A folder parent sets folder_id only; deletion is refused by default."
  }
  assert {
    condition     = alltrue([for s in google_project_service.this : s.disable_on_destroy == false])
    error_message = "APIs are never disabled on destroy."
  }
  assert {
    condition     = google_project_iam_audit_config.this[0].service == "allServices"
    error_message = "Audit logs cover all services."
  }
}

run "adopted_project_has_no_project_resource" {
  command = plan

  variables {
    create             = false
    parent             = null
    billing_account    = null
    audit_all_services = false
  }

  assert {
    condition     = length(google_project.this) == 0 && length(google_project_iam_audit_config.this) == 0
    error_message = "Adopting creates no project and leaves the audit config alone when asked to."
  }
}

run "unknown_deletion_policy_is_refused" {
  command = plan

  variables {
    deletion_policy = "KEEP"
  }

  expect_failures = [var.deletion_policy]
}

run "unknown_service_agent_is_refused" {
  command = plan

  variables {
    service_agents = ["secretmanager"]
  }

  expect_failures = [var.service_agents]
}
