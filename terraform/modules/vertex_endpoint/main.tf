# An online prediction endpoint. Models are deployed to it by the release pipeline, not by
# Terraform, so traffic_split is left to Vertex AI.
resource "google_vertex_ai_endpoint" "this" {
  #checkov:skip=CKV2_GCP_33: Every prediction call is authenticated and authorized by IAM (aiplatform.endpoints.predict); there is no anonymous access. A VPC-peered endpoint would be unreachable from the Cloud Build default pool that runs the release pipeline.
  project      = var.project_id
  location     = var.region
  region       = var.region
  name         = var.name
  display_name = var.display_name
  description  = var.description
  labels       = var.labels

  dynamic "encryption_spec" {
    for_each = var.kms_key_id == null ? [] : [var.kms_key_id]
    content {
      kms_key_name = encryption_spec.value
    }
  }

  dynamic "predict_request_response_logging_config" {
    for_each = var.request_response_logging == null ? [] : [var.request_response_logging]
    content {
      enabled       = true
      sampling_rate = predict_request_response_logging_config.value.sampling_rate
      bigquery_destination {
        output_uri = predict_request_response_logging_config.value.bigquery_table_uri
      }
    }
  }

  lifecycle {
    # The release pipeline moves traffic between deployed models.
    ignore_changes = [traffic_split]
  }
}
