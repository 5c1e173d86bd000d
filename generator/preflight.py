"""Preflight checks before the first bootstrap/apply, with Cloud Resource Manager v3 (REST).

For one environment of a client repo:
- Application Default Credentials exist (a missing login is one actionable line);
- the billing account id is well formed;
- the parent folder/organization exists and the caller can see it, and the caller may create
  projects there when a project is to be created, create the audit trail's aggregated sink there
  (always), and set organization policies on the projects below it (answer `guardrails`);
- each project to create has a free id (not found); each project to adopt exists, is ACTIVE and
  sits directly under the expected parent, and the caller holds the permissions bootstrap and
  apply need on it (`testIamPermissions`; with guardrails, on the CI/CD project also
  serviceusage.services.use: it is the quota project of the organization policy requests).

Checks are data (`Check`); `run_checks` never raises for an API answer, it reports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from google.api_core import exceptions as api_exceptions

from generator import answers
from generator.errors import CredentialsMissing

PASS, FAIL, WARN = "pass", "fail", "warn"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


# to create projects under the parent (bootstrap)
PARENT_PERMISSIONS: tuple[str, ...] = ("resourcemanager.projects.create",)
# the audit trail's aggregated sink on the parent (bootstrap: terraform/modules/audit_trail)
AUDIT_SINK_PERMISSIONS: tuple[str, ...] = ("logging.sinks.create",)
# the guardrails' project-level organization policies (bootstrap: terraform/modules/org_policies);
# inherited from the organization, the only place roles/orgpolicy.policyAdmin can be granted
GUARDRAIL_PERMISSIONS: tuple[str, ...] = ("orgpolicy.policies.create", "orgpolicy.policies.update")
# on an adopted project: what bootstrap (state bucket, CI service accounts, grants) and apply
# (APIs, service accounts, buckets, datasets, additive IAM members) do there
PROJECT_PERMISSIONS: tuple[str, ...] = (
    "resourcemanager.projects.get",
    "resourcemanager.projects.getIamPolicy",
    "resourcemanager.projects.setIamPolicy",
    "serviceusage.services.enable",
    "iam.serviceAccounts.create",
    "storage.buckets.create",
    "bigquery.datasets.create",
)
# with guardrails, on the CI/CD project: bootstrap names it as quota project of its organization
# policy requests (the Organization Policy API refuses user credentials without one)
QUOTA_PERMISSIONS: tuple[str, ...] = ("serviceusage.services.use",)
_ADC_HELP = (
    "no Google Cloud credentials: run `gcloud auth application-default login` "
    "(or set GOOGLE_APPLICATION_CREDENTIALS to a credentials file) and retry"
)


@dataclass(frozen=True)
class ProjectTarget:
    role: str  # "cicd" | "env" | "shared"
    project_id: str
    create: bool


@dataclass(frozen=True)
class PreflightTarget:
    env: str
    parent: str
    billing_account: str
    projects: tuple[ProjectTarget, ...]
    guardrails: bool = False


@dataclass(frozen=True)
class Check:
    check: str
    target: str
    status: str
    why: str


@dataclass
class PreflightReport:
    env: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status != FAIL for c in self.checks)

    def add(self, check: str, target: str, status: str, why: str) -> None:
        self.checks.append(Check(check, target, status, why))

    def to_json(self) -> dict[str, Any]:
        return {"env": self.env, "ok": self.ok, "checks": [asdict(c) for c in self.checks]}


def target_from_context(context: Mapping[str, Any], env: str) -> PreflightTarget:
    """Build the target from `generator.model.build_context(answers)`."""
    envs = {e["name"]: e for e in context["environments"]}
    if env not in envs:
        raise KeyError(f"unknown environment {env!r}: this repo has {', '.join(envs)}")
    cicd = context["cicd_project"]
    e = envs[env]
    projects = [ProjectTarget("cicd", str(cicd["id"]), bool(cicd["create"]))]
    if e["project_id"] != cicd["id"]:
        projects.append(ProjectTarget("env", str(e["project_id"]), bool(e["create_project"])))
    else:
        projects[0] = ProjectTarget("shared", str(cicd["id"]), bool(cicd["create"]))
    return PreflightTarget(
        env=env,
        parent=str(context["gcp_parent"]),
        billing_account=str(context["billing_account"]),
        projects=tuple(projects),
        guardrails=bool(context.get("governance", {}).get("guardrails", {}).get("enabled")),
    )


# -- clients -------------------------------------------------------------------------------------


@dataclass
class Clients:
    projects: Any
    folders: Any
    organizations: Any


def default_credentials() -> Any:
    """Application Default Credentials, or CredentialsMissing with the command to fix it."""
    import google.auth
    from google.auth import exceptions as auth_exceptions

    try:
        credentials, _project = google.auth.default(scopes=list(SCOPES))
    except auth_exceptions.DefaultCredentialsError as exc:
        raise CredentialsMissing(_ADC_HELP) from exc
    return credentials


def make_clients(credentials: Any, api_endpoint: str | None = None) -> Clients:
    """Resource Manager v3 clients over REST (HTTP/1.1 + JSON)."""
    from google.cloud import resourcemanager_v3

    options: dict[str, Any] = {}
    if api_endpoint:
        options["api_endpoint"] = api_endpoint
    kwargs: dict[str, Any] = {
        "credentials": credentials,
        "transport": "rest",
        "client_options": options or None,
    }
    return Clients(
        projects=resourcemanager_v3.ProjectsClient(**kwargs),
        folders=resourcemanager_v3.FoldersClient(**kwargs),
        organizations=resourcemanager_v3.OrganizationsClient(**kwargs),
    )


# -- checks --------------------------------------------------------------------------------------


def _state_name(state: Any) -> str:
    return str(getattr(state, "name", state))


def _api_problem(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return " ".join(str(message).split())[:200]


def _auth_failure(exc: Exception) -> CredentialsMissing | None:
    """Credential problems end the run: every other check would fail the same way."""
    from google.auth import exceptions as auth_exceptions

    if isinstance(exc, auth_exceptions.RefreshError):
        return CredentialsMissing(
            "Google Cloud credentials were rejected when refreshed "
            f"({_api_problem(exc)}): run `gcloud auth application-default login` and retry"
        )
    if isinstance(exc, api_exceptions.Unauthorized):
        return CredentialsMissing(
            "Google Cloud rejected the credentials (401): run "
            "`gcloud auth application-default login` and retry"
        )
    if isinstance(exc, auth_exceptions.TransportError):
        return CredentialsMissing(
            f"cannot reach the Google token endpoint to use the credentials ({_api_problem(exc)})"
            ": check the network/proxy and retry"
        )
    if isinstance(exc, auth_exceptions.GoogleAuthError):
        return CredentialsMissing(
            f"unusable Google Cloud credentials ({_api_problem(exc)}): run "
            "`gcloud auth application-default login` and retry"
        )
    return None


def check_billing_account(account: str) -> tuple[str, str]:
    value = account.removeprefix("billingAccounts/")
    if answers.check_question("billing_account", value, {}) is None:
        return PASS, "well formed (XXXXXX-XXXXXX-XXXXXX, upper-case hex)"
    return FAIL, (
        f"{account!r} is not a billing account id: expected 3 groups of 6 upper-case hex digits "
        "like 01A2B3-C4D5E6-F7A8B9 (see `gcloud billing accounts list`); fix billing_account "
        "in .copier-answers.yml"
    )


def _test_permissions(client: Any, resource: str, wanted: Sequence[str]) -> list[str]:
    response = client.test_iam_permissions(
        request={"resource": resource, "permissions": list(wanted)}
    )
    held = set(response.permissions)
    return [p for p in wanted if p not in held]


def _check_parent(report: PreflightReport, target: PreflightTarget, clients: Clients) -> bool:
    parent = target.parent
    problem = answers.check_question("gcp_parent", parent, {})
    if problem:
        report.add("parent", parent, FAIL, problem)
        return False
    kind = parent.split("/", 1)[0]
    client = clients.folders if kind == "folders" else clients.organizations
    noun = "folder" if kind == "folders" else "organization"
    try:
        if kind == "folders":
            found = client.get_folder(name=parent)
        else:
            found = client.get_organization(name=parent)
    except api_exceptions.NotFound:
        report.add("parent", parent, FAIL,
                   f"{noun} not found: check gcp_parent in .copier-answers.yml")
        return False
    except api_exceptions.Forbidden:
        report.add("parent", parent, FAIL,
                   f"{noun} not visible to you: ask for resourcemanager.{kind}.get on it "
                   f"(e.g. roles/browser) or check the id")
        return False
    state = _state_name(found.state)
    if state != "ACTIVE":
        report.add("parent", parent, FAIL, f"{noun} is {state}, not ACTIVE")
        return False
    report.add("parent", parent, PASS, f"{noun} {found.display_name!r} is visible and ACTIVE")
    for label, wanted, ask in _parent_permission_checks(target):
        _check_permissions(report, label, client, parent, wanted, ask)
    return True


def _parent_permission_checks(target: PreflightTarget
                              ) -> list[tuple[str, tuple[str, ...], str]]:
    """(check label, permissions on the parent, what to ask for when some are missing)."""
    parent = target.parent
    checks = []
    if any(p.create for p in target.projects):
        checks.append(("parent permissions", PARENT_PERMISSIONS,
                       f"ask for roles/resourcemanager.projectCreator on {parent}"))
    checks.append(("audit sink permissions", AUDIT_SINK_PERMISSIONS,
                   f"ask for roles/logging.configWriter on {parent} (bootstrap creates the "
                   "audit trail's aggregated sink there)"))
    if target.guardrails:
        where = (f"on {parent}" if parent.startswith("organizations/")
                 else f"on the organization that holds {parent}")
        checks.append(("guardrail permissions", GUARDRAIL_PERMISSIONS,
                       f"ask for roles/orgpolicy.policyAdmin {where} (Google grants it only on "
                       "the organization), or set guardrails: false"))
    return checks


def _check_permissions(report: PreflightReport, label: str, client: Any, resource: str,
                       wanted: Sequence[str], ask: str) -> None:
    try:
        missing = _test_permissions(client, resource, wanted)
    except api_exceptions.GoogleAPICallError as exc:
        if (auth := _auth_failure(exc)) is not None:
            raise auth from exc
        report.add(label, resource, FAIL, f"testIamPermissions failed: {_api_problem(exc)}")
        return
    if missing:
        report.add(label, resource, FAIL, f"missing {', '.join(missing)}: {ask}")
    else:
        report.add(label, resource, PASS, f"holds {', '.join(wanted)}")


def _visible_under(projects: Any, parent: str, limit: int = 5) -> list[str]:
    """Ids of ACTIVE projects the caller can see directly under `parent` (projects.search,
    every page), for a did-you-mean hint."""
    ids: list[str] = []
    for p in projects.search_projects(query=f"parent:{parent}"):
        if _state_name(p.state) == "ACTIVE":
            ids.append(p.project_id)
    ids.sort()
    return ids[:limit] + (["..."] if len(ids) > limit else [])


def _hint(clients: Clients, parent: str) -> str:
    try:
        ids = _visible_under(clients.projects, parent)
    except api_exceptions.GoogleAPICallError:
        return ""
    if not ids:
        return f"; you can see no project under {parent}"
    return f"; projects you can see under {parent}: {', '.join(ids)}"


def _check_new_project(report: PreflightReport, p: ProjectTarget, clients: Clients) -> None:
    label = f"{p.role} project (create)"
    try:
        found = clients.projects.get_project(name=f"projects/{p.project_id}")
    except api_exceptions.NotFound:
        report.add(label, p.project_id, PASS, "id is free")
        return
    except api_exceptions.Forbidden:
        # Resource Manager answers 403 both for ids it will not show and for unused ids
        report.add(label, p.project_id, WARN,
                   "cannot tell if the id is free (403: unused, or a project you cannot see); "
                   "project creation fails if it is taken")
        return
    report.add(label, p.project_id, FAIL,
               f"id is taken: project exists ({_state_name(found.state)}, under "
               f"{found.parent}); choose another name_suffix or adopt it via adopt_project_ids")


def _project_permissions(target: PreflightTarget, p: ProjectTarget) -> tuple[str, ...]:
    """What bootstrap and apply need on an adopted project."""
    if target.guardrails and p.role in ("cicd", "shared"):
        return PROJECT_PERMISSIONS + QUOTA_PERMISSIONS
    return PROJECT_PERMISSIONS


def _missing_why(p: ProjectTarget, missing: Sequence[str]) -> str:
    why = (f"missing {', '.join(missing)}: the bootstrap/apply identity needs them on "
           f"{p.project_id}")
    if set(missing) & set(QUOTA_PERMISSIONS):
        why += (f" (serviceusage.services.use: the guardrails' organization policy requests "
                f"name {p.project_id} as quota project; ask for "
                f"roles/serviceusage.serviceUsageConsumer on it)")
    return why


def _check_adopted_project(
    report: PreflightReport, p: ProjectTarget, parent: str, clients: Clients,
    wanted: tuple[str, ...] = PROJECT_PERMISSIONS,
) -> None:
    label = f"{p.role} project (adopt)"
    name = f"projects/{p.project_id}"
    try:
        found = clients.projects.get_project(name=name)
    except api_exceptions.NotFound:
        report.add(label, p.project_id, FAIL,
                   "project not found: check adopt_project_ids in .copier-answers.yml"
                   + _hint(clients, parent))
        return
    except api_exceptions.Forbidden:
        report.add(label, p.project_id, FAIL,
                   "project not visible to you: ask for resourcemanager.projects.get "
                   "(e.g. roles/browser) on it, or check the id" + _hint(clients, parent))
        return
    state = _state_name(found.state)
    if state != "ACTIVE":
        report.add(label, p.project_id, FAIL,
                   f"project is {state}, not ACTIVE: restore it or adopt another")
        return
    if found.parent != parent:
        report.add(label, p.project_id, FAIL,
                   f"project is under {found.parent}, not {parent}: move it or fix gcp_parent")
        return
    report.add(label, p.project_id, PASS, f"exists, ACTIVE, under {parent}")
    try:
        missing = _test_permissions(clients.projects, name, wanted)
    except api_exceptions.GoogleAPICallError as exc:
        if (auth := _auth_failure(exc)) is not None:
            raise auth from exc
        report.add(f"{p.role} project permissions", p.project_id, FAIL,
                   f"testIamPermissions failed: {_api_problem(exc)}")
        return
    if missing:
        report.add(f"{p.role} project permissions", p.project_id, FAIL, _missing_why(p, missing))
    else:
        report.add(f"{p.role} project permissions", p.project_id, PASS,
                   f"holds the {len(wanted)} permissions bootstrap and apply need")


def run_checks(target: PreflightTarget, clients: Clients) -> PreflightReport:
    """Every check for one environment. Raises CredentialsMissing if the credentials fail."""
    report = PreflightReport(env=target.env)
    status, why = check_billing_account(target.billing_account)
    report.add("billing account", target.billing_account, status, why)
    try:
        _check_parent(report, target, clients)
        seen: set[str] = set()
        for p in target.projects:
            if p.project_id in seen:
                continue
            seen.add(p.project_id)
            if p.create:
                _check_new_project(report, p, clients)
            else:
                _check_adopted_project(report, p, target.parent, clients,
                                       _project_permissions(target, p))
    except api_exceptions.GoogleAPICallError as exc:
        if (auth := _auth_failure(exc)) is not None:
            raise auth from exc
        report.add("api", "cloudresourcemanager", FAIL,
                   f"unexpected API error: {_api_problem(exc)}")
    except Exception as exc:
        if (auth := _auth_failure(exc)) is not None:
            raise auth from exc
        if _is_connection_error(exc):
            report.add("api", "cloudresourcemanager", FAIL,
                       f"cannot reach the Resource Manager API: {_api_problem(exc)}")
        else:
            raise
    return report


def _is_connection_error(exc: Exception) -> bool:
    import requests

    return isinstance(exc, requests.exceptions.RequestException)


def credentials_report(env: str, message: str) -> PreflightReport:
    report = PreflightReport(env=env)
    report.add("credentials", "application default credentials", FAIL, message)
    return report


def render_table(report: PreflightReport, rows: Iterable[Check] | None = None) -> str:
    checks = list(rows if rows is not None else report.checks)
    headers = ("check", "target", "result", "why")
    cells = [(c.check, c.target, c.status.upper(), c.why) for c in checks]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers[:3])]

    def line(row: Sequence[str]) -> str:
        return "  ".join(f"{v:<{widths[i]}}" for i, v in enumerate(row[:3])) + "  " + row[3]

    out = [line(headers), line(["-" * w for w in widths] + ["---"])]
    out.extend(line(r) for r in cells)
    out.append("")
    out.append(f"Preflight for {report.env}: {'OK' if report.ok else 'FAILED'}")
    return "\n".join(out)
