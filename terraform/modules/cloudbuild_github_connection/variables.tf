variable "project_id" {
  description = "Project that holds the connection (the CI/CD project)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id (6-30 chars, [a-z][-a-z0-9]*[a-z0-9])."
  }
}

variable "project_number" {
  description = "Number of project_id; names the Cloud Build service agent (service-<number>@gcp-sa-cloudbuild.iam.gserviceaccount.com)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{1,20}$", var.project_number))
    error_message = "project_number must be the digits of the project number."
  }
}

variable "region" {
  description = "Region of the connection; the triggers that use it must live in the same region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1."
  }
}

variable "connection_name" {
  description = "Name of the Cloud Build (2nd gen) host connection."
  type        = string
  default     = "github"

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{0,61}[a-z0-9]$", var.connection_name))
    error_message = "connection_name must be lowercase letters, digits and hyphens, at most 63 characters."
  }
}

variable "github_app_installation_id" {
  description = "Installation id of the Google Cloud Build GitHub App on the repository owner (github.com/settings/installations/<id>)."
  type        = number

  validation {
    condition     = var.github_app_installation_id > 0 && floor(var.github_app_installation_id) == var.github_app_installation_id
    error_message = "github_app_installation_id must be a positive integer."
  }
}

variable "oauth_token_secret_id" {
  description = "Secret Manager secret (projects/<p>/secrets/<name>) whose latest version holds the GitHub OAuth token of the account that installed the app."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/secrets/[A-Za-z0-9_-]{1,255}$", var.oauth_token_secret_id))
    error_message = "oauth_token_secret_id must look like projects/<project>/secrets/<name>."
  }
}

variable "github_owner" {
  description = "GitHub organization or user that owns the repository."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}$", var.github_owner))
    error_message = "github_owner must be a GitHub user or organization name."
  }
}

variable "github_repo" {
  description = "Name of the GitHub repository to link."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,100}$", var.github_repo))
    error_message = "github_repo must be a GitHub repository name."
  }
}

variable "repository_name" {
  description = "Name of the linked repository resource in Cloud Build; defaults to github_repo."
  type        = string
  default     = null
}
