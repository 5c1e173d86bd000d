"""Governance in the offline plans (real terraform, stand-in providers): the audit trail (one
aggregated sink into a locked log bucket of the CI/CD project) in every scenario, the guardrails'
organization policies only with the answer on, and nothing the platform creates in a guarded
project that its own policies forbid."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from generator import governance, model
from generator.validate import validate_repo

from .conftest import load_example
from .test_plan_content import CASES

pytestmark = pytest.mark.terraform

SKIP = ("test", "checkov", "fmt", "dashboards", "cloudbuild", "iam")
# name -> (answers, whether CI has applied the environments it creates: bootstrap's
# guardrails_created_projects)
SCENARIOS: dict[str, tuple[dict[str, Any], bool]] = {
    "full": (load_example("full"), False),
    "minimal": (load_example("minimal"), False),
    **{f"case-{name}": ({**load_example("minimal"), **extra}, False)
       for name, extra in CASES.items() if name not in ("full", "minimal")},
    "full-guarded": ({**load_example("full"), "guardrails": True}, True),
    "full-guarded-first-bootstrap": ({**load_example("full"), "guardrails": True}, False),
    # in the guarded shared project (CMEK for Pub/Sub): the retrain topics (model_monitoring),
    # and, connected to GitHub, every trigger and the template-update schedule
    "single-cmek-guarded": ({**load_example("minimal"), **CASES["single-cmek"],
                             "features": [*CASES["single-cmek"]["features"], "model_monitoring"],
                             "github_app_installation_id": "4242",
                             "guardrails": True, "audit_log_retention_days": 3650}, False),
    "per-env-plain-guarded": ({**load_example("minimal"), **CASES["per-env-plain"],
                               "guardrails": True}, False),
}


def _context(answers: Mapping[str, Any]) -> dict[str, Any]:
    return model.build_context(model.validate_answers(dict(answers)))


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def scenario(request: pytest.FixtureRequest, render_repo: Any,
             tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[str, dict[str, Any], dict[str, Any]]:
    name = request.param
    answers, created_ready = SCENARIOS[name]
    work = tmp_path_factory.mktemp("governance") / "repo"
    shutil.copytree(render_repo(answers), work, symlinks=True)
    if created_ready:
        (work / "terraform" / "bootstrap" / "guardrails.auto.tfvars").write_text(
            "guardrails_created_projects = true\n")
    report = validate_repo(work, skip=SKIP, jobs=2)
    assert not report.problems, [p.one_line() for p in report.problems]
    return name, _context(answers), dict(report.plans)


def _created(plan: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Planned creations as {address, type, values, unknown}."""
    for change in plan.get("resource_changes", []):
        if change["mode"] == "managed" and "create" in change["change"]["actions"]:
            yield {"address": change["address"], "type": change["type"],
                   "values": change["change"]["after"] or {},
                   "unknown": change["change"].get("after_unknown") or {}}


