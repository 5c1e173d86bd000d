variable "region" {
  description = "Region of the state bucket, the build logs and the CI/CD resources."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a region name such as europe-west4."
  }
}

variable "parent" {
  description = "Where projects are created: organizations/<id> or folders/<id>."
  type        = string
  validation {
    condition     = can(regex("^(organizations|folders)/[0-9]+$", var.parent))
    error_message = "parent must be organizations/<digits> or folders/<digits>."
  }
}

variable "billing_account" {
  description = "Billing account for created projects (XXXXXX-XXXXXX-XXXXXX)."
  type        = string
  validation {
    condition     = can(regex("^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", var.billing_account))
    error_message = "billing_account must look like 0A1B2C-3D4E5F-6A7B8C (uppercase hex)."
  }
}

variable "cicd_project" {
  description = "The CI/CD project (in the single-project layout: the one shared project): id, and whether this root creates it (true) or adopts an existing one (false)."
  type = object({
    id     = string
    create = bool
  })
}

variable "labels" {
  description = "Labels set on the project, the state bucket and the keys."
  type        = map(string)
  default     = {}
}

variable "state_bucket" {
  description = "Name of the Terraform state bucket."
  type        = string
}

variable "cmek" {
  description = "Encrypt the state bucket with a customer-managed key."
  type        = bool
  default     = false
}

variable "state_kms_key_ring" {
  description = "Key ring for the state key (used when cmek)."
  type        = string
}

variable "build_log_bucket" {
  description = "Log bucket that keeps Cloud Build logs."
  type        = string
}

variable "build_log_retention_days" {
  description = "How long Cloud Build logs are kept."
  type        = number
  default     = 365
}

variable "audit_trail" {
  description = "The audit trail: the parent that holds the aggregated sink, the projects whose audit logs (log_ids) it keeps, and the locked log bucket (id, location, retention in days) in the CI/CD project."
  type = object({
    parent         = string
    projects       = list(string)
    log_ids        = list(string)
    location       = string
    bucket_id      = string
    sink_name      = string
    retention_days = number
  })
}

variable "guardrails" {
  description = "Organization policies per environment project (key = project id, value = whether CI creates it), the allowed locations and the services restricted to CMEK."
  type = object({
    enabled           = bool
    projects          = map(bool)
    allowed_locations = list(string)
    cmek_services     = list(string)
  })
  default = { enabled = false, projects = {}, allowed_locations = [], cmek_services = [] }
}

variable "guardrails_created_projects" {
  description = "Set true once CI has applied every environment whose project it creates: the guardrails then cover those projects too (they do not exist before)."
  type        = bool
  default     = false
  nullable    = false
}

variable "environments" {
  description = "Per environment (key = name): its CI plan/apply account ids, its project id, whether CI creates that project, and its state prefix."
  type = map(object({
    plan_account_id  = string
    apply_account_id = string
    project_id       = string
    create_project   = bool
    state_prefix     = string
  }))
  validation {
    condition     = length(var.environments) >= 1
    error_message = "At least one environment is needed."
  }
}
