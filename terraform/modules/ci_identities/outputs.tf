output "service_accounts" {
  description = "Per environment: plan and apply account emails (plan, apply) and resource names (plan_id, apply_id: projects/<project>/serviceAccounts/<email>, what Cloud Build triggers take)."
  value = {
    for env in keys(var.environments) : env => {
      plan     = local.emails["${env}/plan"]
      apply    = local.emails["${env}/apply"]
      plan_id  = "projects/${var.project_id}/serviceAccounts/${local.emails["${env}/plan"]}"
      apply_id = "projects/${var.project_id}/serviceAccounts/${local.emails["${env}/apply"]}"
    }
  }
}

output "members" {
  description = "Per environment: IAM member strings of the plan and apply accounts."
  value = {
    for env in keys(var.environments) : env => {
      plan  = local.members["${env}/plan"]
      apply = local.members["${env}/apply"]
    }
  }
}

output "commenter" {
  description = "The comment builds' account: email, id (projects/<project>/serviceAccounts/<email>, what Cloud Build triggers take) and member."
  value = {
    email  = local.commenter_email
    id     = "projects/${var.project_id}/serviceAccounts/${local.commenter_email}"
    member = "serviceAccount:${local.commenter_email}"
  }
}
