variable "environment" {
  description = "Environment name (promotion stage)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.environment))
    error_message = "environment must be 2-8 lowercase letters or digits, starting with a letter."
  }
}

variable "client_name" {
  description = "Client's name as people write it (display names and descriptions only)."
  type        = string
}

variable "region" {
  description = "Region of every regional resource."
  type        = string
}

variable "project" {
  description = "The environment's project: id, create (true) or adopt (false), shared (single-project layout), parent, billing_account, deletion_policy."
  type = object({
    id              = string
    create          = bool
    shared          = optional(bool, false)
    parent          = optional(string)
    billing_account = optional(string)
    deletion_policy = optional(string, "PREVENT")
  })
}

variable "features" {
  description = "Optional capabilities switched on for this platform."
  type = object({
    workbench        = optional(bool, false)
    automl           = optional(bool, false)
    model_deployment = optional(bool, false)
    model_monitoring = optional(bool, false)
    feature_store    = optional(bool, false)
    cmek             = optional(bool, false)
  })
  default = {}
}

variable "names" {
  description = "Every resource name of the environment, computed by the generator (see terraform.tfvars)."
  type = object({
    buckets = object({
      data          = string
      pipeline_root = string
    })
    datasets = object({
      training    = string
      predictions = string
    })
    service_accounts = object({
      pipeline = string
      notebook = optional(string)
    })
    artifact_registry = object({
      docker = string
      kfp    = string
    })
    tensorboard          = string
    pubsub_topic         = string
    kms_key_ring         = string
    endpoint             = string
    feature_online_store = string
    workbench_instance   = string
    network = object({
      name   = string
      subnet = string
      cidr   = string
    })
    log_bucket = string
  })
}

variable "labels" {
  description = "Labels set on every resource that takes labels."
  type        = map(string)
  default     = {}
}

variable "ci_service_accounts" {
  description = "Emails of the environment's CI accounts (from the bootstrap root): plan (read-only) and apply."
  type = object({
    plan  = string
    apply = string
  })
}

variable "notification_email" {
  description = "Address that receives pipeline and monitoring alerts."
  type        = string
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete non-empty buckets; true only in the disposable first environment."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Protect stateful resources that support it from deletion."
  type        = bool
  default     = true
}
