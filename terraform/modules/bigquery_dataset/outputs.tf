output "dataset_id" {
  description = "Dataset id."
  value       = google_bigquery_dataset.this.dataset_id
}

output "id" {
  description = "Dataset resource id (projects/<project>/datasets/<dataset>)."
  value       = google_bigquery_dataset.this.id
}
