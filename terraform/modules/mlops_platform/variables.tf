variable "environment" {
  description = "Environment name (promotion stage), e.g. dev."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.environment))
    error_message = "environment must be 2-8 lowercase letters or digits, starting with a letter."
  }
}

variable "client_name" {
  description = "Client's name as people write it; used only in display names and descriptions."
  type        = string
  validation {
    condition     = length(var.client_name) >= 1 && length(var.client_name) <= 100
    error_message = "client_name must be 1-100 characters."
  }
}

variable "region" {
  description = "Region of every regional resource (Vertex AI, buckets, datasets, registries, keys)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a region name such as europe-west4."
  }
}

variable "project" {
  description = <<-EOT
    The environment's project. create = true creates it under parent with billing_account;
    false adopts an existing project. shared = true means other deployments use the same project
    (single-project layout): project-wide singletons such as the audit config are then left to the
    bootstrap root.
  EOT
  type = object({
    id              = string
    create          = bool
    shared          = optional(bool, false)
    parent          = optional(string)
    billing_account = optional(string)
    deletion_policy = optional(string, "PREVENT")
  })
  validation {
    condition     = !var.project.create || (var.project.parent != null && var.project.billing_account != null)
    error_message = "Creating the project needs parent and billing_account."
  }
  validation {
    condition     = !(var.project.create && var.project.shared)
    error_message = "A shared project is created by the bootstrap root; set create = false."
  }
}

variable "features" {
  description = "Optional capabilities. automl trains with AutoML forecasting instead of the custom trainer (no resources of its own); cmek encrypts every store with keys from a key ring of this environment."
  type = object({
    workbench        = optional(bool, false)
    automl           = optional(bool, false)
    model_deployment = optional(bool, false)
    model_monitoring = optional(bool, false)
    feature_store    = optional(bool, false)
    cmek             = optional(bool, false)
  })
  default  = {}
  nullable = false
}

