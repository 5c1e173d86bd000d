output "dashboard_id" {
  description = "Id of the environment's dashboard (projects/<number>/dashboards/<id>)."
  value       = google_monitoring_dashboard.this.id
}

output "dashboard_json" {
  description = "The dashboard as the Monitoring API's v1 Dashboard resource (JSON), as planned; mlopsgen checks it against the API's discovery document."
  value       = google_monitoring_dashboard.this.dashboard_json
}

output "slo_policy_ids" {
  description = "SLO alert policy ids by key (latency_p99, error_rate); empty without an endpoint."
  value       = { for k, p in google_monitoring_alert_policy.slo : k => p.id }
}

output "pipeline_failures_metric" {
  description = "Metric type of the log-based count of failed pipeline runs (logging.googleapis.com/user/<name>)."
  value       = "logging.googleapis.com/user/${google_logging_metric.pipeline_failures.name}"
}
