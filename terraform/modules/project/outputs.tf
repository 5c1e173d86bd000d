output "project_id" {
  description = "Project id. Depends on the enabled APIs, so resources that use it wait for them."
  value       = local.project_id
  depends_on  = [google_project_service.this]
}

output "number" {
  description = "Project number."
  value       = local.number
}

output "services" {
  description = "APIs enabled by this module."
  value       = sort([for s in google_project_service.this : s.service])
}

output "service_agents" {
  description = "Service agent emails by short name (storage, bigquery, aiplatform, ...), for the agents listed in var.service_agents."
  value       = local.service_agents
  # Agents exist only once their API is on; grants to them must wait.
  depends_on = [google_project_service.this, google_project_service_identity.this]
}
