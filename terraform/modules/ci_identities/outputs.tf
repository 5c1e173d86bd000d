output "service_accounts" {
  description = "Per environment: plan and apply account emails (plan, apply) and resource names (plan_id, apply_id: projects/<project>/serviceAccounts/<email>, what Cloud Build triggers take)."
  value = {
    for env in keys(var.environments) : env => {
      plan     = google_service_account.this["${env}/plan"].email
      apply    = google_service_account.this["${env}/apply"].email
      plan_id  = google_service_account.this["${env}/plan"].name
      apply_id = google_service_account.this["${env}/apply"].name
    }
  }
}

output "members" {
  description = "Per environment: IAM member strings of the plan and apply accounts."
  value = {
    for env in keys(var.environments) : env => {
      plan  = google_service_account.this["${env}/plan"].member
      apply = google_service_account.this["${env}/apply"].member
    }
  }
}
