variable "project_id" {
  description = "Project that holds the instance."
  type        = string
}

variable "name" {
  description = "Instance name (lowercase letters, digits, hyphens; starts with a letter; at most 63)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", var.name))
    error_message = "name must be 1-63 lowercase letters, digits or hyphens, start with a letter and not end with a hyphen."
  }
}

variable "zone" {
  description = "Zone of the instance, e.g. europe-west4-b."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+-[a-z]$", var.zone))
    error_message = "zone must be a zone name such as europe-west4-b."
  }
}

variable "machine_type" {
  description = "Compute Engine machine type."
  type        = string
  default     = "e2-standard-4"
  nullable    = false
}

variable "service_account_email" {
  description = "The instance's own service account (never the Compute Engine default account)."
  type        = string
  validation {
    condition     = can(regex("@[a-z0-9-]+\\.iam\\.gserviceaccount\\.com$", var.service_account_email)) && !can(regex("-compute@developer\\.gserviceaccount\\.com$", var.service_account_email))
    error_message = "service_account_email must be a user-managed service account (…@<project>.iam.gserviceaccount.com)."
  }
}

variable "network_id" {
  description = "VPC network id the instance attaches to."
  type        = string
}

variable "subnet_id" {
  description = "Subnet id (with Private Google Access, since the instance has no public IP)."
  type        = string
}

variable "idle_shutdown_minutes" {
  description = "Stop the instance after this many idle minutes (10-1440)."
  type        = number
  default     = 60
  nullable    = false
  validation {
    condition     = var.idle_shutdown_minutes >= 10 && var.idle_shutdown_minutes <= 1440
    error_message = "idle_shutdown_minutes must be between 10 and 1440."
  }
}

variable "boot_disk_size_gb" {
  description = "Boot disk size in GB (150 or more, Workbench's minimum)."
  type        = number
  default     = 150
  nullable    = false
  validation {
    condition     = var.boot_disk_size_gb >= 150
    error_message = "boot_disk_size_gb must be at least 150."
  }
}

variable "data_disk_size_gb" {
  description = "Data disk (/home/jupyter) size in GB."
  type        = number
  default     = 100
  nullable    = false
  validation {
    condition     = var.data_disk_size_gb >= 10
    error_message = "data_disk_size_gb must be at least 10."
  }
}

variable "kms_key_id" {
  description = "Cloud KMS key id for the boot and data disks (CMEK); null for Google-managed keys. The Compute Engine service agent needs encrypt/decrypt on it first."
  type        = string
  default     = null
}

variable "instance_owners" {
  description = "Email of the one user who may open the instance (single-user access); empty leaves access to IAM on the instance's service account."
  type        = list(string)
  default     = []
  nullable    = false
  validation {
    condition     = length(var.instance_owners) <= 1
    error_message = "Workbench accepts at most one instance owner."
  }
}

variable "users" {
  description = "IAM principals (user:<email>, group:<email>) who open and run the instance: each gets roles/notebooks.editor on this instance only (open JupyterLab, start it after idle shutdown, stop it). In service-account access they also need roles/iam.serviceAccountUser on the instance's service account, which its owner grants (Google: \"Manage access to an instance's JupyterLab interface\")."
  type        = list(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for u in var.users : can(regex("^(user|group):[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", u))])
    error_message = "users must be user:<email> or group:<email>."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (and its notebooks on the data disk)."
  type        = bool
  default     = true
  nullable    = false
}

variable "labels" {
  description = "Labels set on the instance."
  type        = map(string)
  default     = {}
  nullable    = false
}
