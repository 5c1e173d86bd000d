variable "project_id" {
  description = "Project where the triggers live and the builds run (the CI/CD project)."
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

variable "repository_id" {
  description = "Id of the Cloud Build (2nd gen) linked repository (output repository_id of cloudbuild_github_connection)."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/connections/[^/]+/repositories/[^/]+$", var.repository_id))
    error_message = "repository_id must look like projects/<p>/locations/<r>/connections/<c>/repositories/<name>."
  }
}

variable "github_repository" {
  description = "owner/name of the GitHub repository; the build scripts call the GitHub API on it."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be <owner>/<name>."
  }
}

variable "github_token_secret" {
  description = "Short name of the Secret Manager secret (in project_id) with the GitHub token the builds use to comment on and open pull requests."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.github_token_secret))
    error_message = "github_token_secret must be a secret name (letters, digits, '_' and '-')."
  }
}

variable "state_bucket" {
  description = "GCS bucket that holds the Terraform state of every environment root."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][-a-z0-9_.]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "state_bucket must be a bucket name."
  }
}

variable "plans_bucket" {
  description = "Bucket (in project_id) where the builds save their plans: <env>/pr/ (pull request plans, for review) and <env>/merge/ (the plans the apply builds apply)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][-a-z0-9_.]{1,61}[a-z0-9]$", var.plans_bucket))
    error_message = "plans_bucket must be a bucket name."
  }
}

variable "commenter_service_account" {
  description = "Email of the account the comment builds run as (posts pull request plans); with the apply accounts the only reader of the GitHub token."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]@[a-z][-a-z0-9]{4,28}[a-z0-9]\\.iam\\.gserviceaccount\\.com$", var.commenter_service_account))
    error_message = "commenter_service_account must be a user-managed service account email."
  }
}

variable "cloud_builds_topic" {
  description = "The Pub/Sub topic Cloud Build publishes build notifications to: projects/<project_id>/topics/cloud-builds (it must exist). The comment triggers listen on it."
  type        = string

  validation {
    condition     = can(regex("^projects/[^/]+/topics/cloud-builds$", var.cloud_builds_topic))
    error_message = "cloud_builds_topic must be projects/<project>/topics/cloud-builds (the topic Cloud Build publishes to)."
  }
}

variable "terraform_root_dir" {
  description = "Directory of the environment roots in the repository; a root is <dir>/<environment>."
  type        = string
  default     = "terraform/envs"
}

variable "rollback_webhook_secret_version" {
  description = "Secret Manager secret version (projects/<p>/secrets/<name>/versions/<v>) that authenticates calls to the rollback webhook triggers; null when no environment has a rollback trigger."
  type        = string
  default     = null

  validation {
    condition     = var.rollback_webhook_secret_version == null || can(regex("^projects/[^/]+/secrets/[^/]+/versions/[^/]+$", var.rollback_webhook_secret_version))
    error_message = "rollback_webhook_secret_version must look like projects/<p>/secrets/<name>/versions/<v>."
  }
}

variable "environments" {
  description = <<-EOT
    One chain of triggers per environment, keyed by environment name:
    branch (the environment's git branch), next_environment/next_branch (promotion target, null for the last),
    approval_required (apply waits for a human approval in Cloud Build), the CI service account emails
    (plan: read-only, for pull requests; apply: plans merges and deploys), run_pipeline (once
    applied, the apply build starts the ML pipeline trigger; elsewhere the publish trigger),
    promote_after_apply (the apply build opens the promotion pull request to next_branch once applied;
    the caller decides, in mlopsgen the model: environments that run no pipeline and have a next one),
    state_prefix (backend prefix of the root) and the trigger names (plan, plan_comment, plan_for_apply,
    apply; pipeline where run_pipeline, publish elsewhere; rollback: a webhook trigger that fires when
    the promotion pull request from this branch is closed without merge; null for none).
  EOT
  type = map(object({
    branch                = string
    next_environment      = optional(string)
    next_branch           = optional(string)
    approval_required     = bool
    plan_service_account  = string
    apply_service_account = string
    run_pipeline          = optional(bool, false)
    promote_after_apply   = optional(bool, false)
    state_prefix          = string
    triggers = object({
      plan           = string
      plan_comment   = string
      plan_for_apply = string
      apply          = string
      pipeline       = optional(string)
      publish        = optional(string)
      rollback       = optional(string)
    })
  }))

  validation {
    condition = alltrue([
      for name, env in var.environments :
      can(regex("^[a-z][a-z0-9]{1,7}$", name)) && can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$", env.branch))
    ])
    error_message = "Environment names must match ^[a-z][a-z0-9]{1,7}$ and branches must be plain git branch names."
  }

  validation {
    condition = alltrue(flatten([
      for env in var.environments : [
        for name in compact([env.triggers.plan, env.triggers.plan_comment, env.triggers.plan_for_apply, env.triggers.apply, env.triggers.pipeline, env.triggers.publish, env.triggers.rollback]) :
        can(regex("^[A-Za-z0-9][-A-Za-z0-9]{0,62}[A-Za-z0-9]$", name))
      ]
    ]))
    error_message = "Trigger names must be 2-64 letters, digits and hyphens, starting and ending with a letter or digit."
  }

  validation {
    condition = alltrue([
      for env in var.environments :
      can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]@[a-z][-a-z0-9]{4,28}[a-z0-9]\\.iam\\.gserviceaccount\\.com$", env.plan_service_account)) &&
      can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]@[a-z][-a-z0-9]{4,28}[a-z0-9]\\.iam\\.gserviceaccount\\.com$", env.apply_service_account))
    ])
    error_message = "plan_service_account and apply_service_account must be user-managed service account emails."
  }

  validation {
    condition = alltrue([
      for env in var.environments : env.run_pipeline ? env.triggers.pipeline != null : env.triggers.publish != null
    ])
    error_message = "Each environment needs its ML build, which its apply build starts: triggers.pipeline where run_pipeline, triggers.publish elsewhere."
  }

  validation {
    condition = alltrue([
      for env in var.environments : env.triggers.rollback == null || env.next_branch != null
    ])
    error_message = "A rollback trigger needs next_branch: it watches the promotion pull request into that branch."
  }

  validation {
    condition = alltrue([
      for env in var.environments : !env.promote_after_apply || env.next_branch != null
    ])
    error_message = "promote_after_apply needs next_branch: the promotion pull request goes into that branch."
  }

  validation {
    condition     = length(distinct([for env in var.environments : env.branch])) == length(var.environments)
    error_message = "Every environment needs its own branch."
  }
}
