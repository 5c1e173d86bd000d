variable "project_id" {
  description = "Environment project that holds the Composer environment, its service account and the resources the DAGs read."
  type        = string
  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id (6-30 chars, [a-z][-a-z0-9]*[a-z0-9])."
  }
}

variable "region" {
  description = "Region of the Composer environment (the Vertex AI region of the platform)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west4."
  }
}

variable "name" {
  description = "Composer environment name: a lowercase letter, then up to 62 lowercase letters, digits or hyphens, not ending with a hyphen."
  type        = string
  validation {
    condition     = can(regex("^[a-z](?:[-0-9a-z]{0,62}[0-9a-z])?$", var.name))
    error_message = "name must start with a lowercase letter, use only lowercase letters, digits and hyphens, be at most 64 characters and not end with a hyphen."
  }
}

variable "service_account_id" {
  description = "Account id (before @) of the environment's own service account, created here with only the roles its DAGs need."
  type        = string
  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.service_account_id))
    error_message = "service_account_id must be 6-30 characters: a lowercase letter, then lowercase letters, digits or hyphens, ending with a letter or digit."
  }
}

variable "image_version" {
  description = "Cloud Composer 3 image: composer-3-airflow-<airflow version>[-build.<n>]; a version without a build number follows the latest build of that Airflow version."
  type        = string
  default     = "composer-3-airflow-2.10.5"
  validation {
    condition     = can(regex("^composer-3-airflow-[0-9]+(\\.[0-9]+){0,2}(-build\\.[0-9]+)?$", var.image_version))
    error_message = "image_version must be a Cloud Composer 3 image such as composer-3-airflow-2.10.5 or composer-3-airflow-2.10.5-build.12."
  }
}

variable "environment_size" {
  description = "Size of the Airflow database and web server: ENVIRONMENT_SIZE_SMALL, _MEDIUM or _LARGE."
  type        = string
  default     = "ENVIRONMENT_SIZE_SMALL"
  validation {
    condition     = contains(["ENVIRONMENT_SIZE_SMALL", "ENVIRONMENT_SIZE_MEDIUM", "ENVIRONMENT_SIZE_LARGE"], var.environment_size)
    error_message = "environment_size must be ENVIRONMENT_SIZE_SMALL, ENVIRONMENT_SIZE_MEDIUM or ENVIRONMENT_SIZE_LARGE."
  }
}

variable "private_environment" {
  description = "Run Airflow components without external IP addresses (Composer 3 private IP networking); they reach Google APIs privately, but not the internet (PyPI installs need a private mirror)."
  type        = bool
  default     = true
  nullable    = false
}

variable "env_variables" {
  description = "Environment variables of the Airflow components (the DAGs read MLOPS_ENVIRONMENTS from here). Names must be shell identifiers and not AIRFLOW__* (use airflow_config_overrides)."
  type        = map(string)
  default     = {}
  nullable    = false
  validation {
    condition     = alltrue([for k in keys(var.env_variables) : can(regex("^[a-zA-Z_][a-zA-Z0-9_]*$", k)) && !startswith(k, "AIRFLOW__")])
    error_message = "env_variables names must match [a-zA-Z_][a-zA-Z0-9_]* and must not start with AIRFLOW__."
  }
}

variable "airflow_config_overrides" {
  description = "Airflow configuration overrides as section-key => value (e.g. core-dags_are_paused_at_creation)."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "pipeline_service_account_id" {
  description = "Resource name (projects/<project>/serviceAccounts/<email>) of the Vertex AI pipeline service account the DAGs run pipeline jobs as; the Composer account gets roles/iam.serviceAccountUser on it only."
  type        = string
  validation {
    condition     = can(regex("^projects/[^/]+/serviceAccounts/[^/]+@[^/]+$", var.pipeline_service_account_id))
    error_message = "pipeline_service_account_id must look like projects/<project>/serviceAccounts/<email>."
  }
}

variable "kfp_repository" {
  description = "Id of the KFP Artifact Registry repository (in project_id, region) that holds the compiled pipeline templates the DAGs run; read-only access."
  type        = string
  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.kfp_repository))
    error_message = "kfp_repository must be an Artifact Registry repository id."
  }
}

variable "training_dataset" {
  description = "BigQuery dataset id whose tables' partitions the data-arrival sensor watches; read access to this dataset only. Null for no BigQuery sensor."
  type        = string
  default     = null
  validation {
    condition     = var.training_dataset == null || (can(regex("^[A-Za-z0-9_]+$", coalesce(var.training_dataset, "x"))) && length(coalesce(var.training_dataset, "x")) <= 1024)
    error_message = "training_dataset must be a BigQuery dataset id ([A-Za-z0-9_])."
  }
}

variable "data_bucket" {
  description = "Data-lake bucket whose new objects the data-arrival sensor watches; object read access only. Null for no GCS sensor."
  type        = string
  default     = null
  validation {
    condition     = var.data_bucket == null || can(regex("^[a-z0-9][-a-z0-9_.]{1,61}[a-z0-9]$", coalesce(var.data_bucket, "xxx")))
    error_message = "data_bucket must be a bucket name."
  }
}

variable "kms_key_id" {
  description = "Cloud KMS key id for the environment's data (CMEK); null for Google-managed keys. The Composer, Artifact Registry, GKE, Pub/Sub and Storage service agents need encrypt/decrypt on it first."
  type        = string
  default     = null
}

variable "enable_api" {
  description = "Enable composer.googleapis.com on the project (never disabled on destroy)."
  type        = bool
  default     = true
  nullable    = false
}

variable "labels" {
  description = "Labels set on the environment."
  type        = map(string)
  default     = {}
  nullable    = false
}
