variable "project_id" {
  description = "The CI/CD project: the retrain topics and triggers live there, and the builds run there."
  type        = string
  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id (6-30 chars, [a-z][-a-z0-9]*[a-z0-9])."
  }
}

variable "region" {
  description = "Region of the triggers; must be the region of the Cloud Build connection."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1."
  }
}

variable "connected" {
  description = "Whether the Cloud Build connection to GitHub exists (known when planning): the topics exist from the first apply, the triggers once connected."
  type        = bool
  nullable    = false
}

variable "repository_id" {
  description = "Id of the Cloud Build (2nd gen) linked repository (output repository_id of cloudbuild_github_connection); null until connected."
  type        = string
  default     = null
  validation {
    condition     = var.repository_id == null || can(regex("^projects/[^/]+/locations/[^/]+/connections/[^/]+/repositories/[^/]+$", coalesce(var.repository_id, "x")))
    error_message = "repository_id must look like projects/<p>/locations/<r>/connections/<c>/repositories/<name>."
  }
}

variable "environments" {
  description = "Environments that retrain on model monitoring alerts, by name: branch (the build config and the code come from it), topic (the retrain topic's name), trigger (the trigger's name), apply_service_account (runs the build, manages the topic's IAM policy from the environment root), plan_service_account (reads that policy when planning)."
  type = map(object({
    branch                = string
    topic                 = string
    trigger               = string
    apply_service_account = string
    plan_service_account  = string
  }))
  nullable = false
  validation {
    condition = alltrue([for name, env in var.environments :
      can(regex("^[a-z][a-z0-9]{1,7}$", name)) &&
      can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$", env.branch)) &&
      can(regex("^[A-Za-z][-A-Za-z0-9_.~+%]{2,254}$", env.topic)) && !startswith(env.topic, "goog") &&
      can(regex("^[A-Za-z0-9][-A-Za-z0-9]{0,62}[A-Za-z0-9]$", env.trigger))
    ])
    error_message = "Environment names are 2-8 lowercase letters or digits; branches plain git branch names; topics 3-255 characters starting with a letter (not goog); triggers 2-64 letters, digits and hyphens."
  }
  validation {
    condition = alltrue([for env in var.environments : alltrue([
      for e in [env.apply_service_account, env.plan_service_account] :
      can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]@[a-z][-a-z0-9]{4,28}[a-z0-9]\\.iam\\.gserviceaccount\\.com$", e))
    ])])
    error_message = "apply_service_account and plan_service_account must be user-managed service account emails."
  }
}

variable "labels" {
  description = "Labels set on the topics."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "kms_key_name" {
  description = "Cloud KMS key (projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>) that encrypts the retrain topics; null: Google-managed keys. Required where an organization policy (constraints/gcp.restrictNonCmekServices) denies Pub/Sub without CMEK. The project's Pub/Sub service agent must hold roles/cloudkms.cryptoKeyEncrypterDecrypter on it first: pass the key id from that grant so the topics wait for it."
  type        = string
  default     = null
  validation {
    condition     = var.kms_key_name == null || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", coalesce(var.kms_key_name, "x")))
    error_message = "kms_key_name must be null or a Cloud KMS key id: projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>."
  }
}
