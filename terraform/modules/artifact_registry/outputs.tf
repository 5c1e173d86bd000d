output "id" {
  description = "Repository resource id."
  value       = google_artifact_registry_repository.this.id
}

output "name" {
  description = "Repository id."
  value       = google_artifact_registry_repository.this.repository_id
}

output "url" {
  description = "Address clients push to and pull from: <region>-docker.pkg.dev/<project>/<repo> for Docker, https://<region>-kfp.pkg.dev/<project>/<repo> for KFP."
  value = (
    var.format == "KFP"
    ? "https://${var.location}-kfp.pkg.dev/${var.project_id}/${google_artifact_registry_repository.this.repository_id}"
    : "${var.location}-${lower(var.format)}.pkg.dev/${var.project_id}/${google_artifact_registry_repository.this.repository_id}"
  )
}
