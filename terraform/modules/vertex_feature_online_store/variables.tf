variable "project_id" {
  description = "Project that holds the store."
  type        = string
}

variable "region" {
  description = "Vertex AI region."
  type        = string
}

variable "name" {
  description = "Store name: a lowercase letter or underscore, then up to 59 lowercase letters, digits or underscores."
  type        = string
  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,59}$", var.name))
    error_message = "name must be a lowercase letter or underscore followed by at most 59 lowercase letters, digits or underscores."
  }
}

variable "labels" {
  description = "Labels set on the store."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "kms_key_id" {
  description = "Cloud KMS key id for CMEK; null for Google-managed keys. The Vertex AI service agent needs encrypt/decrypt on it first."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the store together with its feature views. Only for a disposable environment."
  type        = bool
  default     = false
  nullable    = false
}

variable "deletion_policy" {
  description = "What `terraform destroy` (or a replacement) may do to the store: PREVENT (refuse; the default), DELETE, or ABANDON (forget it, keep it in Google Cloud)."
  type        = string
  default     = "PREVENT"
  nullable    = false
  validation {
    condition     = contains(["PREVENT", "DELETE", "ABANDON"], var.deletion_policy)
    error_message = "deletion_policy must be PREVENT, DELETE or ABANDON."
  }
}

variable "autoscaling" {
  description = "Nodes of the Bigtable instance that serves the store: it scales between min_node_count (at least 1) and max_node_count (at most 10 times the minimum) to keep CPU near cpu_utilization_target percent (10-80). Every node is billed by the hour."
  type = object({
    min_node_count         = optional(number, 1)
    max_node_count         = optional(number, 2)
    cpu_utilization_target = optional(number, 70)
  })
  default  = {}
  nullable = false
  validation {
    condition     = var.autoscaling.min_node_count >= 1 && floor(var.autoscaling.min_node_count) == var.autoscaling.min_node_count
    error_message = "autoscaling.min_node_count must be a whole number of at least 1."
  }
  validation {
    condition     = floor(var.autoscaling.max_node_count) == var.autoscaling.max_node_count && var.autoscaling.max_node_count >= var.autoscaling.min_node_count && var.autoscaling.max_node_count <= 10 * var.autoscaling.min_node_count
    error_message = "autoscaling.max_node_count must be a whole number between min_node_count and 10 times min_node_count."
  }
  validation {
    condition     = var.autoscaling.cpu_utilization_target >= 10 && var.autoscaling.cpu_utilization_target <= 80
    error_message = "autoscaling.cpu_utilization_target must be between 10 and 80 (percent)."
  }
}
