variable "project_id" {
  description = "Project that holds the bucket."
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
  description = "Bucket location (a region such as europe-west4, so a regional CMEK key can encrypt it)."
  type        = string
}

variable "labels" {
  description = "Labels set on the bucket."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete a non-empty bucket. Only for a disposable environment."
  type        = bool
  default     = false
  nullable    = false
}

variable "versioning" {
  description = "Keep noncurrent object versions (restores after overwrite or delete)."
  type        = bool
  default     = true
  nullable    = false
}

variable "kms_key_id" {
  description = "Cloud KMS key id (projects/.../cryptoKeys/...) for default CMEK encryption; null for Google-managed keys. The Cloud Storage service agent needs encrypt/decrypt on it first."
  type        = string
  default     = null
}

variable "lifecycle_rules" {
  description = "Lifecycle rules as {key => {action = {type, storage_class}, condition = {...}}}."
  type = map(object({
    action = object({
      type          = string
      storage_class = optional(string)
    })
    condition = object({
      age                        = optional(number)
      days_since_noncurrent_time = optional(number)
      num_newer_versions         = optional(number)
      matches_prefix             = optional(list(string))
      with_state                 = optional(string)
    })
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for r in values(var.lifecycle_rules) : contains(["Delete", "SetStorageClass", "AbortIncompleteMultipartUpload"], r.action.type)])
    error_message = "Lifecycle action type must be Delete, SetStorageClass or AbortIncompleteMultipartUpload."
  }
  validation {
    condition     = alltrue([for r in values(var.lifecycle_rules) : r.action.type != "SetStorageClass" || r.action.storage_class != null])
    error_message = "A SetStorageClass action needs storage_class."
  }
}

variable "soft_delete_retention_seconds" {
  description = "How long deleted objects stay recoverable (0 turns soft delete off; 604800 = 7 days is Google's default)."
  type        = number
  default     = 604800
  nullable    = false
  validation {
    condition     = var.soft_delete_retention_seconds == 0 || (var.soft_delete_retention_seconds >= 604800 && var.soft_delete_retention_seconds <= 7776000)
    error_message = "soft_delete_retention_seconds must be 0 or between 604800 (7 days) and 7776000 (90 days)."
  }
}

variable "iam_members" {
  description = "Bucket-level grants as {key => {role, member, condition}} (additive). Keys are arbitrary but must be known at plan time. Public principals are refused."
  type = map(object({
    role   = string
    member = string
    condition = optional(object({
      title       = string
      expression  = string
      description = optional(string)
    }))
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for b in values(var.iam_members) : !contains(["allUsers", "allAuthenticatedUsers"], b.member)])
    error_message = "Buckets are never public: allUsers and allAuthenticatedUsers are refused."
  }
  validation {
    condition     = alltrue([for b in values(var.iam_members) : !contains(["roles/owner", "roles/editor", "roles/viewer"], b.role)])
    error_message = "Primitive roles are not allowed."
  }
}

variable "deletion_policy" {
  description = "What `terraform destroy` (or a replacement) may do to the bucket: PREVENT (refuse; the default), DELETE, or ABANDON (forget it, keep it in Google Cloud)."
  type        = string
  default     = "PREVENT"
  nullable    = false
  validation {
    condition     = contains(["PREVENT", "DELETE", "ABANDON"], var.deletion_policy)
    error_message = "deletion_policy must be PREVENT, DELETE or ABANDON."
  }
}
