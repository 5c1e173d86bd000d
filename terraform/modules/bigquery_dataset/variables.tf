variable "project_id" {
  description = "Project that holds the dataset."
  type        = string
}

variable "dataset_id" {
  description = "Dataset id: letters, digits and underscores, at most 1024 characters."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_]+$", var.dataset_id)) && length(var.dataset_id) <= 1024
    error_message = "dataset_id may contain only letters, digits and underscores (1-1024 characters)."
  }
}

variable "location" {
  description = "Dataset location (the platform's region, so data stays next to Vertex AI and the CMEK key)."
  type        = string
}

variable "friendly_name" {
  description = "Display name."
  type        = string
  default     = null
}

variable "description" {
  description = "What the dataset holds."
  type        = string
  default     = null
}

variable "labels" {
  description = "Labels set on the dataset."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "kms_key_id" {
  description = "Cloud KMS key id for default table encryption (CMEK); null for Google-managed keys. The BigQuery service agent needs encrypt/decrypt on it first."
  type        = string
  default     = null
}

variable "default_table_expiration_days" {
  description = "Tables expire this many days after creation; null keeps them."
  type        = number
  default     = null
  validation {
    condition     = var.default_table_expiration_days == null || coalesce(var.default_table_expiration_days, 1) >= 1
    error_message = "default_table_expiration_days must be at least 1 (or null)."
  }
}

variable "iam_members" {
  description = "Dataset-level grants as {key => {role, member}} (additive). Keys are arbitrary but must be known at plan time. Public principals and primitive roles are refused."
  type = map(object({
    role   = string
    member = string
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for b in values(var.iam_members) : !contains(["allUsers", "allAuthenticatedUsers"], b.member)])
    error_message = "Datasets are never public: allUsers and allAuthenticatedUsers are refused."
  }
  validation {
    condition     = alltrue([for b in values(var.iam_members) : !contains(["roles/owner", "roles/editor", "roles/viewer"], b.role)])
    error_message = "Primitive roles are not allowed."
  }
}

variable "deletion_policy" {
  description = "What `terraform destroy` (or a replacement) may do to the dataset: PREVENT (refuse; the default), DELETE, or ABANDON (forget it, keep it in Google Cloud)."
  type        = string
  default     = "PREVENT"
  nullable    = false
  validation {
    condition     = contains(["PREVENT", "DELETE", "ABANDON"], var.deletion_policy)
    error_message = "deletion_policy must be PREVENT, DELETE or ABANDON."
  }
}
