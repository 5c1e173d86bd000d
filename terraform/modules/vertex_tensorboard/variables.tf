variable "project_id" {
  description = "Project that holds the Tensorboard."
  type        = string
}

variable "region" {
  description = "Vertex AI region."
  type        = string
}

variable "display_name" {
  description = "Tensorboard display name (at most 128 characters)."
  type        = string
  validation {
    condition     = length(var.display_name) >= 1 && length(var.display_name) <= 128
    error_message = "display_name must be 1-128 characters."
  }
}

variable "description" {
  description = "What the Tensorboard tracks."
  type        = string
  default     = null
}

variable "labels" {
  description = "Labels set on the Tensorboard."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "kms_key_id" {
  description = "Cloud KMS key id for CMEK; null for Google-managed keys. The Vertex AI service agent needs encrypt/decrypt on it first."
  type        = string
  default     = null
}

variable "deletion_policy" {
  description = "What `terraform destroy` (or a replacement) may do to the Tensorboard (and its experiment data): PREVENT (refuse; the default), DELETE, or ABANDON (forget it, keep it in Google Cloud)."
  type        = string
  default     = "PREVENT"
  nullable    = false
  validation {
    condition     = contains(["PREVENT", "DELETE", "ABANDON"], var.deletion_policy)
    error_message = "deletion_policy must be PREVENT, DELETE or ABANDON."
  }
}
