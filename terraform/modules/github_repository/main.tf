# The client repository on GitHub: settings, one branch per environment, the default branch and
# protection on every environment branch (pull request, approving and code-owner review, stale
# reviews dismissed, the Cloud Build plan check, no force push, no deletion).
# An existing repository is managed by importing it into github_repository.this (the root adds an
# `import` block); archive_on_destroy keeps a `terraform destroy` from deleting it.

resource "github_repository" "this" {
  name        = var.name
  description = var.description
  visibility  = var.visibility

  auto_init              = true
  has_issues             = true
  has_wiki               = false
  has_projects           = false
  allow_merge_commit     = true
  allow_squash_merge     = false
  allow_rebase_merge     = false
  allow_auto_merge       = false
  allow_update_branch    = true
  delete_branch_on_merge = false # environment branches are merged into each other and must stay
  vulnerability_alerts   = true
  archive_on_destroy     = true

  lifecycle {
    ignore_changes = [auto_init]
  }
}

resource "github_branch" "environment" {
  for_each      = { for b, v in var.environment_branches : b => v if b != var.initial_branch }
  repository    = github_repository.this.name
  branch        = each.key
  source_branch = var.initial_branch
}

resource "github_branch_default" "this" {
  repository = github_repository.this.name
  branch     = var.default_branch

  depends_on = [github_branch.environment]
}

resource "github_branch_protection" "environment" {
  #checkov:skip=CKV_GIT_5:The approval count is the client's (variable, >= 1): CODEOWNERS review plus a Cloud Build approval gate guard every environment after the first
  #checkov:skip=CKV_GIT_6:Signed commits are the client's choice (var.require_signed_commits): the rollback build's revert commit, made through the GitHub API, is unsigned; merges through the protected pull request flow are reviewed
  for_each      = var.protect_branches ? var.environment_branches : {}
  repository_id = github_repository.this.node_id
  pattern       = each.key

  enforce_admins                  = each.value.enforce_admins
  allows_deletions                = false
  allows_force_pushes             = false
  require_conversation_resolution = true
  require_signed_commits          = var.require_signed_commits

  required_pull_request_reviews {
    required_approving_review_count = var.required_approving_review_count
    require_code_owner_reviews      = true
    dismiss_stale_reviews           = true
    require_last_push_approval      = true
  }

  required_status_checks {
    strict   = var.require_up_to_date_branches
    contexts = each.value.required_checks
  }

  depends_on = [github_branch.environment]
}

resource "github_repository_webhook" "this" {
  for_each   = nonsensitive(toset(keys(var.webhooks)))
  repository = github_repository.this.name
  events     = var.webhooks[each.key].events
  active     = true

  configuration {
    url          = var.webhooks[each.key].url
    content_type = "json"
    insecure_ssl = false
  }
}
