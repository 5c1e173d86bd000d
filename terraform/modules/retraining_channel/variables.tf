variable "project_id" {
  description = "Project of the environment (where the alert policies and this channel live)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id (6-30 chars, [a-z][-a-z0-9]*[a-z0-9])."
  }
}

variable "project_number" {
  description = "Number of project_id: its Monitoring notification agent (service-<number>@gcp-sa-monitoring-notification.iam.gserviceaccount.com) publishes the alerts."
  type        = string
  # known after apply when the root creates the project: a format check would also refuse the
  # stand-in provider's value when mlopsgen rehearses an apply offline
  validation {
    condition     = length(var.project_number) > 0
    error_message = "project_number must be the project's number."
  }
}

variable "topic" {
  description = "The environment's retrain topic, projects/<cicd project>/topics/<name> (the bootstrap root creates it with the retraining trigger)."
  type        = string
  validation {
    condition     = can(regex("^projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/topics/[A-Za-z][-A-Za-z0-9_.~+%]{2,254}$", var.topic))
    error_message = "topic must be projects/<project>/topics/<name>."
  }
}

variable "display_name" {
  description = "Display name of the channel (free text, at most 512 characters)."
  type        = string
  validation {
    condition     = length(var.display_name) >= 1 && length(var.display_name) <= 512
    error_message = "display_name must be 1-512 characters."
  }
}

variable "labels" {
  description = "User labels set on the channel."
  type        = map(string)
  default     = {}
  nullable    = false
}
