variable "project_id" {
  description = "Project of the environment: the dashboard, the log-based metric and the alert policies live there, and the metrics they read are its own."
  type        = string
  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id (6-30 chars, [a-z][-a-z0-9]*[a-z0-9])."
  }
}

variable "environment" {
  description = "Environment name (promotion stage), e.g. dev: part of the display names and of the log-based metric's name, so environments sharing a project keep theirs apart."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.environment))
    error_message = "environment must be 2-8 lowercase letters or digits, starting with a letter."
  }
}

variable "display_name" {
  description = "What the dashboard and the policies are called after, e.g. \"Acme Retail (dev)\" (free text)."
  type        = string
  validation {
    condition     = length(var.display_name) >= 1 && length(var.display_name) <= 200
    error_message = "display_name must be 1-200 characters."
  }
}

variable "endpoint_display_name" {
  description = "Display name of the environment's Vertex AI endpoint: the online panels and the SLO policies read the endpoint's metrics by it (metric label endpoint_display_name, known when planning, unlike the endpoint's numeric id). null without an endpoint: the dashboard then shows pipeline runs and batch prediction volume only, and no SLO policy exists."
  type        = string
  default     = null
  validation {
    condition     = var.endpoint_display_name == null || can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$", coalesce(var.endpoint_display_name, "x")))
    error_message = "endpoint_display_name must be 1-128 letters, digits, '_' or '-'."
  }
}

variable "predictions_dataset" {
  description = "BigQuery dataset id the batch predictions are written to: the batch-volume panels read its uploaded rows and stored bytes."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_]+$", var.predictions_dataset)) && length(var.predictions_dataset) <= 1024
    error_message = "predictions_dataset must be a BigQuery dataset id (letters, digits, '_')."
  }
}

variable "slo" {
  description = "Serving SLO thresholds of the online endpoint: latency_p99_ms (p99 of the total online prediction latency, milliseconds), error_rate (share of responses with a 5xx code, 0-1), window (how long a breach lasts before the policy fires, seconds such as \"300s\"). In a rendered repo: the answers slo_latency_p99_ms and slo_error_rate_percent."
  type = object({
    latency_p99_ms = number
    error_rate     = number
    window         = optional(string, "300s")
  })
  nullable = false
  validation {
    condition     = var.slo.latency_p99_ms > 0 && var.slo.latency_p99_ms <= 600000
    error_message = "slo.latency_p99_ms must be more than 0 and at most 600000 (10 minutes)."
  }
  validation {
    condition     = var.slo.error_rate > 0 && var.slo.error_rate < 1
    error_message = "slo.error_rate is a share of responses: more than 0 and less than 1 (0.01 = 1 %)."
  }
  validation {
    condition     = can(regex("^[0-9]+s$", var.slo.window)) && try(tonumber(trimsuffix(var.slo.window, "s")) >= 60 && tonumber(trimsuffix(var.slo.window, "s")) <= 86400, false)
    error_message = "slo.window must be seconds such as \"300s\", between 60s and 86400s."
  }
}

variable "notification_channels" {
  description = "Notification channel ids (projects/<p>/notificationChannels/<id>) the SLO policies notify."
  type        = list(string)
  default     = []
  nullable    = false
  # ids come from the channels' resources (known after apply): no format check, which would
  # also refuse the stand-in provider's ids when mlopsgen rehearses an apply offline
  validation {
    condition     = alltrue([for c in var.notification_channels : length(c) > 0])
    error_message = "notification_channels must be channel ids (projects/<p>/notificationChannels/<id>)."
  }
}

variable "auto_close" {
  description = "Close an SLO incident after this long without a breach, e.g. \"86400s\"."
  type        = string
  default     = "86400s"
  nullable    = false
  validation {
    condition     = can(regex("^[0-9]+s$", var.auto_close))
    error_message = "auto_close must be seconds such as \"86400s\"."
  }
}

variable "labels" {
  description = "User labels set on the dashboard and the policies."
  type        = map(string)
  default     = {}
  nullable    = false
}
