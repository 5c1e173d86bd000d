# Plan-only checks: the state bucket is versioned, private, never force-destroyed, and each
# identity reaches only its own prefix.
variables {
  project_id = "acme-cicd-1a2b"
  name       = "acme-tfstate-1a2b"
  location   = "europe-west4"
  state_access = {
    "dev/plan"   = { member = "serviceAccount:dev-ci-plan@acme-cicd-1a2b.iam.gserviceaccount.com", prefix = "envs/dev", write = false }
    "prod/apply" = { member = "serviceAccount:prod-ci-apply@acme-cicd-1a2b.iam.gserviceaccount.com", prefix = "envs/prod", write = true }
  }
}

run "state_bucket" {
  command = plan

  assert {
    condition = (
      google_storage_bucket.this.force_destroy == false
      && google_storage_bucket.this.versioning[0].enabled == true
      && google_storage_bucket.this.public_access_prevention == "enforced"
      && google_storage_bucket.this.uniform_bucket_level_access == true
    )
    error_message = "The state bucket must be versioned, private and never force-destroyed."
  }
  assert {
    condition     = google_storage_bucket_iam_member.state["dev/plan"].role == "roles/storage.objectViewer" && google_storage_bucket_iam_member.state["prod/apply"].role == "roles/storage.objectAdmin"
    error_message = "Plan identities read, apply identities write."
  }
  assert {
    condition     = strcontains(google_storage_bucket_iam_member.state["dev/plan"].condition[0].expression, "/objects/envs/dev/")
    error_message = "Access is limited to the identity's own state prefix."
  }
}

run "public_state_is_refused" {
  command = plan

  variables {
    state_access = {
      everyone = { member = "allUsers", prefix = "envs/dev", write = false }
    }
  }

  expect_failures = [var.state_access]
}
