variable "project_id" {
  description = "Project that holds the key ring."
  type        = string
}

variable "location" {
  description = "Key ring location; must match the location of the resources the keys encrypt (a region)."
  type        = string
}

variable "key_ring" {
  description = "Key ring name (1-63 letters, digits, '_' or '-'). Key rings cannot be deleted, so the name must be new for the project and location."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,63}$", var.key_ring))
    error_message = "key_ring must be 1-63 letters, digits, '_' or '-'."
  }
}

variable "keys" {
  description = "Symmetric encryption keys as {name => {encrypters}}: encrypters are IAM members (usually service agents) given roles/cloudkms.cryptoKeyEncrypterDecrypter on that key only."
  type = map(object({
    encrypters = optional(list(string), [])
  }))
  nullable = false
  validation {
    condition     = alltrue([for k in keys(var.keys) : can(regex("^[A-Za-z0-9_-]{1,63}$", k))])
    error_message = "Key names must be 1-63 letters, digits, '_' or '-'."
  }
}

variable "rotation_period" {
  description = "Automatic rotation period of every key, in seconds (e.g. \"7776000s\" = 90 days)."
  type        = string
  default     = "7776000s"
  nullable    = false
  validation {
    condition     = try(endswith(var.rotation_period, "s") && tonumber(trimsuffix(var.rotation_period, "s")) >= 86400 && tonumber(trimsuffix(var.rotation_period, "s")) <= 7776000, false)
    error_message = "rotation_period must be in seconds like \"7776000s\", between 1 day (86400s) and 90 days (7776000s)."
  }
}

variable "labels" {
  description = "Labels set on the keys."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "deletion_policy" {
  description = "What `terraform destroy` (or a replacement) may do to the keys: PREVENT (refuse; the default), DELETE (schedule every key version for destruction, restorable for 30 days; only for a disposable environment), or ABANDON (forget the keys, keep their versions)."
  type        = string
  default     = "PREVENT"
  nullable    = false
  validation {
    condition     = contains(["PREVENT", "DELETE", "ABANDON"], var.deletion_policy)
    error_message = "deletion_policy must be PREVENT, DELETE or ABANDON."
  }
}
