variable "project_id" {
  description = "The CI/CD project, which holds the CI service accounts and runs the builds."
  type        = string
}

variable "environments" {
  description = <<-EOT
    Per environment (key = environment name): the ids of its plan (read-only) and apply service
    accounts, its project, and whether CI creates that project (create_project = true: the apply
    account needs projectCreator on the parent and billing.user) or the project exists before CI
    runs (adopted or shared: the apply and plan accounts get the seed roles on it here).
  EOT
  type = map(object({
    plan_account_id  = string
    apply_account_id = string
    project_id       = string
    create_project   = bool
  }))
  nullable = false
  validation {
    condition = alltrue(flatten([for e in values(var.environments) : [
      for id in [e.plan_account_id, e.apply_account_id] : can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", id))
    ]]))
    error_message = "Service account ids must be 6-30 characters: a lowercase letter, then lowercase letters, digits or hyphens."
  }
}

variable "parent" {
  description = "Where CI creates environment projects: organizations/<id> or folders/<id>."
  type        = string
  validation {
    condition     = can(regex("^(organizations|folders)/[0-9]+$", var.parent))
    error_message = "parent must be organizations/<digits> or folders/<digits>."
  }
}

variable "billing_account" {
  description = "Billing account linked to the projects CI creates."
  type        = string
  validation {
    condition     = can(regex("^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", var.billing_account))
    error_message = "billing_account must look like 0A1B2C-3D4E5F-6A7B8C (uppercase hex)."
  }
}

variable "cicd_project_roles" {
  description = "Roles every CI account needs on the CI/CD project itself (builds that run as a user-managed account write their logs there)."
  type        = set(string)
  default     = ["roles/logging.logWriter"]
  nullable    = false
  validation {
    condition     = alltrue([for r in var.cicd_project_roles : !contains(["roles/owner", "roles/editor", "roles/viewer"], r)])
    error_message = "Primitive roles are not allowed."
  }
}

variable "apply_cicd_project_roles" {
  description = "Roles the apply accounts also need on the CI/CD project: their builds start Cloud Build triggers (the apply trigger with the plan the merge build made, the ML pipeline trigger once applied)."
  type        = set(string)
  default     = ["roles/cloudbuild.builds.editor"]
  nullable    = false
  validation {
    condition     = alltrue([for r in var.apply_cicd_project_roles : !contains(["roles/owner", "roles/editor", "roles/viewer"], r)])
    error_message = "Primitive roles are not allowed."
  }
}

variable "commenter_account_id" {
  description = "Account id of the comment builds' account (in project_id): it posts pull request plans with the GitHub token and reads the plans bucket."
  type        = string
  default     = "ci-commenter"
  nullable    = false
  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.commenter_account_id))
    error_message = "commenter_account_id must be 6-30 characters: a lowercase letter, then lowercase letters, digits or hyphens."
  }
}

variable "seed_roles" {
  description = "Roles granted here on environment projects that exist before CI runs, so the first plan and apply can work; the environment root grants the rest. Its mlops_platform call must get the same list as ci_seed_roles, or both roots manage the same grants: in a rendered repo both come from the generator's model (CI_SEED_ROLES)."
  type = object({
    plan  = set(string)
    apply = set(string)
  })
  nullable = false
  validation {
    condition     = length(setintersection(setunion(var.seed_roles.plan, var.seed_roles.apply), ["roles/owner", "roles/editor", "roles/viewer"])) == 0
    error_message = "Primitive roles are not allowed."
  }
}
