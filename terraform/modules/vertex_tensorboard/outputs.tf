output "id" {
  description = "Tensorboard resource name (projects/<number>/locations/<region>/tensorboards/<id>), for aiplatform.init(experiment_tensorboard=...)."
  value       = google_vertex_ai_tensorboard.this.name
}
