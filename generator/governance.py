"""Governance rules of a client repo (pure): the audit trail and the guardrails.

- Audit trail: one aggregated sink on the projects' parent routes the admin activity, data
  access and policy-denied audit logs of every platform project (the CI/CD project and each
  environment's) into a locked log bucket in the CI/CD project, kept `audit_log_retention_days`.
- Guardrails (answer `guardrails`): project-level organization policies on each environment
  project (in the single-project layout that is the shared project), applied by the bootstrap
  root, i.e. by the person with roles/orgpolicy.policyAdmin that `mlopsgen preflight` checks.

`generator.model` puts `context(...)` into the render context as `mlops.governance`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

AUDIT_BUCKET_ID = "audit-logs"
# Audit log names (the `log_id` of Cloud Audit Logs): admin activity, data access, and the
# entries of requests an organization policy or VPC Service Controls denied.
# https://cloud.google.com/logging/docs/audit#types
AUDIT_LOG_IDS: tuple[str, ...] = (
    "cloudaudit.googleapis.com/activity",
    "cloudaudit.googleapis.com/data_access",
    "cloudaudit.googleapis.com/policy",
)

# Boolean constraints every guarded project enforces (legacy managed constraints, the names
# Google documents in https://cloud.google.com/resource-manager/docs/organization-policy/
# org-policy-constraints).
ENFORCED_CONSTRAINTS: tuple[str, ...] = (
    "constraints/storage.uniformBucketLevelAccess",
    "constraints/storage.publicAccessPrevention",
    "constraints/iam.disableServiceAccountKeyCreation",
)
DENY_ALL_CONSTRAINTS: tuple[str, ...] = ("constraints/compute.vmExternalIpAccess",)
LOCATIONS_CONSTRAINT = "constraints/gcp.resourceLocations"
CMEK_CONSTRAINT = "constraints/gcp.restrictNonCmekServices"

# Services whose resources the platform encrypts with its own keys when `cmek` is on: the
# same services as the platform module's kms_keys (terraform/modules/mlops_platform/main.tf).
CMEK_SERVICES: tuple[str, ...] = (
    "aiplatform.googleapis.com",
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "pubsub.googleapis.com",
    "storage.googleapis.com",
)
CMEK_WORKBENCH_SERVICES: tuple[str, ...] = ("compute.googleapis.com",)


def location_value_group(region: str) -> str:
    """The organization policy value group of one region: the region and its zones
    (https://cloud.google.com/resource-manager/docs/organization-policy/defining-locations:
    a region entered without a prefix becomes `in:<region>-locations`)."""
    return f"in:{region}-locations"


def cmek_services(features: Mapping[str, bool]) -> list[str]:
    if not features.get("cmek"):
        return []
    extra = CMEK_WORKBENCH_SERVICES if features.get("workbench") else ()
    return sorted((*CMEK_SERVICES, *extra))


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def context(
    *, slug: str, region: str, parent: str, cicd_project: str,
    env_projects: Sequence[tuple[str, bool]], features: Mapping[str, bool], guardrails: bool,
    retention_days: int,
) -> dict[str, Any]:
    """`mlops.governance`. `env_projects`: (project id, whether CI creates it) per environment
    in promotion order (the shared project repeats). A project CI creates does not exist when
    bootstrap is first applied: its policies wait for `guardrails_created_projects` (bootstrap
    variable), set once CI has applied it."""
    ids = [p for p, _ in env_projects]
    created_by_ci = {p: create and p != cicd_project for p, create in env_projects}
    guarded = _unique(ids)
    return {
        "audit": {
            "parent": parent,
            "bucket_id": AUDIT_BUCKET_ID,
            "sink_name": f"{slug}-audit-logs",
            "retention_days": retention_days,
            "location": region,
            "projects": _unique([cicd_project, *ids]),
            "log_ids": list(AUDIT_LOG_IDS),
        },
        "guardrails": {
            "enabled": guardrails,
            # project id -> whether CI creates it (its policies wait, see above)
            "projects": {p: created_by_ci[p] for p in guarded} if guardrails else {},
            "waiting_for_ci": [p for p in guarded if created_by_ci[p]] if guardrails else [],
            # the CI/CD project is guarded too where it is an environment's project
            "cicd_guarded": guardrails and cicd_project in guarded,
            "allowed_locations": [location_value_group(region)],
            "cmek_services": cmek_services(features),
        },
    }
