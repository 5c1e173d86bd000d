resource "google_pubsub_topic" "this" {
  project                    = var.project_id
  name                       = var.name
  labels                     = var.labels
  kms_key_name               = var.kms_key_id
  message_retention_duration = var.message_retention_duration

  dynamic "message_storage_policy" {
    for_each = length(var.allowed_persistence_regions) == 0 ? [] : [var.allowed_persistence_regions]
    content {
      allowed_persistence_regions = message_storage_policy.value
    }
  }
}

resource "google_pubsub_topic_iam_member" "this" {
  for_each = var.iam_members
  project  = var.project_id
  topic    = google_pubsub_topic.this.name
  role     = each.value.role
  member   = each.value.member
}