def _of(plan: Mapping[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [r for r in _created(plan) if r["type"] == rtype]


def test_audit_logs_of_every_project_reach_a_locked_bucket(scenario: Any) -> None:
    _name, ctx, plans = scenario
    audit = ctx["governance"]["audit"]
    bootstrap = plans["terraform/bootstrap"]
    cicd = ctx["cicd_project"]["id"]
    (bucket,) = [b["values"] for b in _of(bootstrap, "google_logging_project_bucket_config")
                 if b["values"]["bucket_id"] == governance.AUDIT_BUCKET_ID]
    assert bucket["locked"] is True and bucket["project"] == cicd
    assert bucket["retention_days"] == audit["retention_days"]
    assert bucket["location"] == ctx["region"]
    kind = "folder" if ctx["gcp_parent"].startswith("folders/") else "organization"
    (sink,) = _of(bootstrap, f"google_logging_{kind}_sink")
    values = sink["values"]
    assert values["include_children"] is True
    assert values[{"folder": "folder", "organization": "org_id"}[kind]] == ctx["parent_id"]
    # the bucket's id is known once the CI/CD project exists (bootstrap creates it)
    if sink["unknown"].get("destination") is not True:
        assert values["destination"] == (f"logging.googleapis.com/projects/{cicd}/locations/"
                                         f"{ctx['region']}/buckets/{governance.AUDIT_BUCKET_ID}")
    projects = {cicd, *(e["project_id"] for e in ctx["environments"])}
    named = set(re.findall(r'"projects/([^/]+)/logs/cloudaudit\.googleapis\.com%2F(\w+)"',
                           values["filter"]))
    assert named == {(p, log) for p in projects for log in ("activity", "data_access", "policy")}
    # the sink's writer (known after apply) may write into the CI/CD project's log buckets
    (writer,) = [g for g in _of(bootstrap, "google_project_iam_member")
                 if g["values"]["role"] == "roles/logging.bucketWriter"]
    assert writer["values"]["project"] == cicd and writer["unknown"].get("member") is True
    # every project (the shared one from bootstrap) turns its data access logs on
    audited = [a["values"]["project"] for root in plans.values()
               for a in _of(root, "google_project_iam_audit_config")]
    assert sorted(audited) == sorted(projects)


def _policies(plans: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["values"]["name"]: r["values"] for plan in plans.values()
            for r in _of(plan, "google_org_policy_policy")}


def test_org_policies_only_with_the_answer_and_on_projects_that_exist(scenario: Any) -> None:
    name, ctx, plans = scenario
    guard = ctx["governance"]["guardrails"]
    policies = _policies(plans)
    if not guard["enabled"]:
        assert policies == {}
        return
    ready = SCENARIOS[name][1]
    expected = {p for p, by_ci in guard["projects"].items() if ready or not by_ci}
    constraints = {"storage.uniformBucketLevelAccess", "storage.publicAccessPrevention",
                   "iam.disableServiceAccountKeyCreation", "compute.vmExternalIpAccess",
                   "gcp.resourceLocations"} | ({"gcp.restrictNonCmekServices"}
                                               if ctx["features"]["cmek"] else set())
    assert set(policies) == {f"projects/{p}/policies/{c}" for p in expected for c in constraints}
    for policy_name, policy in policies.items():
        project, constraint = re.fullmatch(r"projects/([^/]+)/policies/(.+)", policy_name).groups()
        assert policy["parent"] == f"projects/{project}"
        (rule,) = policy["spec"][0]["rules"]
        if constraint == "gcp.resourceLocations":
            assert rule["values"][0]["allowed_values"] == [f"in:{ctx['region']}-locations"]
        elif constraint == "gcp.restrictNonCmekServices":
            assert rule["values"][0]["denied_values"] == governance.cmek_services(ctx["features"])
        elif constraint == "compute.vmExternalIpAccess":
            assert rule["deny_all"] == "TRUE"
        else:
            assert rule["enforce"] == "TRUE"


# --- compliance: what the platform creates in a guarded project ----------------------------------

# The attribute that names each resource type's customer-managed key, for the services the
# platform restricts to CMEK (gcp.restrictNonCmekServices). A type of those services missing here
# fails the test: say where its key goes before guarding it.
CMEK_KEY: dict[str, tuple[str, tuple[str, ...]]] = {
    "google_storage_bucket": ("storage.googleapis.com", ("encryption", "default_kms_key_name")),
    "google_bigquery_dataset": ("bigquery.googleapis.com",
                                ("default_encryption_configuration", "kms_key_name")),
    "google_artifact_registry_repository": ("artifactregistry.googleapis.com", ("kms_key_name",)),
    "google_pubsub_topic": ("pubsub.googleapis.com", ("kms_key_name",)),
    "google_vertex_ai_endpoint": ("aiplatform.googleapis.com", ("encryption_spec", "kms_key_name")),
    "google_vertex_ai_tensorboard": ("aiplatform.googleapis.com",
                                     ("encryption_spec", "kms_key_name")),
    "google_vertex_ai_feature_online_store": ("aiplatform.googleapis.com",
                                              ("encryption_spec", "kms_key_name")),
    "google_workbench_instance": ("compute.googleapis.com", ("gce_setup", "boot_disk", "kms_key")),
    "google_compute_instance": ("compute.googleapis.com", ("boot_disk", "kms_key_self_link")),
}
# resource type prefixes of those services (a new type of theirs must be listed above)
CMEK_SERVICE_TYPES = ("google_storage_bucket", "google_bigquery_dataset", "google_bigquery_table",
                      "google_artifact_registry_repository", "google_pubsub_topic",
                      "google_vertex_ai_", "google_workbench_instance", "google_compute_instance",
                      "google_compute_disk")
LOCATION_KEYS = ("location", "region", "zone")


def _at(values: Any, path: tuple[str, ...], unknown: Any) -> Any:
    """The value at `path` (blocks are one-item lists), True where known only after apply."""
    for key in path:
        if isinstance(unknown, list):
            unknown = unknown[0] if unknown else {}
        if isinstance(values, list):
            values = values[0] if values else {}
        unknown = unknown.get(key) if isinstance(unknown, dict) else None
        values = values.get(key) if isinstance(values, dict) else None
    return True if unknown is True else values


def _project(resource: dict[str, Any]) -> str | None:
    values = resource["values"]
    for key in ("project", "project_id"):
        if isinstance(values.get(key), str):
            return str(values[key])
    found = re.search(r'"projects/([a-z][a-z0-9-]{4,28}[a-z0-9])/', json.dumps(values))
    return found.group(1) if found else None


def _access_violations(rtype: str, values: dict[str, Any], unknown: Any) -> list[str]:
    out = []
    if rtype == "google_storage_bucket" and not (
            values.get("uniform_bucket_level_access") is True
            and values.get("public_access_prevention") == "enforced"):
        out.append("storage.uniformBucketLevelAccess / publicAccessPrevention")
    if rtype == "google_service_account_key":
        out.append("iam.disableServiceAccountKeyCreation")
    if rtype == "google_workbench_instance" and \
            _at(values, ("gce_setup", "disable_public_ip"), unknown) is not True:
        out.append("compute.vmExternalIpAccess")
    if rtype == "google_compute_instance" and any(
            n.get("access_config") for n in values.get("network_interface") or []):
        out.append("compute.vmExternalIpAccess")
    return out


def _location_violations(rtype: str, values: dict[str, Any], region: str) -> list[str]:
    out = []
    for key in LOCATION_KEYS:
        where = values.get(key)
        if isinstance(where, str) and where.lower() != "global" and \
                where != region and not where.startswith(f"{region}-"):
            out.append(f"gcp.resourceLocations ({key} = {where})")
    if rtype == "google_secret_manager_secret" and (values.get("replication") or [{}])[0].get(
            "auto"):
        out.append("gcp.resourceLocations (automatic secret replication)")
    return out


def _cmek_violations(rtype: str, values: dict[str, Any], unknown: Any,
                     cmek: list[str]) -> list[str]:
    if not cmek or not rtype.startswith(CMEK_SERVICE_TYPES) or re.search(
            r"_iam_(member|binding|policy)$", rtype):
        return []
    service, path = CMEK_KEY.get(rtype, ("", ()))
    if not path:
        return [f"gcp.restrictNonCmekServices: {rtype} is not in CMEK_KEY"]
    if service in cmek and not _at(values, path, unknown):
        return [f"gcp.restrictNonCmekServices ({service}: no {'.'.join(path)})"]
    return []


def _violations(resource: dict[str, Any], region: str, cmek: list[str]) -> list[str]:
    rtype, values, unknown = resource["type"], resource["values"], resource["unknown"]
    return (_access_violations(rtype, values, unknown)
            + _location_violations(rtype, values, region)
            + _cmek_violations(rtype, values, unknown, cmek))


def test_the_platform_complies_with_its_own_guardrails(scenario: Any) -> None:
    _name, ctx, plans = scenario
    guard = ctx["governance"]["guardrails"]
    if not guard["enabled"]:
        pytest.skip("guardrails off")
    guarded = set(guard["projects"])
    checked = 0
    problems = []
    for root, plan in sorted(plans.items()):
        for resource in _created(plan):
            if _project(resource) not in guarded:
                continue
            checked += 1
            problems += [f"{root}: {resource['address']}: {v}"
                         for v in _violations(resource, ctx["region"], guard["cmek_services"])]
    assert checked > 20
    assert problems == [], "\n".join(problems)


def test_the_compliance_check_can_fail() -> None:
    """The checker itself: each guardrail catches the resource that breaks it."""
    def bucket(**values: Any) -> dict[str, Any]:
        return {"type": "google_storage_bucket", "values": {
            "uniform_bucket_level_access": True, "public_access_prevention": "enforced",
            "location": "europe-west4", "encryption": [{"default_kms_key_name": "k"}], **values},
            "unknown": {}}

    cmek = ["storage.googleapis.com"]
    assert _violations(bucket(), "europe-west4", cmek) == []
    assert _violations(bucket(public_access_prevention="inherited"), "europe-west4", cmek)
    assert _violations(bucket(location="EU"), "europe-west4", cmek) == [
        "gcp.resourceLocations (location = EU)"]
    assert _violations(bucket(encryption=[]), "europe-west4", cmek) == [
        "gcp.restrictNonCmekServices (storage.googleapis.com: no encryption.default_kms_key_name)"]
    vm = {"type": "google_workbench_instance", "values": {
        "location": "europe-west4-b", "gce_setup": [{"disable_public_ip": False}]},
        "unknown": {}}
    assert _violations(vm, "europe-west4", []) == ["compute.vmExternalIpAccess"]
    secret = {"type": "google_secret_manager_secret",
              "values": {"replication": [{"auto": [{}]}]}, "unknown": {}}
    assert _violations(secret, "europe-west4", []) == [
        "gcp.resourceLocations (automatic secret replication)"]
    unknown_type = {"type": "google_vertex_ai_index", "values": {}, "unknown": {}}
    assert _violations(unknown_type, "europe-west4", ["aiplatform.googleapis.com"]) == [
        "gcp.restrictNonCmekServices: google_vertex_ai_index is not in CMEK_KEY"]


def test_org_policy_requests_name_the_cicd_project_as_quota_project(scenario: Any) -> None:
    """The Organization Policy API refuses user credentials without a quota project: the
    bootstrap's policies go through google.cicd_quota (billing_project = the CI/CD project),
    which has orgpolicy.googleapis.com enabled before any policy is set."""
    _name, ctx, plans = scenario
    plan = plans["terraform/bootstrap"]
    enabled = {(r["values"].get("project"), r["values"].get("service"))
               for r in _of(plan, "google_project_service")}
    on = ctx["governance"]["guardrails"]["enabled"]
    assert ((ctx["cicd_project"]["id"], "orgpolicy.googleapis.com") in enabled) is on
    call = plan["configuration"]["root_module"]["module_calls"]["guardrails"]
    keys = {r["provider_config_key"] for r in call["module"]["resources"]
            if r["type"] == "google_org_policy_policy"}
    assert keys == {"google.cicd_quota"}, keys
    assert "module.cicd_project" in call.get("depends_on", [])
    quota = plan["configuration"]["provider_config"]["google.cicd_quota"]["expressions"]
    assert quota["user_project_override"]["constant_value"] is True
    assert quota["billing_project"]["references"][0] == "var.cicd_project.id"
