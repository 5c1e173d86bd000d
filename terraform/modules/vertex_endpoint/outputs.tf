output "id" {
  description = "Endpoint resource id (projects/<project>/locations/<region>/endpoints/<name>)."
  value       = google_vertex_ai_endpoint.this.id
}

output "name" {
  description = "Endpoint id."
  value       = google_vertex_ai_endpoint.this.name
}
