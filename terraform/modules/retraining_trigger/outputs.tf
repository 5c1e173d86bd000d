output "topics" {
  description = "Retrain topic ids by environment (projects/<project>/topics/<name>): each environment's pubsub notification channel publishes there."
  value       = { for name, t in google_pubsub_topic.retrain : name => t.id }
}

output "trigger_ids" {
  description = "Retrain trigger ids by environment (empty until connected)."
  value       = { for name, t in google_cloudbuild_trigger.retrain : name => t.id }
}
