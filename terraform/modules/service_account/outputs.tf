output "email" {
  description = "Service account email."
  value       = local.email
}

output "member" {
  description = "IAM member string (serviceAccount:<email>)."
  value       = "serviceAccount:${local.email}"
}

output "id" {
  description = "Fully qualified resource name (projects/<project>/serviceAccounts/<email>), as Cloud Build triggers and IAM resources expect it."
  value       = "projects/${google_service_account.this.project}/serviceAccounts/${local.email}"
}

output "project_roles" {
  description = "Roles granted on the project."
  value       = sort(tolist(var.project_roles))
}
