output "bucket_id" {
  description = "Audit log bucket resource id (projects/<project>/locations/<location>/buckets/<id>)."
  value       = module.bucket.bucket_id
}

output "sink_writer_identity" {
  description = "Identity the aggregated sink writes with (known after apply)."
  value       = google_project_iam_member.writer.member
}

output "filter" {
  description = "The sink's Logging query: the audit log names of every listed project."
  value       = local.filter
}
