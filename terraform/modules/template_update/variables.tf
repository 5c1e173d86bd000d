variable "project_id" {
  description = "The CI/CD project: the trigger, the scheduler job and both accounts live here."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id (6-30 chars, [a-z][-a-z0-9]*[a-z0-9])."
  }
}

variable "region" {
  description = "Region of the trigger (the Cloud Build connection's) and of the scheduler job."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1."
  }
}

variable "repository_id" {
  description = "Id of the Cloud Build (2nd gen) linked repository (output repository_id of cloudbuild_github_connection)."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/connections/[^/]+/repositories/[^/]+$", var.repository_id))
    error_message = "repository_id must look like projects/<p>/locations/<r>/connections/<c>/repositories/<name>."
  }
}

variable "github_repository" {
  description = "owner/name of the client repo on GitHub: the build pushes its branch there and opens the pull request."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be <owner>/<name>."
  }
}

variable "github_token_secret" {
  description = "Short name of the Secret Manager secret (in project_id) with the GitHub token: contents and pull requests read/write on the repo (and workflows, when the repo has .github/workflows)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.github_token_secret))
    error_message = "github_token_secret must be a secret name (letters, digits, '_' and '-')."
  }
}

variable "template_token_secret" {
  description = "Short name of a secret (in project_id) with a read-only token for a private template repo; null: the template is read with the GitHub token (or without one, when public)."
  type        = string
  default     = null

  validation {
    condition     = var.template_token_secret == null || can(regex("^[A-Za-z0-9_-]{1,255}$", var.template_token_secret))
    error_message = "template_token_secret must be null or a secret name (letters, digits, '_' and '-')."
  }
}

variable "base_branch" {
  description = "Branch the build updates and opens its pull request into (the first environment's); its build config comes from there."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$", var.base_branch))
    error_message = "base_branch must be a plain git branch name."
  }
}

variable "schedule" {
  description = "When the build runs: a 5-field cron expression, interpreted in time_zone."
  type        = string
  default     = "0 6 * * 1"

  validation {
    condition     = length(split(" ", trimspace(var.schedule))) == 5
    error_message = "schedule must be a 5-field cron expression, e.g. \"0 6 * * 1\"."
  }
}

variable "time_zone" {
  description = "Time zone of the schedule (tz database name)."
  type        = string
  default     = "Etc/UTC"
}

variable "trigger_name" {
  description = "Name of the trigger and of the scheduler job."
  type        = string
  default     = "template-update"

  validation {
    condition     = can(regex("^[A-Za-z0-9][-A-Za-z0-9]{0,62}[A-Za-z0-9]$", var.trigger_name))
    error_message = "trigger_name must be 2-64 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "build_config" {
  description = "Path of the build config in the repo."
  type        = string
  default     = "cloudbuild/template-update.yaml"
}

variable "account_id" {
  description = "Account id of the build's service account."
  type        = string
  default     = "ci-template-update"

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.account_id))
    error_message = "account_id must be 6-30 characters: a lowercase letter, then lowercase letters, digits or hyphens."
  }
}

variable "scheduler_account_id" {
  description = "Account id of the account Cloud Scheduler runs the trigger as."
  type        = string
  default     = "ci-template-update-cron"

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.scheduler_account_id))
    error_message = "scheduler_account_id must be 6-30 characters: a lowercase letter, then lowercase letters, digits or hyphens."
  }
}
