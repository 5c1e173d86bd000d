# Retraining on model monitoring alerts, the CI/CD half (the environment half is
# terraform/modules/retraining_channel): per environment a retrain topic in the CI/CD project and,
# once the Cloud Build connection exists, a Pub/Sub trigger on it that runs cloudbuild/retrain.yaml
# from the environment's branch as the environment's apply account. The build decides
# (scripts/retrain.py: an open incident, nothing in flight, the cool-down over) and then compiles
# and submits the environment's pipeline.
#
# The topic lives here, beside the trigger (as the cloud-builds topic of the comment triggers
# does), so the trigger exists before the environment is first applied. The environment root
# grants its own Monitoring notification agent the right to publish on it (that agent's address
# holds the environment project's number, which only that root knows): its apply account may
# manage the topic's IAM policy (roles/pubsub.admin on this topic only) and its plan account may
# read it (roles/iam.securityReviewer on this topic only, read-only).

locals {
  sa_prefix = "projects/${var.project_id}/serviceAccounts/"
  topic_access = merge([for name, env in var.environments : {
    "${name}/apply" = { topic = env.topic, role = "roles/pubsub.admin", member = "serviceAccount:${env.apply_service_account}" }
    "${name}/plan"  = { topic = env.topic, role = "roles/iam.securityReviewer", member = "serviceAccount:${env.plan_service_account}" }
  }]...)
}

resource "google_pubsub_topic" "retrain" {
  for_each                   = var.environments
  project                    = var.project_id
  name                       = each.value.topic
  labels                     = merge(var.labels, { environment = each.key, purpose = "retrain" })
  message_retention_duration = "86400s"
  kms_key_name               = var.kms_key_name
}

resource "google_pubsub_topic_iam_member" "environment" {
  for_each = local.topic_access
  project  = var.project_id
  # the topic's id from its name (known when planning, so the IAM proof sees which topic)
  topic  = "projects/${var.project_id}/topics/${each.value.topic}"
  role   = each.value.role
  member = each.value.member

  depends_on = [google_pubsub_topic.retrain]
}

resource "google_cloudbuild_trigger" "retrain" {
  for_each        = var.connected ? var.environments : {}
  project         = var.project_id
  location        = var.region
  name            = each.value.trigger
  description     = "retrain ${each.key} on a model monitoring alert (cool-down and one run in flight: scripts/retrain.py)"
  tags            = ["mlopsgen", "retrain", each.key]
  service_account = "${local.sa_prefix}${each.value.apply_service_account}"

  pubsub_config {
    topic = google_pubsub_topic.retrain[each.key].id
  }

  source_to_build {
    repository = var.repository_id
    ref        = "refs/heads/${each.value.branch}"
    repo_type  = "GITHUB"
  }

  git_file_source {
    path       = "cloudbuild/retrain.yaml"
    repository = var.repository_id
    revision   = "refs/heads/${each.value.branch}"
    repo_type  = "GITHUB"
  }

  # Cloud Monitoring's notification (version 1.2): only an opening incident starts a build
  filter = "_INCIDENT_STATE == \"open\""

  substitutions = {
    _ENV            = each.key
    _BRANCH         = each.value.branch
    _INCIDENT_STATE = "$(body.message.data.incident.state)"
    _POLICY         = "$(body.message.data.incident.policy_name)"
  }

  lifecycle {
    precondition {
      condition     = var.repository_id != null
      error_message = "repository_id is required once connected is true."
    }
  }
}
