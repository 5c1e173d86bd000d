# The audit trail: one aggregated sink on the projects' parent (folder or organization) routes
# the audit logs of the listed projects into a locked log bucket, so no project's owner can
# shorten or delete them. The bucket lives in var.project_id (the CI/CD project).
locals {
  parent_type = split("/", var.parent)[0]
  parent_id   = split("/", var.parent)[1]
  # logName of each audit log of each project (the log id URL-encodes its "/")
  log_names = flatten([for p in var.projects : [
    for id in var.log_ids : "projects/${p}/logs/${replace(id, "/", "%2F")}"
  ]])
  filter      = "logName=(${join(" OR ", [for n in local.log_names : "\"${n}\""])})"
  destination = "logging.googleapis.com/${module.bucket.bucket_id}"
  description = "Audit logs (${join(", ", var.log_ids)}) of ${join(", ", var.projects)}."
}

module "bucket" {
  source         = "../log_bucket"
  project_id     = var.project_id
  location       = var.location
  bucket_id      = var.bucket_id
  description    = local.description
  retention_days = var.retention_days
  locked         = var.locked
}

resource "google_logging_folder_sink" "this" {
  count            = local.parent_type == "folders" ? 1 : 0
  folder           = local.parent_id
  name             = var.sink_name
  description      = local.description
  destination      = local.destination
  filter           = local.filter
  include_children = true
}

resource "google_logging_organization_sink" "this" {
  count            = local.parent_type == "organizations" ? 1 : 0
  org_id           = local.parent_id
  name             = var.sink_name
  description      = local.description
  destination      = local.destination
  filter           = local.filter
  include_children = true
}

# The sink's writer identity (Logging's service agent of the folder or organization, created by
# Google: known after apply) may write log entries into this project's log buckets, and nothing
# else (roles/logging.bucketWriter holds logging.buckets.write only).
resource "google_project_iam_member" "writer" {
  project = var.project_id
  role    = "roles/logging.bucketWriter"
  member  = one(concat(google_logging_folder_sink.this[*].writer_identity, google_logging_organization_sink.this[*].writer_identity))
}
