output "plan_check_names" {
  description = "Per environment, the check name the Cloud Build GitHub App reports for its plan trigger: \"<trigger name> (<project id>)\". Require it in branch protection."
  value       = { for name, t in google_cloudbuild_trigger.plan : name => "${t.name} (${var.project_id})" }
}

output "required_checks_by_branch" {
  description = "Branch => list of check names to require on it (the plan check of the environment that lives on the branch)."
  value       = { for name, env in var.environments : env.branch => ["${google_cloudbuild_trigger.plan[name].name} (${var.project_id})"] }
}

output "trigger_ids" {
  description = "Per environment, the ids of its triggers (plan, plan_comment, plan_for_apply, apply, pipeline, publish, rollback; null where absent)."
  value = {
    for name, env in var.environments : name => {
      plan           = google_cloudbuild_trigger.plan[name].trigger_id
      plan_comment   = google_cloudbuild_trigger.plan_comment[name].trigger_id
      plan_for_apply = google_cloudbuild_trigger.plan_for_apply[name].trigger_id
      apply          = google_cloudbuild_trigger.apply[name].trigger_id
      pipeline       = try(google_cloudbuild_trigger.pipeline[name].trigger_id, null)
      publish        = try(google_cloudbuild_trigger.publish[name].trigger_id, null)
      rollback       = try(google_cloudbuild_trigger.rollback[name].trigger_id, null)
    }
  }
}

output "token_readers" {
  description = "The accounts given secretmanager.secretAccessor on the GitHub token, by role (commenter, <env>/apply): the builds that never run a pull request's code."
  value       = local.token_readers
}

output "rollback_webhook_endpoints" {
  description = "Per environment with a rollback trigger, the webhook endpoint without credentials; append ?key=<API key>&secret=<secret> for GitHub."
  value = {
    for name, t in google_cloudbuild_trigger.rollback :
    name => "https://cloudbuild.googleapis.com/v1/projects/${var.project_id}/locations/${var.region}/triggers/${t.name}:webhook"
  }
}

output "branch_regexes" {
  description = "Per environment, the anchored RE2 branch filter of its triggers (matches exactly its branch)."
  value       = local.branch_regex
}
