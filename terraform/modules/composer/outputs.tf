output "id" {
  description = "Composer environment id (projects/<project>/locations/<region>/environments/<name>)."
  value       = google_composer_environment.this.id
}

output "name" {
  description = "Composer environment name (for gcloud composer environments ... --location <region>)."
  value       = google_composer_environment.this.name
}

output "airflow_uri" {
  description = "URL of the Airflow web UI (IAM-protected)."
  value       = google_composer_environment.this.config[0].airflow_uri
}

output "dag_gcs_prefix" {
  description = "gs:// prefix the environment loads DAGs from (gcloud composer environments storage dags import writes here)."
  value       = google_composer_environment.this.config[0].dag_gcs_prefix
}

output "service_account_email" {
  description = "Email of the environment's service account."
  value       = google_service_account.composer.email
}

output "service_account_member" {
  description = "IAM member string (serviceAccount:<email>) of the environment's service account."
  value       = google_service_account.composer.member
}
