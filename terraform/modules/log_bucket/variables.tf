variable "project_id" {
  description = "Project whose logs are routed, and that holds the log bucket."
  type        = string
}

variable "location" {
  description = "Log bucket location (a region, or global)."
  type        = string
}

variable "bucket_id" {
  description = "Log bucket id (letters, digits, '_' and '-', at most 100; not starting with '_')."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9-][A-Za-z0-9_-]{0,99}$", var.bucket_id))
    error_message = "bucket_id must be 1-100 letters, digits, '_' or '-' and must not start with '_'."
  }
}

variable "description" {
  description = "What the bucket keeps."
  type        = string
  default     = null
}

variable "retention_days" {
  description = "How long log entries are kept (1-3650 days)."
  type        = number
  default     = 365
  nullable    = false
  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 3650
    error_message = "retention_days must be between 1 and 3650."
  }
}

variable "locked" {
  description = "Lock the bucket: it can no longer be deleted and its retention can only grow (for audit logs). Irreversible once applied."
  type        = bool
  default     = false
  nullable    = false
}

variable "sink_name" {
  description = "Name of the sink of this project that routes matching entries into the bucket; null for none (sinks elsewhere write into it)."
  type        = string
  default     = null
  validation {
    condition     = var.sink_name == null || can(regex("^[A-Za-z0-9_.-]{1,100}$", var.sink_name))
    error_message = "sink_name must be 1-100 letters, digits, '_', '.' or '-'."
  }
}

variable "filter" {
  description = "Logging query that selects the entries the sink keeps, e.g. resource.type=\"build\" (required with sink_name)."
  type        = string
  default     = null
  validation {
    condition     = var.filter == null || length(trimspace(coalesce(var.filter, " "))) > 0
    error_message = "filter must not be empty (an empty filter would copy every log entry)."
  }
}
