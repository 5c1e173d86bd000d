variable "project_id" {
  description = "Project that holds the network."
  type        = string
}

variable "name" {
  description = "VPC network name (1-63 lowercase letters, digits, hyphens; starts with a letter)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", var.name))
    error_message = "name must be 1-63 lowercase letters, digits or hyphens, start with a letter and not end with a hyphen."
  }
}

variable "region" {
  description = "Region of the subnet."
  type        = string
}

variable "subnet_name" {
  description = "Subnet name (same rules as the network name)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", var.subnet_name))
    error_message = "subnet_name must be 1-63 lowercase letters, digits or hyphens, start with a letter and not end with a hyphen."
  }
}

variable "subnet_cidr" {
  description = "Primary IPv4 range of the subnet, e.g. 10.10.0.0/24."
  type        = string
  default     = "10.10.0.0/24"
  nullable    = false
  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0)) && !can(regex(":", var.subnet_cidr))
    error_message = "subnet_cidr must be an IPv4 CIDR range such as 10.10.0.0/24."
  }
}

variable "flow_log_sampling" {
  description = "Fraction of VPC flows logged (0 < x <= 1)."
  type        = number
  default     = 0.5
  nullable    = false
  validation {
    condition     = var.flow_log_sampling > 0 && var.flow_log_sampling <= 1
    error_message = "flow_log_sampling must be greater than 0 and at most 1."
  }
}
