output "email" {
  description = "Service account email."
  value       = google_service_account.this.email
}

output "member" {
  description = "IAM member string (serviceAccount:<email>)."
  value       = google_service_account.this.member
}

output "id" {
  description = "Fully qualified resource name (projects/<project>/serviceAccounts/<email>), as Cloud Build triggers and IAM resources expect it."
  value       = google_service_account.this.name
}

output "project_roles" {
  description = "Roles granted on the project."
  value       = sort(tolist(var.project_roles))
}
