# The Terraform state bucket. It outlives everything else: versioned, never force-destroyed,
# protected from `terraform destroy`, no public access, optionally CMEK.
resource "google_storage_bucket" "this" {
  #checkov:skip=CKV_GCP_62: Object access is audited by Cloud Audit Logs (Data Access logs for all services, turned on by the project module); legacy usage-log buckets would need a second, unaudited bucket.
  project                     = var.project_id
  name                        = var.name
  location                    = var.location
  labels                      = var.labels
  force_destroy               = false
  deletion_policy             = "PREVENT"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  dynamic "encryption" {
    for_each = var.kms_key_id == null ? [] : [var.kms_key_id]
    content {
      default_kms_key_name = encryption.value
    }
  }

  lifecycle_rule {
    action {
      type = "Delete"
    }
    condition {
      num_newer_versions = var.noncurrent_versions_kept
      with_state         = "ARCHIVED"
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}

# Each identity sees only its own state: the condition admits listing the bucket under its
# prefix only (the gcs backend lists `<prefix>/` for workspaces and locks; the
# storage.googleapis.com/objectListPrefix API attribute is the prefix a list request asks for,
# https://cloud.google.com/iam/docs/conditions-attribute-reference#api-attributes) and the
# objects under its prefix; no other environment's state names nor the bucket's other calls.
resource "google_storage_bucket_iam_member" "state" {
  for_each = var.state_access
  bucket   = google_storage_bucket.this.name
  role     = each.value.write ? "roles/storage.objectAdmin" : "roles/storage.objectViewer"
  member   = each.value.member

  condition {
    title       = "state-${replace(each.value.prefix, "/", "-")}"
    description = "Only the Terraform state under ${each.value.prefix}/"
    expression  = "(resource.type == \"storage.googleapis.com/Bucket\" && api.getAttribute(\"storage.googleapis.com/objectListPrefix\", \"\").startsWith(\"${each.value.prefix}/\")) || resource.name.startsWith(\"projects/_/buckets/${var.name}/objects/${each.value.prefix}/\")"
  }
}
