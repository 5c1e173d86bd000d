output "connection_id" {
  description = "Id of the Cloud Build host connection (projects/<p>/locations/<r>/connections/<name>)."
  value       = google_cloudbuildv2_connection.github.id
}

output "repository_id" {
  description = "Id of the linked repository; triggers pass it as repository_event_config.repository."
  value       = google_cloudbuildv2_repository.this.id
}

output "service_agent" {
  description = "IAM member of the Cloud Build service agent that was granted access to the token."
  value       = local.cloudbuild_service_agent
}
