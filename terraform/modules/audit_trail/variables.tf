variable "project_id" {
  description = "Project that holds the locked audit log bucket (the CI/CD project)."
  type        = string
}

variable "parent" {
  description = "Folder or organization the projects sit under, where the aggregated sink is created: folders/<id> or organizations/<id>."
  type        = string
  validation {
    condition     = can(regex("^(folders|organizations)/[0-9]+$", var.parent))
    error_message = "parent must be folders/<digits> or organizations/<digits>."
  }
}

variable "projects" {
  description = "Projects whose audit logs are kept (ids; each must sit under parent)."
  type        = list(string)
  validation {
    condition     = length(var.projects) > 0 && alltrue([for p in var.projects : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", p))])
    error_message = "projects must list at least one project id (6-30 lowercase letters, digits, hyphens)."
  }
}

variable "log_ids" {
  description = "Audit log ids to keep, e.g. cloudaudit.googleapis.com/activity and cloudaudit.googleapis.com/data_access."
  type        = list(string)
  default     = ["cloudaudit.googleapis.com/activity", "cloudaudit.googleapis.com/data_access", "cloudaudit.googleapis.com/policy"]
  validation {
    condition     = length(var.log_ids) > 0 && alltrue([for id in var.log_ids : startswith(id, "cloudaudit.googleapis.com/")])
    error_message = "log_ids must list at least one Cloud Audit Logs id (cloudaudit.googleapis.com/<log>)."
  }
}

variable "location" {
  description = "Log bucket location (a region, or global)."
  type        = string
}

variable "bucket_id" {
  description = "Log bucket id (letters, digits, '_' and '-', at most 100; not starting with '_')."
  type        = string
  default     = "audit-logs"
}

variable "sink_name" {
  description = "Name of the aggregated sink on the parent."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,100}$", var.sink_name))
    error_message = "sink_name must be 1-100 letters, digits, '_', '.' or '-'."
  }
}

variable "retention_days" {
  description = "How long audit log entries are kept (1-3650 days; on a locked bucket it can only grow)."
  type        = number
  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 3650 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number between 1 and 3650."
  }
}

variable "locked" {
  description = "Lock the bucket (no deletion, retention only grows). Irreversible once applied; false only for disposable tests."
  type        = bool
  default     = true
  nullable    = false
}
