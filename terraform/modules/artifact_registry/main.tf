resource "google_artifact_registry_repository" "this" {
  project                = var.project_id
  location               = var.location
  repository_id          = var.repository_id
  format                 = var.format
  description            = var.description
  labels                 = var.labels
  kms_key_name           = var.kms_key_id
  cleanup_policy_dry_run = var.cleanup_dry_run
  deletion_policy        = var.deletion_policy

  dynamic "docker_config" {
    for_each = var.format == "DOCKER" ? [1] : []
    content {
      # Released tags never move: a deployment always gets the image it was tested with.
      immutable_tags = true
    }
  }

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = var.keep_recent_versions
    }
  }

  cleanup_policies {
    id     = "delete-old-untagged"
    action = "DELETE"
    condition {
      tag_state  = "UNTAGGED"
      older_than = "${var.delete_untagged_after_days * 86400}s"
    }
  }
}

resource "google_artifact_registry_repository_iam_member" "this" {
  for_each   = var.iam_members
  project    = var.project_id
  location   = var.location
  repository = google_artifact_registry_repository.this.name
  role       = each.value.role
  member     = each.value.member
}
