# Vertex AI Feature Store (online serving), Bigtable type: features are defined as feature views
# over BigQuery tables by the ML code; this module only provisions the store. Bigtable online
# serving, not Optimized: only Bigtable serving accepts a CMEK, and Google marks Optimized
# online serving deprecated (Vertex AI, "Create an online store instance").
resource "google_vertex_ai_feature_online_store" "this" {
  project         = var.project_id
  region          = var.region
  name            = var.name
  labels          = var.labels
  force_destroy   = var.force_destroy
  deletion_policy = var.deletion_policy

  bigtable {
    auto_scaling {
      min_node_count         = var.autoscaling.min_node_count
      max_node_count         = var.autoscaling.max_node_count
      cpu_utilization_target = var.autoscaling.cpu_utilization_target
    }
  }

  dynamic "encryption_spec" {
    for_each = var.kms_key_id == null ? [] : [var.kms_key_id]
    content {
      kms_key_name = encryption_spec.value
    }
  }
}
