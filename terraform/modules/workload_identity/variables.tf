variable "project_id" {
  description = "Project that holds the workload identity pool (the CI/CD project)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id (6-30 chars, [a-z][-a-z0-9]*[a-z0-9])."
  }
}

variable "pool_id" {
  description = "Workload identity pool id (4-32 chars; a deleted id stays reserved for 30 days)."
  type        = string
  default     = "cicd-external"

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{2,30}[a-z0-9]$", var.pool_id)) && !startswith(var.pool_id, "gcp-")
    error_message = "pool_id must be 4-32 lowercase letters, digits or hyphens, not starting with gcp-."
  }
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose GitHub Actions workflows may authenticate; null for no GitHub Actions provider."
  type        = string
  default     = null

  validation {
    condition     = var.github_repository == null || can(regex("^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be <owner>/<name>."
  }
}

variable "github_repository_id" {
  description = "Numeric GitHub repository id; when set, the condition pins it too (survives renames, refuses a re-created repository of the same name)."
  type        = string
  default     = null

  validation {
    condition     = var.github_repository_id == null || can(regex("^[0-9]+$", var.github_repository_id))
    error_message = "github_repository_id must be digits."
  }
}

variable "github_subjects" {
  description = "Exact GitHub OIDC subjects (sub claim) admitted, e.g. repo:<owner>/<repo>:pull_request or repo:<owner>/<repo>:ref:refs/heads/<branch>; every one must belong to github_repository."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for s in var.github_subjects :
      var.github_repository != null && startswith(s, "repo:${coalesce(var.github_repository, "-")}:") && !strcontains(s, "*")
    ])
    error_message = "Each github_subjects entry must start with repo:<github_repository>: and contain no wildcard."
  }
}

variable "jenkins" {
  description = "A Jenkins controller (OpenID Connect Provider plugin) that may authenticate: issuer_uri (HTTPS), allowed audience and the exact job subject (sub claim) to accept; null for none."
  type = object({
    issuer_uri = string
    audience   = string
    subject    = string
  })
  default = null

  validation {
    condition     = var.jenkins == null || startswith(try(var.jenkins.issuer_uri, ""), "https://")
    error_message = "jenkins.issuer_uri must be an HTTPS URL."
  }
}

variable "service_account_bindings" {
  description = "Service accounts the external identities may impersonate, keyed by a stable name: service_account_id (projects/<p>/serviceAccounts/<email>) and provider (github or jenkins)."
  type = map(object({
    service_account_id = string
    provider           = string
  }))
  default = {}

  validation {
    condition     = alltrue([for b in var.service_account_bindings : contains(["github", "jenkins"], b.provider)])
    error_message = "provider must be github or jenkins."
  }

  validation {
    condition     = alltrue([for b in var.service_account_bindings : can(regex("^projects/[^/]+/serviceAccounts/[^/]+@[^/]+$", b.service_account_id))])
    error_message = "service_account_id must look like projects/<p>/serviceAccounts/<email>."
  }
}
