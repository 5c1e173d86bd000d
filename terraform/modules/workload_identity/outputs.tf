output "pool_name" {
  description = "Full resource name of the pool (projects/<number>/locations/global/workloadIdentityPools/<id>)."
  value       = google_iam_workload_identity_pool.this.name
}

output "github_provider_name" {
  description = "Full resource name of the GitHub Actions provider (the workload_identity_provider input of google-github-actions/auth); null when absent."
  value       = try(google_iam_workload_identity_pool_provider.github[0].name, null)
}

output "jenkins_provider_name" {
  description = "Full resource name of the Jenkins provider; null when absent."
  value       = try(google_iam_workload_identity_pool_provider.jenkins[0].name, null)
}

output "principal_sets" {
  description = "Principal set per configured provider (github, jenkins) that was granted roles/iam.workloadIdentityUser."
  value       = { for k, v in local.principal_sets : k => v if v != null }
}
