# Guardrails of one project: project-level organization policies (Organization Policy API v2).
# Each policy replaces what the project inherits for that constraint. Whoever applies them needs
# roles/orgpolicy.policyAdmin, which Google grants only on the organization.
locals {
  parent = "projects/${var.project_id}"
  # boolean constraints, enforced
  enforced = toset(concat(
    var.uniform_bucket_level_access ? ["storage.uniformBucketLevelAccess"] : [],
    var.public_access_prevention ? ["storage.publicAccessPrevention"] : [],
    var.disable_service_account_key_creation ? ["iam.disableServiceAccountKeyCreation"] : [],
  ))
}

resource "google_org_policy_policy" "enforced" {
  for_each = local.enforced
  name     = "${local.parent}/policies/${each.key}"
  parent   = local.parent

  spec {
    rules {
      enforce = "TRUE"
    }
  }
}

# No VM of the project may have an external IP address.
resource "google_org_policy_policy" "vm_external_ip" {
  count  = var.deny_vm_external_ips ? 1 : 0
  name   = "${local.parent}/policies/compute.vmExternalIpAccess"
  parent = local.parent

  spec {
    rules {
      deny_all = "TRUE"
    }
  }
}

# New resources only in these locations (value groups such as in:europe-west4-locations).
resource "google_org_policy_policy" "resource_locations" {
  count  = length(var.allowed_locations) > 0 ? 1 : 0
  name   = "${local.parent}/policies/gcp.resourceLocations"
  parent = local.parent

  spec {
    rules {
      values {
        allowed_values = var.allowed_locations
      }
    }
  }
}

# These services may create resources only with a customer-managed key (deny list).
resource "google_org_policy_policy" "restrict_non_cmek_services" {
  count  = length(var.cmek_services) > 0 ? 1 : 0
  name   = "${local.parent}/policies/gcp.restrictNonCmekServices"
  parent = local.parent

  spec {
    rules {
      values {
        denied_values = var.cmek_services
      }
    }
  }
}
