"""Who a principal is, and what a resource's name is, from the attributes GCP derives them from.

A user-managed service account's email is `<account_id>@<project>.iam.gserviceaccount.com`; a
service agent belongs to one service in one project, and its email follows the form Google
documents for that service, built from the project *number*
(https://cloud.google.com/iam/docs/service-agents). So a plan that does not know an email yet
still says whose it is: the `google_service_account` with that account id and project, the
`google_project_service_identity` of that service and project, the storage or BigQuery agent
data source of that project, or a value computed from a project's number.

Principals are compared in one canonical form:
- `serviceAccount:<email>` (lowercase) for user-managed service accounts;
- `agent:<service>/<project id>` for service agents (an email of a documented form whose
  number is a project of the plans becomes this);
- `number:<project id>`: a value known only after apply that the plan derives from that
  project's number alone (which service agent it names is in the expression's text, which the
  plan does not keep; it stands for any agent of that project);
- anything else as written (`user:`, `group:`, `principalSet://...`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

SA_DOMAIN = ".iam.gserviceaccount.com"

# Service agent email forms, from Google's "Service agents" reference
# (https://cloud.google.com/iam/docs/service-agents); {n} is the project number.
AGENT_EMAILS: dict[str, str] = {
    "storage.googleapis.com": "service-{n}@gs-project-accounts.iam.gserviceaccount.com",
    "bigquery.googleapis.com": "bq-{n}@bigquery-encryption.iam.gserviceaccount.com",
    "compute.googleapis.com": "service-{n}@compute-system.iam.gserviceaccount.com",
    "aiplatform.googleapis.com": "service-{n}@gcp-sa-aiplatform.iam.gserviceaccount.com",
    "artifactregistry.googleapis.com":
        "service-{n}@gcp-sa-artifactregistry.iam.gserviceaccount.com",
    "pubsub.googleapis.com": "service-{n}@gcp-sa-pubsub.iam.gserviceaccount.com",
    "cloudbuild.googleapis.com": "service-{n}@gcp-sa-cloudbuild.iam.gserviceaccount.com",
    "secretmanager.googleapis.com": "service-{n}@gcp-sa-secretmanager.iam.gserviceaccount.com",
    "notebooks.googleapis.com": "service-{n}@gcp-sa-notebooks.iam.gserviceaccount.com",
    # the Monitoring notification agent (publishes the alerts of pubsub notification channels)
    "monitoring.googleapis.com":
        "service-{n}@gcp-sa-monitoring-notification.iam.gserviceaccount.com",
    "composer.googleapis.com": "service-{n}@cloudcomposer-accounts.iam.gserviceaccount.com",
    "dataplex.googleapis.com": "service-{n}@gcp-sa-dataplex.iam.gserviceaccount.com",
}
_AGENT_RES = {
    service: re.compile("^" + re.escape(form).replace(re.escape("{n}"), "([0-9]+)") + "$")
    for service, form in AGENT_EMAILS.items()
}


@dataclass(frozen=True)
class Resolved:
    """A value known only after apply, resolved through the plan: a principal, a project
    number (`number`), or a resource name (`name`)."""

    kind: str  # "principal" | "number" | "name"
    text: str


def sa_email(account_id: str, project: str) -> str:
    return f"{account_id}@{project}{SA_DOMAIN}".lower()


def agent(service: str, project: str) -> str:
    return f"agent:{service}/{project}"


def principal(member: str, projects_by_number: Mapping[str, str]) -> str:
    """The canonical form of an IAM member string."""
    kind, sep, rest = member.partition(":")
    if not sep or kind not in ("serviceAccount", "user", "group", "domain"):
        return member
    email = rest.lower()
    if kind == "serviceAccount":
        for service, pattern in _AGENT_RES.items():
            m = pattern.match(email)
            if m and m.group(1) in projects_by_number:
                return agent(service, projects_by_number[m.group(1)])
    return f"{kind}:{email}"


def describe(principal_text: str) -> str:
    """A principal as a reader would name it."""
    if principal_text.startswith("agent:"):
        service, _, project = principal_text[len("agent:"):].partition("/")
        return f"the {service} service agent of project {project}"
    if principal_text.startswith("number:"):
        return f"a service agent of project {principal_text[len('number:'):]}"
    return principal_text


def satisfies(grant_principal: str, need_principal: str) -> bool:
    """Does a grant to `grant_principal` count for a need of `need_principal`?"""
    if grant_principal == need_principal:
        return True
    if grant_principal.startswith("number:") and need_principal.startswith("agent:"):
        return need_principal.endswith("/" + grant_principal[len("number:"):])
    return False


# --- names derived from known attributes --------------------------------------------------


_Values = Mapping[str, Any]


def _str(values: _Values, key: str) -> str | None:
    value = values.get(key)
    return value if isinstance(value, str) and value else None


def _service_account(values: _Values, attr: str) -> Resolved | None:
    account, project = _str(values, "account_id"), _str(values, "project")
    if not account or not project:
        return None
    email = sa_email(account, project)
    if attr in ("email", "member"):
        return Resolved("principal", f"serviceAccount:{email}")
    if attr in ("name", "id"):
        return Resolved("name", f"projects/{project}/serviceAccounts/{email}")
    return None


def _service_identity(values: _Values, attr: str) -> Resolved | None:
    service, project = _str(values, "service"), _str(values, "project")
    if attr in ("email", "member") and service and project:
        return Resolved("principal", agent(service, project))
    return None


def _agent_of(service: str, attrs: tuple[str, ...]) -> Callable[[_Values, str], Resolved | None]:
    def derive_agent(values: _Values, attr: str) -> Resolved | None:
        project = _str(values, "project")
        if attr in attrs and project:
            return Resolved("principal", agent(service, project))
        return None

    return derive_agent


def _project_number(values: _Values, attr: str) -> Resolved | None:
    project = _str(values, "project_id")
    if attr == "number" and project:
        return Resolved("number", project)
    return None


def _named(template: str, *keys: str, attrs: tuple[str, ...] = ("id", "name")
           ) -> Callable[[_Values, str], Resolved | None]:
    def derive_name(values: _Values, attr: str) -> Resolved | None:
        parts = [_str(values, k) for k in keys]
        if attr in attrs and all(parts):
            return Resolved("name", template.format(*parts))
        return None

    return derive_name


_DERIVE: dict[tuple[str, str], Callable[[_Values, str], Resolved | None]] = {
    ("managed", "google_service_account"): _service_account,
    ("managed", "google_project_service_identity"): _service_identity,
    ("data", "google_storage_project_service_account"):
        _agent_of("storage.googleapis.com", ("email_address", "member")),
    ("data", "google_bigquery_default_service_account"):
        _agent_of("bigquery.googleapis.com", ("email", "member")),
    ("managed", "google_project"): _project_number,
    ("data", "google_project"): _project_number,
    ("managed", "google_artifact_registry_repository"):
        _named("projects/{}/locations/{}/repositories/{}", "project", "location",
               "repository_id"),
    ("managed", "google_secret_manager_secret"):
        _named("projects/{}/secrets/{}", "project", "secret_id"),
    ("managed", "google_kms_key_ring"):
        _named("projects/{}/locations/{}/keyRings/{}", "project", "location", "name"),
    ("managed", "google_workbench_instance"):
        _named("projects/{}/locations/{}/instances/{}", "project", "location", "name"),
    ("managed", "google_pubsub_topic"): _named("projects/{}/topics/{}", "project", "name"),
    ("managed", "google_bigquery_dataset"):
        _named("projects/{}/datasets/{}", "project", "dataset_id"),
}


# Values that name something below another attribute's resource: for an IAM scope, the parent is
# what counts (a secret version's name is under its secret's, which is where access is granted).
PARENT_ATTRS: dict[tuple[str, str, str], str] = {
    ("managed", "google_secret_manager_secret_version", "name"): "secret",
    ("managed", "google_secret_manager_secret_version", "id"): "secret",
}


class _Address(Protocol):
    @property
    def mode(self) -> str: ...

    @property
    def type(self) -> str: ...


def derive(address: _Address, values: Mapping[str, Any], attr: str) -> Resolved | None:
    """What an attribute unknown until apply is, from the resource's known attributes."""
    rule = _DERIVE.get((address.mode, address.type))
    return rule(values, attr) if rule else None
