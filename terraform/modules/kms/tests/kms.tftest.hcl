# Plan-only checks: keys rotate within 90 days and each key is shared only with its members.
variables {
  project_id = "acme-dev-1a2b"
  location   = "europe-west4"
  key_ring   = "acme-dev"
  keys = {
    storage = { encrypters = ["serviceAccount:service-123@gs-project-accounts.iam.gserviceaccount.com"] }
    pubsub  = { encrypters = ["serviceAccount:service-123@gcp-sa-pubsub.iam.gserviceaccount.com"] }
  }
}

run "keys_rotate_and_are_scoped" {
  command = plan

  assert {
    condition     = alltrue([for k in google_kms_crypto_key.this : k.rotation_period == "7776000s" && k.purpose == "ENCRYPT_DECRYPT"])
    error_message = "Keys rotate every 90 days."
  }
  assert {
    condition     = length(google_kms_crypto_key_iam_member.encrypters) == 2 && alltrue([for g in google_kms_crypto_key_iam_member.encrypters : g.role == "roles/cloudkms.cryptoKeyEncrypterDecrypter"])
    error_message = "Each listed member gets encrypt/decrypt on its key only."
  }
}

run "slow_rotation_is_refused" {
  command = plan

  variables {
    rotation_period = "31536000s"
  }

  expect_failures = [var.rotation_period]
}

run "keys_refuse_destroy_unless_told" {
  command = plan

  assert {
    condition     = alltrue([for k in google_kms_crypto_key.this : k.deletion_policy == "PREVENT"])
    error_message = "Keys refuse terraform destroy by default."
  }
}

run "a_disposable_environment_may_destroy_its_keys" {
  command = plan

  variables {
    deletion_policy = "DELETE"
  }

  assert {
    condition     = alltrue([for k in google_kms_crypto_key.this : k.deletion_policy == "DELETE"])
    error_message = "deletion_policy reaches every key."
  }
}

run "an_unknown_deletion_policy_is_refused" {
  command = plan

  variables {
    deletion_policy = "KEEP"
  }

  expect_failures = [var.deletion_policy]
}
