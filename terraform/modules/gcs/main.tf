# One bucket: uniform bucket-level access, public access prevention enforced, optional CMEK.
# Access is recorded by Cloud Audit Logs (Data Access logs, turned on by the project module),
# not by legacy usage-log buckets.
resource "google_storage_bucket" "this" {
  #checkov:skip=CKV_GCP_62: Object access is audited by Cloud Audit Logs (Data Access logs for all services, turned on by the project module); legacy usage-log buckets would need a second, unaudited bucket.
  project                     = var.project_id
  name                        = var.name
  location                    = var.location
  labels                      = var.labels
  force_destroy               = var.force_destroy
  deletion_policy             = var.deletion_policy
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = var.versioning
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_retention_seconds
  }

  dynamic "encryption" {
    for_each = var.kms_key_id == null ? [] : [var.kms_key_id]
    content {
      default_kms_key_name = encryption.value
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.lifecycle_rules
    content {
      action {
        type          = lifecycle_rule.value.action.type
        storage_class = lifecycle_rule.value.action.storage_class
      }
      condition {
        age                        = lifecycle_rule.value.condition.age
        days_since_noncurrent_time = lifecycle_rule.value.condition.days_since_noncurrent_time
        num_newer_versions         = lifecycle_rule.value.condition.num_newer_versions
        matches_prefix             = lifecycle_rule.value.condition.matches_prefix
        with_state                 = lifecycle_rule.value.condition.with_state
      }
    }
  }
}

resource "google_storage_bucket_iam_member" "this" {
  for_each = var.iam_members
  bucket   = google_storage_bucket.this.name
  role     = each.value.role
  member   = each.value.member

  dynamic "condition" {
    for_each = each.value.condition == null ? [] : [each.value.condition]
    content {
      title       = condition.value.title
      expression  = condition.value.expression
      description = condition.value.description
    }
  }
}
