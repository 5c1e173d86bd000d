output "id" {
  description = "Instance id."
  value       = google_workbench_instance.this.id
}

output "name" {
  description = "Instance name."
  value       = google_workbench_instance.this.name
}

output "proxy_uri" {
  description = "JupyterLab address (through Google's proxy)."
  value       = google_workbench_instance.this.proxy_uri
}
