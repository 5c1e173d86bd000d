# Plan-only checks of the bucket's security defaults and input validation.
variables {
  project_id = "acme-dev-1a2b"
  name       = "acme-dev-1a2b-data"
  location   = "europe-west4"
}

run "secure_defaults" {
  command = plan

  assert {
    condition     = google_storage_bucket.this.force_destroy == false
    error_message = "Buckets must not be force-destroyed unless asked for."
  }
  assert {
    condition     = google_storage_bucket.this.deletion_policy == "PREVENT"
    error_message = "Buckets refuse terraform destroy unless asked otherwise."
  }
  assert {
    condition     = google_storage_bucket.this.public_access_prevention == "enforced"
    error_message = "Public access prevention must be enforced."
  }
  assert {
    condition     = google_storage_bucket.this.uniform_bucket_level_access == true
    error_message = "Uniform bucket-level access must be on."
  }
  assert {
    condition     = google_storage_bucket.this.versioning[0].enabled == true
    error_message = "Versioning must be on by default."
  }
  assert {
    condition     = length(google_storage_bucket.this.encryption) == 0
    error_message = "No CMEK block without a key."
  }
}

run "cmek_when_key_given" {
  command = plan

  variables {
    kms_key_id = "projects/acme-dev-1a2b/locations/europe-west4/keyRings/acme-dev/cryptoKeys/storage"
  }

  assert {
    condition     = google_storage_bucket.this.encryption[0].default_kms_key_name == var.kms_key_id
    error_message = "The bucket must be encrypted with the given key."
  }
}

run "public_members_are_refused" {
  command = plan

  variables {
    iam_members = {
      everyone = { role = "roles/storage.objectViewer", member = "allUsers" }
    }
  }

  expect_failures = [var.iam_members]
}

run "invalid_name_is_refused" {
  command = plan

  variables {
    name = "Bad_Bucket"
  }

  expect_failures = [var.name]
}
