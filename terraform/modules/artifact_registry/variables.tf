variable "project_id" {
  description = "Project that holds the repository."
  type        = string
}

variable "location" {
  description = "Repository region."
  type        = string
}

variable "repository_id" {
  description = "Repository id: a lowercase letter, then lowercase letters, digits or hyphens (at most 63)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.repository_id))
    error_message = "repository_id must start with a lowercase letter and contain only lowercase letters, digits and hyphens (at most 63)."
  }
}

variable "format" {
  description = "Repository format: DOCKER (component images) or KFP (pipeline templates)."
  type        = string
  validation {
    condition     = contains(["DOCKER", "KFP", "PYTHON"], var.format)
    error_message = "format must be DOCKER, KFP or PYTHON."
  }
}

variable "description" {
  description = "What the repository holds."
  type        = string
  default     = null
}

variable "labels" {
  description = "Labels set on the repository."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "kms_key_id" {
  description = "Cloud KMS key id for CMEK; null for Google-managed keys. The Artifact Registry service agent needs encrypt/decrypt on it first."
  type        = string
  default     = null
}

variable "keep_recent_versions" {
  description = "Cleanup keeps at least this many most recent versions of each package."
  type        = number
  default     = 10
  nullable    = false
  validation {
    condition     = var.keep_recent_versions >= 1
    error_message = "keep_recent_versions must be at least 1."
  }
}

variable "delete_untagged_after_days" {
  description = "Cleanup deletes untagged versions older than this many days (those kept by keep_recent_versions survive)."
  type        = number
  default     = 30
  nullable    = false
  validation {
    condition     = var.delete_untagged_after_days >= 1
    error_message = "delete_untagged_after_days must be at least 1."
  }
}

variable "cleanup_dry_run" {
  description = "Only report what the cleanup policies would delete."
  type        = bool
  default     = false
  nullable    = false
}

variable "iam_members" {
  description = "Repository-level grants as {key => {role, member}} (additive), e.g. roles/artifactregistry.reader for a runtime service account. Keys must be known at plan time."
  type = map(object({
    role   = string
    member = string
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for b in values(var.iam_members) : !contains(["allUsers", "allAuthenticatedUsers"], b.member)])
    error_message = "Repositories are never public: allUsers and allAuthenticatedUsers are refused."
  }
  validation {
    condition     = alltrue([for b in values(var.iam_members) : !contains(["roles/owner", "roles/editor", "roles/viewer"], b.role)])
    error_message = "Primitive roles are not allowed."
  }
}

variable "deletion_policy" {
  description = "What `terraform destroy` (or a replacement) may do to the repository: PREVENT (refuse; the default), DELETE, or ABANDON (forget it, keep it in Google Cloud)."
  type        = string
  default     = "PREVENT"
  nullable    = false
  validation {
    condition     = contains(["PREVENT", "DELETE", "ABANDON"], var.deletion_policy)
    error_message = "deletion_policy must be PREVENT, DELETE or ABANDON."
  }
}
