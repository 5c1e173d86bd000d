locals {
  parent_type = split("/", var.parent)[0]
  parent_id   = split("/", var.parent)[1]
  creators    = { for env, e in var.environments : env => e if e.create_project }
  existing    = { for env, e in var.environments : env => e if !e.create_project }
  accounts = merge([for env, e in var.environments : {
    "${env}/plan"  = { env = env, kind = "plan", account_id = e.plan_account_id }
    "${env}/apply" = { env = env, kind = "apply", account_id = e.apply_account_id }
  }]...)
  cicd_grants = merge([for key, a in local.accounts : {
    for role in setunion(var.cicd_project_roles, a.kind == "apply" ? var.apply_cicd_project_roles : toset([])) :
    "${key}/${role}" => { account = key, role = role }
  }]...)
  seed_grants = merge([for env, e in local.existing : merge(
    { for role in var.seed_roles.plan : "${env}/plan/${role}" => { account = "${env}/plan", project = e.project_id, role = role } },
    { for role in var.seed_roles.apply : "${env}/apply/${role}" => { account = "${env}/apply", project = e.project_id, role = role } },
  )]...)
}

# The emails GCP gives the accounts (account id and project), known when planning, so plans show
# who each grant and trigger is for; referencing the accounts keeps the dependency on them.
locals {
  emails          = { for k, sa in google_service_account.this : k => "${sa.account_id}@${sa.project}.iam.gserviceaccount.com" }
  members         = { for k, email in local.emails : k => "serviceAccount:${email}" }
  commenter_email = "${google_service_account.commenter.account_id}@${google_service_account.commenter.project}.iam.gserviceaccount.com"
}

# Per environment: a read-only plan account and an apply account. Cloud Build runs as them;
# nothing outside Google Cloud gets keys (Workload Identity Federation instead).
resource "google_service_account" "this" {
  for_each     = local.accounts
  project      = var.project_id
  account_id   = each.value.account_id
  display_name = "Terraform ${each.value.kind} (${each.value.env})"
  description  = each.value.kind == "plan" ? "Read-only: plans the ${each.value.env} environment on pull requests." : "Applies the ${each.value.env} environment on merge."
}

# The trusted comment builds run as this account: they post pull request plans with the token.
resource "google_service_account" "commenter" {
  project      = var.project_id
  account_id   = var.commenter_account_id
  display_name = "CI plan comments"
  description  = "Posts the plans of pull request builds on their pull requests (reads the plans bucket and the GitHub token)."
}

resource "google_project_iam_member" "commenter" {
  for_each = var.cicd_project_roles
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${local.commenter_email}"
}

resource "google_project_iam_member" "cicd" {
  for_each = local.cicd_grants
  project  = var.project_id
  role     = each.value.role
  member   = local.members[each.value.account]
}

resource "google_project_iam_member" "seed" {
  for_each = local.seed_grants
  project  = each.value.project
  role     = each.value.role
  member   = local.members[each.value.account]
}

# Only apply accounts of environments whose project CI creates: create it under the parent and
# link it to the billing account (Google makes the creator owner of the new project).
resource "google_organization_iam_member" "project_creator" {
  for_each = local.parent_type == "organizations" ? local.creators : {}
  org_id   = local.parent_id
  role     = "roles/resourcemanager.projectCreator"
  member   = local.members["${each.key}/apply"]
}

resource "google_folder_iam_member" "project_creator" {
  for_each = local.parent_type == "folders" ? local.creators : {}
  folder   = var.parent
  role     = "roles/resourcemanager.projectCreator"
  member   = local.members["${each.key}/apply"]
}

resource "google_billing_account_iam_member" "billing_user" {
  for_each           = local.creators
  billing_account_id = var.billing_account
  role               = "roles/billing.user"
  member             = local.members["${each.key}/apply"]
}
