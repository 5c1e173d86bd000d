variable "project_id" {
  description = "Project that holds the state bucket (the CI/CD project)."
  type        = string
}

variable "name" {
  description = "Globally unique bucket name (3-63 characters, lowercase letters, digits, hyphens, underscores, dots)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][-a-z0-9_.]{1,61}[a-z0-9]$", var.name)) && !startswith(var.name, "goog")
    error_message = "name must be 3-63 lowercase letters, digits, '-', '_' or '.', start and end with a letter or digit, and not start with 'goog'."
  }
}

variable "location" {
  description = "Bucket location (a region)."
  type        = string
}

variable "labels" {
  description = "Labels set on the bucket."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "kms_key_id" {
  description = "Cloud KMS key id for CMEK; null for Google-managed keys. The Cloud Storage service agent needs encrypt/decrypt on it first."
  type        = string
  default     = null
}

variable "noncurrent_versions_kept" {
  description = "How many old versions of each state file are kept (for recovery) besides the live one."
  type        = number
  default     = 20
  nullable    = false
  validation {
    condition     = var.noncurrent_versions_kept >= 1
    error_message = "noncurrent_versions_kept must be at least 1."
  }
}

variable "state_access" {
  description = "Who reads and writes which state, as {key => {member, prefix, write}}: write = true grants roles/storage.objectAdmin (apply, with locking), false grants roles/storage.objectViewer (plan without a lock). Access is limited by an IAM condition to objects under `prefix/`."
  type = map(object({
    member = string
    prefix = string
    write  = bool
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for a in values(var.state_access) : can(regex("^[A-Za-z0-9_./-]+[A-Za-z0-9_-]$", a.prefix)) && !startswith(a.prefix, "/")])
    error_message = "Every prefix must be a relative object path such as envs/dev (no leading or trailing slash)."
  }
  validation {
    condition     = alltrue([for a in values(var.state_access) : !contains(["allUsers", "allAuthenticatedUsers"], a.member)])
    error_message = "State is never public: allUsers and allAuthenticatedUsers are refused."
  }
}
