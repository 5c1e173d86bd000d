output "cicd_project_id" {
  description = "The CI/CD project (in the single-project layout, the shared platform project)."
  value       = local.cicd_project_id
}

output "state_bucket" {
  description = "Terraform state bucket (backend \"gcs\" of every root)."
  value       = local.state_bucket
}

output "ci_service_accounts" {
  description = "Per environment: plan and apply account emails and resource names (plan_id, apply_id)."
  value       = local.ci_service_accounts
}

output "environment_projects" {
  description = "Project id of each environment."
  value       = { for env, e in var.environments : env => e.project_id }
}

output "build_log_bucket" {
  description = "Log bucket that keeps Cloud Build logs."
  value       = module.build_logs.bucket_id
}

output "environment_states" {
  description = "Per environment, the state object its root uses (created empty by this root, so the read-only CI plan account can plan before the first apply)."
  value       = { for env, state in data.terraform_remote_state.environment : env => "gs://${state.config.bucket}/${state.config.prefix}/default.tfstate" }
}
