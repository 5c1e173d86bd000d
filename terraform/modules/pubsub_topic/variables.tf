variable "project_id" {
  description = "Project that holds the topic."
  type        = string
}

variable "name" {
  description = "Topic name (3-255 characters, starting with a letter; not starting with 'goog')."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z][-A-Za-z0-9_.~+%]{2,254}$", var.name)) && !startswith(var.name, "goog")
    error_message = "name must be 3-255 characters, start with a letter and contain only letters, digits and - _ . ~ + %."
  }
}

variable "labels" {
  description = "Labels set on the topic."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "kms_key_id" {
  description = "Cloud KMS key id for CMEK; null for Google-managed keys. The Pub/Sub service agent needs encrypt/decrypt on it first."
  type        = string
  default     = null
}

variable "message_retention_duration" {
  description = "How long the topic keeps published messages for replay (seconds, e.g. \"604800s\"; 10 minutes to 31 days)."
  type        = string
  default     = "604800s"
  nullable    = false
  validation {
    condition     = try(endswith(var.message_retention_duration, "s") && tonumber(trimsuffix(var.message_retention_duration, "s")) >= 600 && tonumber(trimsuffix(var.message_retention_duration, "s")) <= 2678400, false)
    error_message = "message_retention_duration must be seconds like \"604800s\", between 600s and 2678400s."
  }
}

variable "allowed_persistence_regions" {
  description = "Regions where messages may be stored (data residency). Empty allows any."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "iam_members" {
  description = "Topic-level grants as {key => {role, member}} (additive), e.g. roles/pubsub.publisher for the pipeline runner. Keys must be known at plan time."
  type = map(object({
    role   = string
    member = string
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for b in values(var.iam_members) : !contains(["allUsers", "allAuthenticatedUsers"], b.member)])
    error_message = "Topics are never public: allUsers and allAuthenticatedUsers are refused."
  }
  validation {
    condition     = alltrue([for b in values(var.iam_members) : !contains(["roles/owner", "roles/editor", "roles/viewer"], b.role)])
    error_message = "Primitive roles are not allowed."
  }
}
