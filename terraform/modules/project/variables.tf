variable "project_id" {
  description = "Id of the project to create, or of the existing project to adopt."
  type        = string
  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be 6-30 characters: a lowercase letter, then lowercase letters, digits or hyphens, ending with a letter or digit."
  }
}

variable "create" {
  description = "Create the project (true) or adopt an existing one (false: no project resource, the project is read with a data source)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Display name of a created project (4-30 characters). Ignored when adopting."
  type        = string
  default     = null
  validation {
    condition     = var.name == null || can(regex("^[A-Za-z0-9 '\"!-]{4,30}$", coalesce(var.name, "null")))
    error_message = "name must be 4-30 letters, digits, spaces, hyphens, single or double quotes or exclamation marks."
  }
}

variable "parent" {
  description = "Parent of a created project: organizations/<id> or folders/<id>. Ignored when adopting."
  type        = string
  default     = null
  validation {
    condition     = var.parent == null || can(regex("^(organizations|folders)/[0-9]+$", coalesce(var.parent, "null")))
    error_message = "parent must be organizations/<digits> or folders/<digits>."
  }
}

variable "billing_account" {
  description = "Billing account id (XXXXXX-XXXXXX-XXXXXX) linked to a created project. Ignored when adopting."
  type        = string
  default     = null
  validation {
    condition     = var.billing_account == null || can(regex("^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", coalesce(var.billing_account, "null")))
    error_message = "billing_account must look like 0A1B2C-3D4E5F-6A7B8C (uppercase hex)."
  }
}

variable "labels" {
  description = "Labels set on a created project."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "deletion_policy" {
  description = "What `terraform destroy` does to a created project: PREVENT (refuse), DELETE or ABANDON."
  type        = string
  default     = "PREVENT"
  nullable    = false
  validation {
    condition     = contains(["PREVENT", "DELETE", "ABANDON"], var.deletion_policy)
    error_message = "deletion_policy must be PREVENT, DELETE or ABANDON."
  }
}

variable "services" {
  description = "APIs to enable, e.g. [\"aiplatform.googleapis.com\"]. They are never disabled on destroy, so other configurations sharing the project keep working."
  type        = set(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for s in var.services : can(regex("^[a-z][a-z0-9.-]*\\.googleapis\\.com$", s))])
    error_message = "Every service must be an API name ending in .googleapis.com."
  }
}

variable "service_agents" {
  description = "Service agents to make sure exist and to return emails for (for CMEK and IAM grants). Known keys: storage, bigquery, aiplatform, artifactregistry, pubsub, compute."
  type        = set(string)
  default     = []
  nullable    = false
  validation {
    condition = alltrue([for s in var.service_agents : contains(
      ["storage", "bigquery", "aiplatform", "artifactregistry", "pubsub", "compute"], s
    )])
    error_message = "service_agents may contain only: storage, bigquery, aiplatform, artifactregistry, pubsub, compute."
  }
}

variable "audit_all_services" {
  description = "Turn on Admin Read and Data Access audit logs (DATA_READ, DATA_WRITE) for all services, with no exempted members. Set false where another configuration owns the project's audit config (it is authoritative per service)."
  type        = bool
  default     = true
  nullable    = false
}
