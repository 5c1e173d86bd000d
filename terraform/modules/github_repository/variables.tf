variable "name" {
  description = "Repository name (without owner; the provider's owner is the owner)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,100}$", var.name)) && !endswith(lower(var.name), ".git")
    error_message = "name must be a GitHub repository name: 1-100 letters, digits, '.', '_' or '-', not ending in .git."
  }
}

variable "description" {
  description = "Repository description."
  type        = string
  default     = "MLOps platform: Terraform, Cloud Build pipelines and the ML workload"
}

variable "visibility" {
  description = "private or internal (public is refused: the repo describes a client's infrastructure)."
  type        = string
  default     = "private"

  validation {
    condition     = contains(["private", "internal"], var.visibility)
    error_message = "visibility must be private or internal."
  }
}

variable "initial_branch" {
  description = "Branch that already exists when the repository is managed (the first pushed branch, or the one auto_init creates). Environment branches are created from it."
  type        = string
  default     = "main"
}

variable "environment_branches" {
  description = <<-EOT
    Protected branches in promotion order, keyed by branch name: required_checks (exactly the status
    check names that must pass, e.g. the Cloud Build plan trigger's "<trigger> (<project>)"),
    enforce_admins (administrators are held to the rules too; set for the last environment).
  EOT
  type = map(object({
    required_checks = list(string)
    enforce_admins  = bool
  }))

  validation {
    condition     = length(var.environment_branches) > 0
    error_message = "At least one environment branch is required."
  }

  validation {
    condition     = alltrue([for b, v in var.environment_branches : can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$", b))])
    error_message = "Branch names must be plain git branch names (no wildcards)."
  }

  validation {
    condition     = alltrue([for v in var.environment_branches : length(v.required_checks) > 0])
    error_message = "Every environment branch needs at least one required status check (its plan)."
  }
}

variable "default_branch" {
  description = "Default branch of the repository (where pull requests point by default): the first environment's branch."
  type        = string
}

variable "required_approving_review_count" {
  description = "Approving reviews a pull request into an environment branch needs (at least 1)."
  type        = number
  default     = 1

  validation {
    condition     = var.required_approving_review_count >= 1 && var.required_approving_review_count <= 6
    error_message = "required_approving_review_count must be between 1 and 6."
  }
}

variable "require_up_to_date_branches" {
  description = "Require a pull request's branch to contain the base branch's latest commit before merging (strict status checks). Off by default: each promotion adds a merge commit to the target, so every next promotion pull request would need the target merged back into the source first, and that push re-runs the source environment's apply and ML pipeline."
  type        = bool
  default     = false
}

variable "require_signed_commits" {
  description = "Require verified signatures on every commit of an environment branch. Off by default: the rollback build creates its revert commit through the GitHub API, unsigned; turn on where every contributor and bot signs."
  type        = bool
  default     = false
}

variable "protect_branches" {
  description = "Create the branch protection rules. Turn on once the status checks exist (the Cloud Build triggers), or pull requests cannot merge."
  type        = bool
  default     = true
}

variable "webhooks" {
  description = "Repository webhooks keyed by a stable name: url (HTTPS, may carry credentials: sensitive) and events."
  type = map(object({
    url    = string
    events = list(string)
  }))
  default   = {}
  sensitive = true

  validation {
    condition     = alltrue([for w in var.webhooks : startswith(w.url, "https://")])
    error_message = "Webhook URLs must use HTTPS."
  }
}
