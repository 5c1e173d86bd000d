# Log retention for one kind of logs: a dedicated log bucket with its own retention, fed by a
# sink of the same project (or, without sink_name, by sinks elsewhere that write into it).
# Entries also stay in _Default for its (shorter) retention.
resource "google_logging_project_bucket_config" "this" {
  project        = var.project_id
  location       = var.location
  bucket_id      = var.bucket_id
  description    = var.description
  retention_days = var.retention_days
  # A locked bucket cannot be deleted, and its retention can only grow (Cloud Logging).
  locked = var.locked
}

resource "google_logging_project_sink" "this" {
  count       = var.sink_name == null ? 0 : 1
  project     = var.project_id
  name        = var.sink_name
  description = "Routes ${var.bucket_id} entries into their log bucket."
  destination = "logging.googleapis.com/${google_logging_project_bucket_config.this.id}"
  filter      = var.filter
  # A sink into a log bucket of the same project writes with Logging's own identity; no grant needed.
  unique_writer_identity = true

  lifecycle {
    precondition {
      condition     = var.filter != null
      error_message = "filter is required with sink_name (an empty filter would copy every log entry)."
    }
  }
}

# The sink became optional (count): repos applied before keep their sink.
moved {
  from = google_logging_project_sink.this
  to   = google_logging_project_sink.this[0]
}
