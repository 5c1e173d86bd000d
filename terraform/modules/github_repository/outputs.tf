output "full_name" {
  description = "owner/name of the repository."
  value       = github_repository.this.full_name
}

output "repo_id" {
  description = "Numeric id of the repository (stable across renames; Workload Identity conditions can pin it)."
  value       = github_repository.this.repo_id
}

output "node_id" {
  description = "GraphQL node id of the repository."
  value       = github_repository.this.node_id
}

output "protected_branches" {
  description = "Branch => required status checks, as protected."
  value       = { for b, p in github_branch_protection.environment : b => sort(tolist(p.required_status_checks[0].contexts)) }
}
