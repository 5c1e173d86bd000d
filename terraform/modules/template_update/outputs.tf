output "trigger_id" {
  description = "Id of the manual template-update trigger (Cloud Scheduler runs it)."
  value       = google_cloudbuild_trigger.this.trigger_id
}

output "service_account" {
  description = "Email of the account the template-update build runs as."
  value       = local.build_email
}

output "scheduler_service_account" {
  description = "Email of the account Cloud Scheduler runs the trigger as."
  value       = local.scheduler_email
}

output "schedule" {
  description = "When the build runs: the cron expression and its time zone."
  value       = { cron = google_cloud_scheduler_job.this.schedule, time_zone = google_cloud_scheduler_job.this.time_zone }
}
