variable "project_id" {
  description = "Project that holds the service account."
  type        = string
}

variable "account_id" {
  description = "Service account id (the part before @): 6-30 characters, lowercase letters, digits and hyphens."
  type        = string
  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.account_id))
    error_message = "account_id must be 6-30 characters: a lowercase letter, then lowercase letters, digits or hyphens, ending with a letter or digit."
  }
}

variable "display_name" {
  description = "Human-readable name (at most 100 characters)."
  type        = string
  validation {
    condition     = length(var.display_name) <= 100
    error_message = "display_name must be at most 100 characters."
  }
}

variable "description" {
  description = "What the account is for (at most 256 characters)."
  type        = string
  default     = null
  validation {
    condition     = try(length(var.description) <= 256, true)
    error_message = "description must be at most 256 characters."
  }
}

variable "project_roles" {
  description = "Roles granted to the account on var.project_id (additive). Primitive roles are refused."
  type        = set(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for r in var.project_roles : !contains(["roles/owner", "roles/editor", "roles/viewer"], r)])
    error_message = "Primitive roles (roles/owner, roles/editor, roles/viewer) are not allowed; grant predefined roles."
  }
  validation {
    condition     = alltrue([for r in var.project_roles : can(regex("^(roles|projects/[^/]+/roles|organizations/[0-9]+/roles)/[A-Za-z0-9_.]+$", r))])
    error_message = "Every role must be roles/<name> or a custom role id."
  }
}

variable "iam_members" {
  description = "Who may use the account itself, as {key => {role, member}} (e.g. roles/iam.serviceAccountUser for a principal that runs jobs as it). Keys are arbitrary but must be known at plan time."
  type = map(object({
    role   = string
    member = string
  }))
  default  = {}
  nullable = false
  validation {
    condition     = alltrue([for b in values(var.iam_members) : !contains(["allUsers", "allAuthenticatedUsers"], b.member)])
    error_message = "A service account cannot be opened to allUsers or allAuthenticatedUsers."
  }
}
