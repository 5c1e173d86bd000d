output "bucket_id" {
  description = "Log bucket resource id (projects/<project>/locations/<location>/buckets/<id>)."
  value       = google_logging_project_bucket_config.this.id
}

output "sink_writer_identity" {
  description = "Identity the sink writes with (null without a sink)."
  value       = one(google_logging_project_sink.this[*].writer_identity)
}
