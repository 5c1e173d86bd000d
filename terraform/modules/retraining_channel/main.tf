# The environment's half of "model monitoring alerts retrain": a Cloud Monitoring notification
# channel of type pubsub on the environment's retrain topic, and the right of this project's
# Monitoring notification service agent to publish there
# (https://cloud.google.com/monitoring/support/notification-options#pubsub). The topic lives in
# the CI/CD project (the bootstrap root creates it, with the Cloud Build trigger that listens on
# it and runs cloudbuild/retrain.yaml), so the trigger exists before any environment is applied.
#
# Monitoring creates its notification agent with the project's first pubsub channel: the grant
# waits for the channel.

resource "google_monitoring_notification_channel" "pubsub" {
  project      = var.project_id
  display_name = var.display_name
  type         = "pubsub"
  user_labels  = var.labels
  labels = {
    topic = var.topic
  }
}

resource "google_pubsub_topic_iam_member" "monitoring_publisher" {
  project = split("/", var.topic)[1]
  topic   = var.topic
  role    = "roles/pubsub.publisher"
  # inline, not a local: mlopsgen's IAM proof traces the member to the agent through the plan
  member = "serviceAccount:service-${var.project_number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"

  depends_on = [google_monitoring_notification_channel.pubsub]
}
