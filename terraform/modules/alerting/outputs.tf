output "notification_channel_id" {
  description = "Email notification channel id (attach it to more policies)."
  value       = google_monitoring_notification_channel.email.id
}

output "alert_policy_ids" {
  description = "Alert policy ids by key."
  value       = { for k, v in google_monitoring_alert_policy.log : k => v.id }
}
