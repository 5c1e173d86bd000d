output "name" {
  description = "The scan's resource name (projects/<project>/locations/<region>/dataScans/<id>): what dataScans.run is called on."
  value       = google_dataplex_datascan.this.id
}

output "scan_id" {
  description = "The scan id."
  value       = google_dataplex_datascan.this.data_scan_id
}

output "rule_names" {
  description = "Names of the scan's rules, in order (the names pipelines/quality.py gives them)."
  value       = [for r in local.rules : r.name]
}

output "service_agent" {
  description = "The Dataplex service agent (member form) that runs the scan's BigQuery jobs."
  value       = google_project_service_identity.dataplex.member
}
