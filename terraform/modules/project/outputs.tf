output "project_id" {
  description = "Project id. Depends on the enabled APIs, so resources that use it wait for them."
  value       = local.project_id
  depends_on  = [google_project_service.this]
}

output "number" {
  description = "Project number."
  # the resource the number comes from, not a local: a plan shows which project it is
  value = var.create ? google_project.this[0].number : data.google_project.this[0].number
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

output "service_identities" {
  description = "The google_project_service_identity resources by short name (aiplatform, artifactregistry, pubsub) for the agents listed in var.service_agents: grant to `member` with for_each over this map, so a plan traces each grant to its agent."
  value       = google_project_service_identity.this
}

output "storage_service_agent" {
  description = "IAM member string of the Cloud Storage service agent (null unless storage is in var.service_agents)."
  value       = length(data.google_storage_project_service_account.this) > 0 ? data.google_storage_project_service_account.this[0].member : null
}

output "bigquery_service_agent" {
  description = "IAM member string of the BigQuery encryption service agent (null unless bigquery is in var.service_agents)."
  value       = length(data.google_bigquery_default_service_account.this) > 0 ? data.google_bigquery_default_service_account.this[0].member : null
}
