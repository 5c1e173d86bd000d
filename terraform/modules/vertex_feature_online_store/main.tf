# Vertex AI Feature Store (online serving), Optimized type: features are defined as feature views
# over BigQuery tables by the ML code; this module only provisions the store.
resource "google_vertex_ai_feature_online_store" "this" {
  project         = var.project_id
  region          = var.region
  name            = var.name
  labels          = var.labels
  force_destroy   = var.force_destroy
  deletion_policy = var.deletion_policy

  optimized {}

  dynamic "encryption_spec" {
    for_each = var.kms_key_id == null ? [] : [var.kms_key_id]
    content {
      kms_key_name = encryption_spec.value
    }
  }
}
