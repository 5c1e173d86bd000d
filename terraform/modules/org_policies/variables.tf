variable "project_id" {
  description = "Project the policies apply to (it must exist)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "uniform_bucket_level_access" {
  description = "Enforce uniform bucket-level access on Cloud Storage buckets (constraints/storage.uniformBucketLevelAccess)."
  type        = bool
  default     = true
  nullable    = false
}

variable "public_access_prevention" {
  description = "Enforce public access prevention on Cloud Storage buckets (constraints/storage.publicAccessPrevention)."
  type        = bool
  default     = true
  nullable    = false
}

variable "disable_service_account_key_creation" {
  description = "Refuse service account key creation (constraints/iam.disableServiceAccountKeyCreation)."
  type        = bool
  default     = true
  nullable    = false
}

variable "deny_vm_external_ips" {
  description = "Refuse external IP addresses on VM instances (constraints/compute.vmExternalIpAccess, deny all)."
  type        = bool
  default     = true
  nullable    = false
}

variable "allowed_locations" {
  description = "Where new resources may be created (constraints/gcp.resourceLocations): value groups such as in:europe-west4-locations, or locations; empty leaves the inherited policy."
  type        = list(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for l in var.allowed_locations : can(regex("^(in:[a-z0-9-]+-locations|[a-z]+(-[a-z0-9]+)*)$", l))])
    error_message = "allowed_locations must be value groups (in:<name>-locations) or location names (e.g. europe-west4)."
  }
}

variable "cmek_services" {
  description = "Services that may create resources only with a customer-managed key (constraints/gcp.restrictNonCmekServices, deny list), e.g. storage.googleapis.com; empty for none."
  type        = list(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for s in var.cmek_services : can(regex("^[a-z0-9-]+\\.googleapis\\.com$", s))])
    error_message = "cmek_services must be service names like storage.googleapis.com."
  }
}
