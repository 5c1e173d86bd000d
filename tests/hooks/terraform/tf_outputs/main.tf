# A module for pytest-terraform: terraform_data only (built in, no provider download).
resource "terraform_data" "bucket" {
  input = { name = "acme-dev-data", location = "EU", versions = [1, 2] }
}

output "bucket_name" {
  description = "A string output."
  value       = terraform_data.bucket.output.name
}

output "bucket" {
  description = "An object output."
  value       = terraform_data.bucket.output
}

output "token" {
  description = "A sensitive output."
  value       = "t0ken-${terraform_data.bucket.id}"
  sensitive   = true
}
