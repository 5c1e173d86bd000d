locals {
  grants = merge([
    for key, cfg in var.keys : {
      # keyed by position: members are often service agent emails known only after apply
      for i, member in cfg.encrypters : "${key}/${i}" => { key = key, member = member }
    }
  ]...)
}

resource "google_kms_key_ring" "this" {
  project  = var.project_id
  name     = var.key_ring
  location = var.location
}

resource "google_kms_crypto_key" "this" {
  #checkov:skip=CKV_GCP_82: Deletion is refused by deletion_policy PREVENT (the default, enforced by the provider at destroy); only a disposable environment sets DELETE, which schedules key versions for destruction (restorable for 30 days). A lifecycle prevent_destroy cannot follow that per-environment rule.
  for_each        = var.keys
  name            = each.key
  key_ring        = google_kms_key_ring.this.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = var.rotation_period
  labels          = var.labels
  # Destroying a key makes everything it encrypted unreadable: PREVENT (the default) refuses it.
  # With DELETE, `terraform destroy` schedules every key version for destruction (restorable for
  # destroy_scheduled_duration, 30 days by default) and forgets the key; Cloud KMS never deletes
  # the key or the key ring themselves.
  deletion_policy = var.deletion_policy

  version_template {
    algorithm        = "GOOGLE_SYMMETRIC_ENCRYPTION"
    protection_level = "SOFTWARE"
  }
}

resource "google_kms_crypto_key_iam_member" "encrypters" {
  for_each      = local.grants
  crypto_key_id = google_kms_crypto_key.this[each.value.key].id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value.member
}