variable "names" {
  description = "Every resource name of the environment (computed once by the generator)."
  type = object({
    buckets = object({
      data          = string
      pipeline_root = string
    })
    datasets = object({
      training    = string
      predictions = string
      runs        = string
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
  validation {
    condition     = var.names.service_accounts.notebook == null || can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", coalesce(var.names.service_accounts.notebook, "x")))
    error_message = "names.service_accounts.notebook must be a valid service account id."
  }
}

variable "labels" {
  description = "Labels set on every resource that takes labels."
  type        = map(string)
  default     = {}
  nullable    = false
  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "Label keys must be 1-63 lowercase letters, digits, '_' or '-' starting with a letter; values at most 63 of the same."
  }
}

variable "ci_service_accounts" {
  description = "Emails of this environment's CI accounts (created by the bootstrap root in the CI/CD project): plan (read-only) and apply."
  type = object({
    plan  = string
    apply = string
  })
  validation {
    condition     = alltrue([for e in [var.ci_service_accounts.plan, var.ci_service_accounts.apply] : can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]@[a-z][-a-z0-9]{4,28}[a-z0-9]\\.iam\\.gserviceaccount\\.com$", e))])
    error_message = "CI service accounts must be user-managed service account emails."
  }
}

variable "ci_plan_roles" {
  description = "Read-only roles the plan account gets on the project (feature-specific viewer roles are added when the feature is on)."
  type        = set(string)
  default = [
    "roles/aiplatform.viewer",
    "roles/artifactregistry.reader",
    "roles/bigquery.metadataViewer",
    "roles/browser",
    "roles/iam.securityReviewer",
    "roles/iam.serviceAccountViewer",
    "roles/logging.viewer",
    "roles/monitoring.viewer",
    "roles/pubsub.viewer",
    "roles/serviceusage.serviceUsageViewer",
    "roles/storage.bucketViewer",
  ]
  nullable = false
  validation {
    condition     = length(setintersection(var.ci_plan_roles, ["roles/owner", "roles/editor", "roles/viewer"])) == 0
    error_message = "Primitive roles are not allowed."
  }
}

variable "ci_apply_roles" {
  description = "Roles the apply account gets on the project: one administrator role per kind of resource this configuration manages (feature-specific roles are added when the feature is on)."
  type        = set(string)
  default = [
    "roles/aiplatform.admin",
    "roles/artifactregistry.admin",
    "roles/bigquery.dataOwner",
    # the first environment's ML pipeline build (this account) queries the training data
    "roles/bigquery.jobUser",
    "roles/browser",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountUser",
    "roles/logging.configWriter",
    "roles/monitoring.alertPolicyEditor",
    "roles/monitoring.dashboardEditor",
    "roles/monitoring.notificationChannelEditor",
    "roles/pubsub.admin",
    "roles/resourcemanager.projectIamAdmin",
    "roles/serviceusage.serviceUsageAdmin",
    "roles/storage.admin",
  ]
  nullable = false
  validation {
    condition     = length(setintersection(var.ci_apply_roles, ["roles/owner", "roles/editor", "roles/viewer"])) == 0
    error_message = "Primitive roles are not allowed."
  }
}

variable "ci_seed_roles" {
  description = "Roles the bootstrap root already grants the CI accounts on a project that exists before CI runs (adopted or shared); this configuration leaves them alone there. Must be the list the bootstrap's ci_identities module got as seed_roles: in a rendered repo both come from the generator's model (CI_SEED_ROLES)."
  type = object({
    plan  = set(string)
    apply = set(string)
  })
  nullable = false
}

variable "notification_email" {
  description = "Address that receives pipeline and monitoring alerts."
  type        = string
  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.notification_email))
    error_message = "notification_email must be an email address."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete non-empty buckets and the feature store. Only for the disposable first environment; false everywhere else."
  type        = bool
  default     = false
  nullable    = false
}

variable "deletion_protection" {
  description = "Refuse `terraform destroy` of stateful resources (deletion_policy = PREVENT on buckets, datasets, registries, Tensorboard, feature store; Workbench deletion protection). False only in the disposable first environment."
  type        = bool
  default     = true
  nullable    = false
}

variable "pipeline_root_run_prefixes" {
  description = "Where pipeline runs keep their artifacts in the pipeline-root bucket (object name prefixes ending in /, e.g. runs/); the retention rule deletes objects under them after pipeline_root_retention_days. In a rendered repo they come from the generator's model (PIPELINE_ROOT_PREFIXES), the same prefixes config/<env>.yaml gives the pipeline code."
  type        = list(string)
  nullable    = false
  validation {
    condition     = length(var.pipeline_root_run_prefixes) > 0 && alltrue([for p in var.pipeline_root_run_prefixes : can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/$", p))])
    error_message = "pipeline_root_run_prefixes must be at least one relative prefix ending in / (such as runs/)."
  }
}

variable "pipeline_root_retention_days" {
  description = "Objects under pipeline_root_run_prefixes in the pipeline-root bucket (pipeline run artifacts, including the model files a custom-trained model version was registered from) are deleted after this many days. Other prefixes are kept."
  type        = number
  default     = 90
  nullable    = false
  validation {
    condition     = var.pipeline_root_retention_days >= 7
    error_message = "pipeline_root_retention_days must be at least 7."
  }
}

variable "run_table_expiration_days" {
  description = "Tables in the runs dataset (what each pipeline run creates: training tables, batch-prediction inputs) are deleted this many days after they are created; a run's snapshot of the training data keeps the expiration the pipeline gives it."
  type        = number
  default     = 30
  nullable    = false
  validation {
    condition     = var.run_table_expiration_days >= 1
    error_message = "run_table_expiration_days must be at least 1."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Overwritten or deleted object versions stay restorable this many days."
  type        = number
  default     = 30
  nullable    = false
  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "log_retention_days" {
  description = "Vertex AI pipeline and job logs are kept this many days in their own log bucket."
  type        = number
  default     = 365
  nullable    = false
  validation {
    condition     = var.log_retention_days >= 1 && var.log_retention_days <= 3650
    error_message = "log_retention_days must be between 1 and 3650."
  }
}

variable "kms_rotation_period" {
  description = "Rotation period of the CMEK keys (seconds, e.g. \"7776000s\" = 90 days)."
  type        = string
  default     = "7776000s"
  nullable    = false
}

variable "workbench_users" {
  description = "IAM principals (user:<email>, group:<email>) who open and run the Workbench notebooks (used when features.workbench): roles/notebooks.editor on the instance and roles/iam.serviceAccountUser on its service account; the notebooks run as that account. In a rendered repo: the answer data_scientists."
  type        = list(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for u in var.workbench_users : can(regex("^(user|group):[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", u))])
    error_message = "workbench_users must be user:<email> or group:<email>."
  }
}

variable "workbench" {
  description = "Workbench instance settings (used when features.workbench)."
  type = object({
    machine_type          = optional(string, "e2-standard-4")
    zone_suffix           = optional(string, "b")
    idle_shutdown_minutes = optional(number, 60)
    instance_owner        = optional(string)
  })
  default  = {}
  nullable = false
  validation {
    condition     = can(regex("^[a-z]$", var.workbench.zone_suffix))
    error_message = "workbench.zone_suffix must be a single zone letter such as b."
  }
}

variable "serving_slo" {
  description = "Serving SLO thresholds of the endpoint (with model_deployment or model_monitoring): latency_p99_ms (p99 online prediction latency, ms) and error_rate (5xx share of responses, 0-1). In a rendered repo: the answers slo_latency_p99_ms and slo_error_rate_percent."
  type = object({
    latency_p99_ms = number
    error_rate     = number
  })
  default  = { latency_p99_ms = 1000, error_rate = 0.01 }
  nullable = false
  validation {
    condition     = var.serving_slo.latency_p99_ms > 0 && var.serving_slo.latency_p99_ms <= 600000
    error_message = "serving_slo.latency_p99_ms must be more than 0 and at most 600000."
  }
  validation {
    condition     = var.serving_slo.error_rate > 0 && var.serving_slo.error_rate < 1
    error_message = "serving_slo.error_rate is a share: more than 0 and less than 1 (0.01 = 1 %)."
  }
}

variable "retraining_topic" {
  description = "The environment's retrain topic in the CI/CD project (projects/<p>/topics/<name>), which the bootstrap root creates with the retraining trigger; used with model_monitoring, whose alerts are published there. null for none."
  type        = string
  default     = null
  validation {
    condition     = var.retraining_topic == null || can(regex("^projects/[^/]+/topics/[^/]+$", coalesce(var.retraining_topic, "x")))
    error_message = "retraining_topic must be projects/<project>/topics/<name>."
  }
}

variable "data_governance" {
  description = "Catalog labels of the datasets and buckets (Dataplex catalog search shows them): owner (who owns the data), classification (public, internal, confidential or restricted) and retention (how long data without an expiry is kept, e.g. 7y or indefinite; the run tables and the pipeline root carry their own expiry). Label values: lowercase letters, digits, '-' and '_'. In a rendered repo: the answers data_owner, data_classification and data_retention."
  type = object({
    owner          = string
    classification = string
    retention      = string
  })
  default = {
    owner          = "unassigned"
    classification = "internal"
    retention      = "indefinite"
  }
  nullable = false
  validation {
    condition     = alltrue([for v in values(var.data_governance) : can(regex("^[a-z0-9_-]{1,63}$", v))])
    error_message = "data_governance values must be label values: 1-63 lowercase letters, digits, '-' or '_'."
  }
  validation {
    condition     = contains(["public", "internal", "confidential", "restricted"], var.data_governance.classification)
    error_message = "data_governance.classification must be public, internal, confidential or restricted."
  }
}
