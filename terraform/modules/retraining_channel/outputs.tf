output "notification_channel_id" {
  description = "The pubsub notification channel id (projects/<p>/notificationChannels/<id>): add it to the policies and model monitoring jobs whose alerts may start a retraining."
  value       = google_monitoring_notification_channel.pubsub.id
}

output "publisher" {
  description = "The member that publishes the alerts on the topic (this project's Monitoring notification agent)."
  value       = google_pubsub_topic_iam_member.monitoring_publisher.member
}
