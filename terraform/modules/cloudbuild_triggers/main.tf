# Cloud Build triggers for one repository, one chain per environment (docs/promotion.md of a
# client repo):
# - plan: pull requests into the environment's branch; the pull request's own build config, as
#   the read-only plan account, which reads no secret; it saves its plan in the plans bucket;
# - plan_comment: a Pub/Sub trigger on Cloud Build's notifications, filtered to the plan builds
#   that ended; its build config comes from the environment's branch, never the pull request, and
#   it runs as the commenter account, which posts the plan on the pull request with the token;
# - plan_for_apply: push to the branch (a merge); the apply account plans the merged tree, saves
#   it and starts the apply trigger naming that plan;
# - apply: manual (started by plan_for_apply); waits for approval where approval_required, then
#   applies exactly the named plan, then starts the environment's ML build;
# - pipeline (where run_pipeline) or publish (elsewhere): manual, started by the apply build once
#   applied, so the ML code of a commit (the pipeline run, or the published template) never runs
#   before or while that commit is applied, and one build pushes its trainer image;
# - rollback, a webhook trigger fed by GitHub's pull_request events, filtered to the promotion pull
#   request from this branch being closed without merge.
# Every trigger names its service account, declares its substitutions and points at a build config
# under cloudbuild/ in the repository. Only the commenter and the apply accounts read the token.

locals {
  sa_prefix = "projects/${var.project_id}/serviceAccounts/"

  common_substitutions = {
    _GITHUB_REPOSITORY   = var.github_repository
    _GITHUB_TOKEN_SECRET = var.github_token_secret
  }

  # Trigger branch filters are RE2 regexes: anchor them and escape the '.' a branch name may hold,
  # so each matches exactly its branch.
  branch_regex = { for name, env in var.environments : name => "^${replace(env.branch, ".", "\\.")}$" }

  pipelines  = { for name, env in var.environments : name => env if env.run_pipeline }
  publishers = { for name, env in var.environments : name => env if !env.run_pipeline }
  rollbacks  = { for name, env in var.environments : name => env if env.triggers.rollback != null }

  # The accounts that read the GitHub token: the commenter (its build config comes from a
  # protected branch) and each apply account (its builds run merged code). Never a plan account:
  # pull request builds run the pull request's code. Keyed by role: the emails may only be known
  # at apply time.
  token_readers = merge(
    { commenter = var.commenter_service_account },
    { for name, env in var.environments : "${name}/apply" => env.apply_service_account },
  )

  # Cloud Build notifications bound into the comment build: the ended build's id, status, trigger,
  # commit and pull request number (set by Cloud Build, not by the build's own code).
  notification_substitutions = {
    _BUILD         = "$(body.message.data.id)"
    _BUILD_STATUS  = "$(body.message.data.status)"
    _BUILD_TRIGGER = "$(body.message.data.substitutions.TRIGGER_NAME)"
    _BUILD_COMMIT  = "$(body.message.data.substitutions.COMMIT_SHA)"
    _BUILD_PR      = "$(body.message.data.substitutions._PR_NUMBER)"
  }
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

  # no secret, and nothing that names one: this build runs the pull request's code
  substitutions = {
    _ENV          = each.key
    _TF_ROOT      = "${var.terraform_root_dir}/${each.key}"
    _STATE_BUCKET = var.state_bucket
    _STATE_PREFIX = each.value.state_prefix
    _PLANS_BUCKET = var.plans_bucket
  }
}

resource "google_cloudbuild_trigger" "plan_comment" {
  for_each        = var.environments
  project         = var.project_id
  location        = var.region
  name            = each.value.triggers.plan_comment
  description     = "post the plan of ${each.value.triggers.plan} builds on their pull request"
  tags            = ["mlopsgen", "plan-comment", each.key]
  service_account = "${local.sa_prefix}${var.commenter_service_account}"

  pubsub_config {
    topic = var.cloud_builds_topic
  }

  source_to_build {
    repository = var.repository_id
    ref        = "refs/heads/${each.value.branch}"
    repo_type  = "GITHUB"
  }

  # from the branch the pull requests target, never from a pull request
  git_file_source {
    path       = "cloudbuild/plan-comment.yaml"
    repository = var.repository_id
    revision   = "refs/heads/${each.value.branch}"
    repo_type  = "GITHUB"
  }

  filter = "_BUILD_TRIGGER == \"${each.value.triggers.plan}\" && (_BUILD_STATUS == \"SUCCESS\" || _BUILD_STATUS == \"FAILURE\" || _BUILD_STATUS == \"TIMEOUT\")"

  substitutions = merge(local.common_substitutions, local.notification_substitutions, {
    _ENV          = each.key
    _PLANS_BUCKET = var.plans_bucket
    _PLAN_TRIGGER = each.value.triggers.plan
  })
}

