output "id" {
  description = "Feature online store id."
  value       = google_vertex_ai_feature_online_store.this.id
}

output "name" {
  description = "Feature online store name."
  value       = google_vertex_ai_feature_online_store.this.name
}
