variable "project_id" {
  description = "Project that holds the notification channel and alert policies (the scoping project of the logs they match)."
  type        = string
}

variable "notification_email" {
  description = "Address that receives alerts."
  type        = string
  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.notification_email))
    error_message = "notification_email must be an email address."
  }
}

variable "channel_display_name" {
  description = "Display name of the email notification channel (free text, at most 512 characters)."
  type        = string
  validation {
    condition     = length(var.channel_display_name) >= 1 && length(var.channel_display_name) <= 512
    error_message = "channel_display_name must be 1-512 characters."
  }
}

variable "log_alerts" {
  description = "Log-match alert policies as {key => {display_name, filter, documentation, severity}}: an incident opens when a log entry matches the filter."
  type = map(object({
    display_name  = string
    filter        = string
    documentation = string
    severity      = optional(string, "ERROR")
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for a in values(var.log_alerts) : contains(["CRITICAL", "ERROR", "WARNING"], a.severity)])
    error_message = "severity must be CRITICAL, ERROR or WARNING."
  }
  validation {
    condition     = alltrue([for a in values(var.log_alerts) : length(a.display_name) <= 512 && length(a.filter) > 0])
    error_message = "Every alert needs a display_name of at most 512 characters and a non-empty filter."
  }
}

variable "notification_rate_limit" {
  description = "At most one notification per alert policy in this period (log-match policies require a limit), e.g. \"300s\"."
  type        = string
  default     = "300s"
  nullable    = false
  validation {
    condition     = can(regex("^[0-9]+s$", var.notification_rate_limit))
    error_message = "notification_rate_limit must be seconds such as \"300s\"."
  }
}

variable "auto_close" {
  description = "Close an incident after this long without new matches, e.g. \"86400s\"."
  type        = string
  default     = "86400s"
  nullable    = false
  validation {
    condition     = can(regex("^[0-9]+s$", var.auto_close))
    error_message = "auto_close must be seconds such as \"86400s\"."
  }
}

variable "labels" {
  description = "User labels set on the channel and the policies."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "log_alert_channels" {
  description = "More notification channel ids (projects/<p>/notificationChannels/<id>) per log alert key, beside the email channel: e.g. a pubsub channel whose topic starts an automation (mlops_platform sends the model monitoring alert to the retraining channel)."
  type        = map(list(string))
  default     = {}
  nullable    = false
  validation {
    condition     = alltrue(flatten([for ids in values(var.log_alert_channels) : [for c in ids : length(c) > 0]]))
    error_message = "log_alert_channels values must be channel ids such as projects/<p>/notificationChannels/<id>."
  }
}
