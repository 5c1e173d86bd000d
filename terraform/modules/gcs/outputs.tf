output "name" {
  description = "Bucket name."
  value       = google_storage_bucket.this.name
}

output "url" {
  description = "gs:// URL of the bucket."
  value       = google_storage_bucket.this.url
}

output "id" {
  description = "Bucket resource id."
  value       = google_storage_bucket.this.id
}
