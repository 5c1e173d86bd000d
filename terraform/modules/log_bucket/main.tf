# Log retention for one kind of logs: a dedicated log bucket with its own retention, fed by a
# sink. Entries also stay in _Default for its (shorter) retention.
resource "google_logging_project_bucket_config" "this" {
  project        = var.project_id
  location       = var.location
  bucket_id      = var.bucket_id
  description    = var.description
  retention_days = var.retention_days
}

resource "google_logging_project_sink" "this" {
  project     = var.project_id
  name        = var.sink_name
  description = "Routes ${var.bucket_id} entries into their log bucket."
  destination = "logging.googleapis.com/${google_logging_project_bucket_config.this.id}"
  filter      = var.filter
  # A sink into a log bucket of the same project writes with Logging's own identity; no grant needed.
  unique_writer_identity = true
}