resource "google_cloudbuild_trigger" "plan_for_apply" {
  for_each        = var.environments
  project         = var.project_id
  location        = var.region
  name            = each.value.triggers.plan_for_apply
  description     = "plan ${each.key} on push to ${each.value.branch} and start its apply with that plan"
  tags            = ["mlopsgen", "plan-for-apply", each.key]
  service_account = "${local.sa_prefix}${each.value.apply_service_account}"
  filename        = "cloudbuild/plan-for-apply.yaml"

  repository_event_config {
    repository = var.repository_id

    push {
      branch = local.branch_regex[each.key]
    }
  }

  substitutions = merge(local.common_substitutions, {
    _ENV               = each.key
    _TF_ROOT           = "${var.terraform_root_dir}/${each.key}"
    _STATE_BUCKET      = var.state_bucket
    _STATE_PREFIX      = each.value.state_prefix
    _PLANS_BUCKET      = var.plans_bucket
    _BRANCH            = each.value.branch
    _APPLY_TRIGGER     = each.value.triggers.apply
    _APPROVAL_REQUIRED = each.value.approval_required ? "true" : "false"
  })
}

resource "google_cloudbuild_trigger" "apply" {
  for_each        = var.environments
  project         = var.project_id
  location        = var.region
  name            = each.value.triggers.apply
  description     = "apply the saved plan of ${each.key} that ${each.value.triggers.plan_for_apply} names"
  tags            = ["mlopsgen", "terraform-apply", each.key]
  service_account = "${local.sa_prefix}${each.value.apply_service_account}"

  # manual: no event starts it; plan_for_apply runs it with the plan (_PLAN_URI, _PLAN_SHA256)
  source_to_build {
    repository = var.repository_id
    ref        = "refs/heads/${each.value.branch}"
    repo_type  = "GITHUB"
  }

  git_file_source {
    path       = "cloudbuild/terraform-apply.yaml"
    repository = var.repository_id
    revision   = "refs/heads/${each.value.branch}"
    repo_type  = "GITHUB"
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
    _PLANS_BUCKET = var.plans_bucket
    # the environment's ML build, which the apply build starts once applied
    _ML_TRIGGER = each.value.run_pipeline ? each.value.triggers.pipeline : each.value.triggers.publish
    # a plan gone stale before it was applied: the merge build plans again
    _REPLAN_TRIGGER = each.value.triggers.plan_for_apply
  })
}

resource "google_cloudbuild_trigger" "pipeline" {
  for_each        = local.pipelines
  project         = var.project_id
  location        = var.region
  name            = each.value.triggers.pipeline
  description     = "ML pipeline in ${each.key} once ${each.value.triggers.apply} applied the commit, then the promotion pull request"
  tags            = ["mlopsgen", "ml-pipeline", each.key]
  service_account = "${local.sa_prefix}${each.value.apply_service_account}"

  # manual: only the apply build starts it, after applying the commit (one chain per push)
  source_to_build {
    repository = var.repository_id
    ref        = "refs/heads/${each.value.branch}"
    repo_type  = "GITHUB"
  }

  git_file_source {
    path       = "cloudbuild/ml-pipeline.yaml"
    repository = var.repository_id
    revision   = "refs/heads/${each.value.branch}"
    repo_type  = "GITHUB"
  }

  substitutions = merge(local.common_substitutions, {
    _ENV         = each.key
    _BRANCH      = each.value.branch
    _NEXT_ENV    = each.value.next_environment == null ? "" : each.value.next_environment
    _NEXT_BRANCH = each.value.next_branch == null ? "" : each.value.next_branch
  })
}

resource "google_cloudbuild_trigger" "publish" {
  for_each        = local.publishers
  project         = var.project_id
  location        = var.region
  name            = each.value.triggers.publish
  description     = "pipeline template of ${each.key} (and its trainer image) once ${each.value.triggers.apply} applied the commit"
  tags            = ["mlopsgen", "ml-publish", each.key]
  service_account = "${local.sa_prefix}${each.value.apply_service_account}"

  # manual: only the apply build starts it, after applying the commit
  source_to_build {
    repository = var.repository_id
    ref        = "refs/heads/${each.value.branch}"
    repo_type  = "GITHUB"
  }

  git_file_source {
    path       = "cloudbuild/ml-publish.yaml"
    repository = var.repository_id
    revision   = "refs/heads/${each.value.branch}"
    repo_type  = "GITHUB"
  }

  substitutions = {
    _ENV = each.key
  }
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
