# Cloud Build triggers for one repository, one set per environment:
# - plan on pull requests into the environment's branch (read-only plan service account);
# - apply on push to the branch (apply service account; a human approves first where required);
# - the ML pipeline on push to the branch where run_pipeline is set;
# - rollback, a webhook trigger fed by GitHub's pull_request events, filtered to the promotion pull
#   request from this branch being closed without merge.
# Every trigger names its service account, declares its substitutions and points at a build config
# under cloudbuild/ in the repository.

locals {
  sa_prefix = "projects/${var.project_id}/serviceAccounts/"

  common_substitutions = {
    _GITHUB_REPOSITORY   = var.github_repository
    _GITHUB_TOKEN_SECRET = var.github_token_secret
  }

  # Trigger branch filters are RE2 regexes: anchor them and escape the '.' a branch name may hold,
  # so each matches exactly its branch.
  branch_regex = { for name, env in var.environments : name => "^${replace(env.branch, ".", "\\.")}$" }

  pipelines = { for name, env in var.environments : name => env if env.run_pipeline }
  rollbacks = { for name, env in var.environments : name => env if env.triggers.rollback != null }

  # The account each build runs as; each reads the GitHub token to talk to the pull request.
  # Keyed by environment and role: the emails may only be known at apply time.
  token_readers = merge([
    for name, env in var.environments : {
      "${name}/plan"  = env.plan_service_account
      "${name}/apply" = env.apply_service_account
    }
  ]...)
}

resource "google_secret_manager_secret_iam_member" "token_readers" {
  for_each  = local.token_readers
  project   = var.project_id
  secret_id = var.github_token_secret
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${each.value}"
}

resource "google_cloudbuild_trigger" "plan" {
  for_each        = var.environments
  project         = var.project_id
  location        = var.region
  name            = each.value.triggers.plan
  description     = "terraform plan of ${each.key} on pull requests into ${each.value.branch}"
  tags            = ["mlopsgen", "terraform-plan", each.key]
  service_account = "${local.sa_prefix}${each.value.plan_service_account}"
  filename        = "cloudbuild/terraform-plan.yaml"

  repository_event_config {
    repository = var.repository_id

    pull_request {
      branch          = local.branch_regex[each.key]
      comment_control = "COMMENTS_ENABLED_FOR_EXTERNAL_CONTRIBUTORS_ONLY"
    }
  }

  substitutions = merge(local.common_substitutions, {
    _ENV          = each.key
    _TF_ROOT      = "${var.terraform_root_dir}/${each.key}"
    _STATE_BUCKET = var.state_bucket
    _STATE_PREFIX = each.value.state_prefix
  })
}

resource "google_cloudbuild_trigger" "apply" {
  for_each        = var.environments
  project         = var.project_id
  location        = var.region
  name            = each.value.triggers.apply
  description     = "terraform apply of ${each.key} on push to ${each.value.branch}"
  tags            = ["mlopsgen", "terraform-apply", each.key]
  service_account = "${local.sa_prefix}${each.value.apply_service_account}"
  filename        = "cloudbuild/terraform-apply.yaml"

  repository_event_config {
    repository = var.repository_id

    push {
      branch = local.branch_regex[each.key]
    }
  }

  approval_config {
    approval_required = each.value.approval_required
  }

  substitutions = merge(local.common_substitutions, {
    _ENV          = each.key
    _TF_ROOT      = "${var.terraform_root_dir}/${each.key}"
    _STATE_BUCKET = var.state_bucket
    _STATE_PREFIX = each.value.state_prefix
    _BRANCH       = each.value.branch
    _NEXT_ENV     = each.value.next_environment == null ? "" : each.value.next_environment
    _NEXT_BRANCH  = each.value.next_branch == null ? "" : each.value.next_branch
    _PROMOTE      = each.value.promote_after_apply ? "true" : "false"
  })
}

resource "google_cloudbuild_trigger" "pipeline" {
  for_each        = local.pipelines
  project         = var.project_id
  location        = var.region
  name            = each.value.triggers.pipeline
  description     = "ML pipeline in ${each.key} on push to ${each.value.branch}, then the promotion pull request"
  tags            = ["mlopsgen", "ml-pipeline", each.key]
  service_account = "${local.sa_prefix}${each.value.apply_service_account}"
  filename        = "cloudbuild/ml-pipeline.yaml"

  repository_event_config {
    repository = var.repository_id

    push {
      branch = local.branch_regex[each.key]
    }
  }

  substitutions = merge(local.common_substitutions, {
    _ENV         = each.key
    _BRANCH      = each.value.branch
    _NEXT_ENV    = each.value.next_environment == null ? "" : each.value.next_environment
    _NEXT_BRANCH = each.value.next_branch == null ? "" : each.value.next_branch
  })
}

resource "google_cloudbuild_trigger" "rollback" {
  for_each        = local.rollbacks
  project         = var.project_id
  location        = var.region
  name            = each.value.triggers.rollback
  description     = "roll back ${each.key} when the promotion pull request ${each.value.branch} -> ${each.value.next_branch} is closed without merge"
  tags            = ["mlopsgen", "rollback", each.key]
  service_account = "${local.sa_prefix}${each.value.apply_service_account}"

  webhook_config {
    secret = var.rollback_webhook_secret_version
  }

  source_to_build {
    repository = var.repository_id
    ref        = "refs/heads/${each.value.branch}"
    repo_type  = "GITHUB"
  }

  git_file_source {
    path       = "cloudbuild/rollback.yaml"
    repository = var.repository_id
    revision   = "refs/heads/${each.value.branch}"
    repo_type  = "GITHUB"
  }

  # GitHub sends every pull_request event; only "closed, not merged, from this branch into the
  # next one" starts a build. The payload bindings below feed the filter and the build.
  filter = "_ACTION == \"closed\" && _MERGED == \"false\" && _HEAD_REF == \"${each.value.branch}\" && _BASE_REF == \"${each.value.next_branch}\""

  substitutions = merge(local.common_substitutions, {
    _ENV           = each.key
    _BRANCH        = each.value.branch
    _TARGET_BRANCH = each.value.next_branch
    _ACTION        = "$(body.action)"
    _MERGED        = "$(body.pull_request.merged)"
    _HEAD_REF      = "$(body.pull_request.head.ref)"
    _BASE_REF      = "$(body.pull_request.base.ref)"
    _CANDIDATE_SHA = "$(body.pull_request.head.sha)"
    _CLOSED_PR     = "$(body.pull_request.number)"
  })

  lifecycle {
    precondition {
      condition     = var.rollback_webhook_secret_version != null
      error_message = "rollback_webhook_secret_version is required when an environment has a rollback trigger."
    }
  }
}
