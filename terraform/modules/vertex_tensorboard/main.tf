# Experiment tracking: Vertex AI Experiments write metrics and time series to this Tensorboard.
resource "google_vertex_ai_tensorboard" "this" {
  project         = var.project_id
  region          = var.region
  display_name    = var.display_name
  description     = var.description
  labels          = var.labels
  deletion_policy = var.deletion_policy

  dynamic "encryption_spec" {
    for_each = var.kms_key_id == null ? [] : [var.kms_key_id]
    content {
      kms_key_name = encryption_spec.value
    }
  }
}
