output "policies" {
  description = "Names of the policies set on the project (projects/<id>/policies/<constraint>)."
  value = sort(concat(
    [for p in google_org_policy_policy.enforced : p.name],
    google_org_policy_policy.vm_external_ip[*].name,
    google_org_policy_policy.resource_locations[*].name,
    google_org_policy_policy.restrict_non_cmek_services[*].name,
  ))
}
