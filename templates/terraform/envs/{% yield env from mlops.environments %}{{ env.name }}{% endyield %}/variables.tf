# The values of this root a client may change: terraform.tfvars holds the generated ones,
# client.auto.tfvars yours (it overrides them). Everything else the platform module gets is
# rendered into main.tf from the answers.

variable "labels" {
  description = "Labels set on every resource that takes labels."
  type        = map(string)
  default     = {}
}

variable "notification_email" {
  description = "Address that receives pipeline and monitoring alerts."
  type        = string
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete non-empty buckets; true only in the disposable first environment."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Protect stateful resources that support it from deletion."
  type        = bool
  default     = true
}
