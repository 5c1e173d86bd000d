output "network_id" {
  description = "Network id (projects/<project>/global/networks/<name>)."
  value       = google_compute_network.this.id
}

output "subnet_id" {
  description = "Subnet id (projects/<project>/regions/<region>/subnetworks/<name>)."
  value       = google_compute_subnetwork.this.id
}
