resource "google_bigquery_dataset" "this" {
  project                     = var.project_id
  dataset_id                  = var.dataset_id
  location                    = var.location
  friendly_name               = var.friendly_name
  description                 = var.description
  labels                      = var.labels
  default_table_expiration_ms = var.default_table_expiration_days == null ? null : var.default_table_expiration_days * 86400000
  # Destroying the configuration never deletes tables with data in them.
  delete_contents_on_destroy = false
  deletion_policy            = var.deletion_policy

  dynamic "default_encryption_configuration" {
    for_each = var.kms_key_id == null ? [] : [var.kms_key_id]
    content {
      kms_key_name = default_encryption_configuration.value
    }
  }
}

resource "google_bigquery_dataset_iam_member" "this" {
  for_each   = var.iam_members
  project    = var.project_id
  dataset_id = google_bigquery_dataset.this.dataset_id
  role       = each.value.role
  member     = each.value.member
}
