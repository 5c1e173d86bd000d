output "name" {
  description = "State bucket name (backend \"gcs\" bucket)."
  value       = google_storage_bucket.this.name
}

output "url" {
  description = "gs:// URL of the state bucket."
  value       = google_storage_bucket.this.url
}
