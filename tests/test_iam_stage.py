"""The IAM proof's engine on small plans written here: grants read from a plan, identities and
scopes resolved through the plan's references, conditions, role names, needs files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator import iam
from generator.iam import conditions, identities, planview, scopes, snapshot
from generator.iam.check import Finding

PROJECT = "acme-dev-1a2b"
SA_EMAIL = f"dev-pipeline@{PROJECT}.iam.gserviceaccount.com"


def change(address: str, rtype: str, after: dict[str, Any], unknown: dict[str, Any] | None = None,
           mode: str = "managed") -> dict[str, Any]:
    return {"address": address, "type": rtype, "mode": mode, "name": address.split(".")[-1],
            "change": {"actions": ["create"], "after": after, "after_unknown": unknown or {}}}


def refs(*names: str) -> dict[str, Any]:
    return {"references": list(names)}


def plan(changes: list[dict[str, Any]], root_module: dict[str, Any] | None = None,
         variables: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"resource_changes": changes,
            "configuration": {"root_module": root_module or {}},
            "variables": {k: {"value": v} for k, v in (variables or {}).items()}}


def needs_repo(tmp_path: Path, needs: list[dict[str, Any]], config: dict[str, Any] | None = None
               ) -> Path:
    """A repo with one config/<env>.yaml and an environment needs file for the pipeline SA."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "dev.yaml").write_text(json.dumps(
        config or {"project_id": PROJECT, "pipeline": SA_EMAIL, "bucket": "acme-state"}))
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "iam-needs.yaml").write_text(json.dumps({
        "context": "environment",
        "principals": [{"identity": "serviceAccount:${pipeline}", "needs": needs}],
    }))
    return tmp_path


def errors(result: iam.Result) -> list[Finding]:
    return [f for f in result.findings if f.severity == "error"]


BQ_NEED = {"permissions": ["bigquery.tables.create"], "scope": {"dataset": "${project_id}.runs"},
           "why": "the run creates its tables"}


def dataset_grant(role: str, member: Any = f"serviceAccount:{SA_EMAIL}",
                  unknown: dict[str, Any] | None = None) -> dict[str, Any]:
    return change('google_bigquery_dataset_iam_member.runs["pipeline"]',
                  "google_bigquery_dataset_iam_member",
                  {"project": PROJECT, "dataset_id": "runs", "role": role, "member": member,
                   "condition": []}, unknown)


def test_a_grant_that_covers_the_need_satisfies_it(tmp_path: Path) -> None:
    repo = needs_repo(tmp_path, [BQ_NEED])
    result = iam.check_repo(repo, {"terraform/envs/dev": plan(
        [dataset_grant("roles/bigquery.dataEditor")])})
    assert not errors(result)
    assert result.needs == 1


def test_an_unmet_need_names_identity_permission_scope_and_a_grant_that_would(
        tmp_path: Path) -> None:
    repo = needs_repo(tmp_path, [BQ_NEED])
    result = iam.check_repo(repo, {"terraform/envs/dev": plan(
        [dataset_grant("roles/bigquery.dataViewer")])})
    (err,) = errors(result)
    assert f"serviceAccount:{SA_EMAIL} cannot bigquery.tables.create" in err.message
    assert f"dataset projects/{PROJECT}/datasets/runs" in err.message
    assert "the run creates its tables" in err.message and "config/dev.yaml" in err.message
    suggested = err.message.split("; grant ", 1)[1].split(" ", 1)[0]
    assert "bigquery.tables.create" in snapshot.default().permissions(suggested)
    assert err.file == "pipelines/iam-needs.yaml" and err.line > 0


def test_a_grant_on_an_ancestor_counts_and_one_on_a_sibling_does_not(tmp_path: Path) -> None:
    repo = needs_repo(tmp_path, [BQ_NEED])
    project_grant = change('google_project_iam_member.p', "google_project_iam_member",
                           {"project": PROJECT, "role": "roles/bigquery.dataEditor",
                            "member": f"serviceAccount:{SA_EMAIL}", "condition": []})
    assert not errors(iam.check_repo(repo, {"r": plan([project_grant])}))
    other = dataset_grant("roles/bigquery.dataEditor")
    other["change"]["after"]["dataset_id"] = "training"
    assert errors(iam.check_repo(repo, {"r": plan([other])}))


@pytest.mark.parametrize(("role", "says"), [
    ("roles/bigquery.dataEditr", "is not a predefined role"),
    ("roles/datacatalog.searchAdmin", "is deprecated"),
])
def test_unknown_and_deprecated_roles_fail(tmp_path: Path, role: str, says: str) -> None:
    repo = needs_repo(tmp_path, [BQ_NEED])
    other = {**dataset_grant(role), "address": "google_bigquery_dataset_iam_member.other"}
    result = iam.check_repo(repo, {"r": plan([dataset_grant("roles/bigquery.dataEditor"),
                                              other])})
    assert [e.message for e in errors(result) if says in e.message and role in e.message]


def test_custom_roles_of_the_plans_are_known(tmp_path: Path) -> None:
    repo = needs_repo(tmp_path, [BQ_NEED])
    custom = change("google_project_iam_custom_role.runs", "google_project_iam_custom_role",
                    {"project": PROJECT, "role_id": "runTables", "title": "Run tables",
                     "permissions": ["bigquery.tables.create"], "stage": "GA"})
    grant = dataset_grant(f"projects/{PROJECT}/roles/runTables")
    assert not errors(iam.check_repo(repo, {"r": plan([custom, grant])}))


def test_a_need_naming_no_real_permission_fails(tmp_path: Path) -> None:
    repo = needs_repo(tmp_path, [{**BQ_NEED, "permissions": ["bigquery.tables.creat"]}])
    messages = [e.message for e in errors(iam.check_repo(repo, {"r": plan([])}))]
    assert any("bigquery.tables.creat is not a permission" in m for m in messages)


# --- conditions ----------------------------------------------------------------------------

STATE_CONDITION = (
    '(resource.type == "storage.googleapis.com/Bucket" && api.getAttribute('
    '"storage.googleapis.com/objectListPrefix", "").startsWith("envs/dev/")) || '
    'resource.name.startsWith("projects/_/buckets/acme-state/objects/envs/dev/")'
)


def _objects(prefix: str) -> conditions.Request:
    return conditions.Request("storage.googleapis.com/Object",
                              conditions.Prefix(f"projects/_/buckets/acme-state/objects/{prefix}"))


def _listing(prefix: str) -> conditions.Request:
    return conditions.Request("storage.googleapis.com/Bucket", "projects/_/buckets/acme-state",
                              attributes={"storage.googleapis.com/objectListPrefix": prefix}
                              if prefix else {})


@pytest.mark.parametrize(("request_", "admitted"), [
    (_objects("envs/dev/"), True),
    (_objects("envs/dev/sub/"), True),
    (_objects("envs/prod/"), False),
    (_objects("envs/"), False),  # part of it would be another environment's
    (_listing("envs/dev/"), True),
    (_listing("envs/prod/"), False),
    (_listing(""), False),  # listing the whole bucket
])
def test_the_state_condition_admits_only_its_own_prefix(request_: conditions.Request,
                                                        admitted: bool) -> None:
    ok, why = conditions.admits(STATE_CONDITION, request_)
    assert ok is admitted, why


def test_conditions_it_cannot_read_admit_nothing() -> None:
    request_ = _listing("envs/dev/")
    assert conditions.admits("request.time < timestamp('2030-01-01T00:00:00Z')", request_)[0] \
        is False
    ok, why = conditions.admits("resource.name.matches('x')", request_)
    assert not ok and "not understood" in why
    assert conditions.admits('api.getAttribute("iam.googleapis.com/modifiedGrantsByRole", [])'
                             '.hasOnly(["roles/a"])',
                             conditions.Request("x", "y", attributes={
                                 "iam.googleapis.com/modifiedGrantsByRole": ["roles/a"]}))[0]


def test_conditional_grants_satisfy_only_what_their_condition_admits(tmp_path: Path) -> None:
    def grant(prefix: str) -> dict[str, Any]:
        return change(f'google_storage_bucket_iam_member.state["{prefix}"]',
                      "google_storage_bucket_iam_member",
                      {"bucket": "acme-state", "role": "roles/storage.objectViewer",
                       "member": f"serviceAccount:{SA_EMAIL}",
                       "condition": [{"title": "t", "expression": STATE_CONDITION.replace(
                           "envs/dev/", prefix)}]})

    need = [{"permissions": ["storage.objects.get"], "scope": {"objects": "${bucket}/envs/dev/"},
             "why": "read the state"},
            {"permissions": ["storage.objects.list"],
             "scope": {"bucket": "${bucket}", "list_prefix": "envs/dev/"}, "why": "list it"}]
    repo = needs_repo(tmp_path, need)
    assert not errors(iam.check_repo(repo, {"r": plan([grant("envs/dev/")])}))
    wrong = errors(iam.check_repo(repo, {"r": plan([grant("envs/prod/")])}))
    assert len(wrong) == 2
    assert all("is conditional and the condition excludes it" in e.message for e in wrong)


# --- identities known only after apply -----------------------------------------------------


def _account() -> dict[str, Any]:
    return change("module.pipeline_sa.google_service_account.this", "google_service_account",
                  {"account_id": "dev-pipeline", "project": PROJECT},
                  {"email": True, "member": True, "name": True})


def _sa_module(grant_expr: dict[str, Any]) -> dict[str, Any]:
    """A root calling module pipeline_sa, which has the account and the grant."""
    return {"module_calls": {"pipeline_sa": {"source": "./sa", "expressions": {}, "module": {
        "resources": [
            {"address": "google_service_account.this", "expressions": {}},
            {"address": "google_bigquery_dataset_iam_member.runs",
             "expressions": {"member": grant_expr}},
        ],
        "outputs": {"member": {"expression": refs("google_service_account.this.member",
                                                  "google_service_account.this")}},
    }}}}


def _unknown_member_grant(address: str = "module.pipeline_sa.google_bigquery_dataset_iam_member"
                                         ".runs") -> dict[str, Any]:
    return {**dataset_grant("roles/bigquery.dataEditor", None, {"member": True}),
            "address": address}


def test_a_member_known_only_after_apply_is_traced_to_its_service_account(tmp_path: Path) -> None:
    repo = needs_repo(tmp_path, [BQ_NEED])
    root = _sa_module(refs("google_service_account.this.member", "google_service_account.this"))
    result = iam.check_repo(repo, {"r": plan([_account(), _unknown_member_grant()], root)})
    assert not errors(result)


def test_through_a_module_output_and_a_variable(tmp_path: Path) -> None:
    """root: module "data" { member = module.pipeline_sa.member }; data: member = var.member"""
    repo = needs_repo(tmp_path, [BQ_NEED])
    root = _sa_module(refs("google_service_account.this.member"))
    root["module_calls"]["data"] = {"source": "./data", "expressions": {
        "member": refs("module.pipeline_sa.member", "module.pipeline_sa")}, "module": {
        "resources": [{"address": "google_bigquery_dataset_iam_member.runs",
                       "expressions": {"member": refs("var.member")}}]}}
    grant = _unknown_member_grant("module.data.google_bigquery_dataset_iam_member.runs")
    assert not errors(iam.check_repo(repo, {"r": plan([_account(), grant], root)}))


def test_a_member_whose_references_leave_two_identities_does_not_count(tmp_path: Path) -> None:
    repo = needs_repo(tmp_path, [BQ_NEED])
    other = change("module.pipeline_sa.google_service_account.other", "google_service_account",
                   {"account_id": "dev-other", "project": PROJECT}, {"email": True})
    root = _sa_module(refs("google_service_account.this.member", "google_service_account.other"
                                                                 ".email"))
    root["module_calls"]["pipeline_sa"]["module"]["resources"].append(
        {"address": "google_service_account.other", "expressions": {}})
    result = iam.check_repo(repo, {"r": plan([_account(), other, _unknown_member_grant()], root)})
    (err,) = errors(result)
    assert "cannot bigquery.tables.create" in err.message


def test_locals_are_not_in_the_plan_so_a_member_from_one_is_not_guessed(tmp_path: Path) -> None:
    repo = needs_repo(tmp_path, [BQ_NEED])
    root = _sa_module(refs("local.member"))
    assert errors(iam.check_repo(repo, {"r": plan([_account(), _unknown_member_grant()], root)}))


def test_each_value_of_a_for_each_over_service_identities_is_the_same_key(tmp_path: Path) -> None:
    """for_each = google_project_service_identity.this; member = each.value.member"""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "dev.yaml").write_text(json.dumps({"project_id": PROJECT}))
    (tmp_path / "needs").mkdir()
    (tmp_path / "needs" / "iam-needs.yaml").write_text(json.dumps({
        "context": "environment", "principals": [
            {"identity": f"agent:{svc}.googleapis.com/${{project_id}}", "needs": [
                {"permissions": ["cloudkms.cryptoKeyVersions.useToEncrypt"],
                 "scope": {"key": f"projects/${{project_id}}/locations/l/keyRings/r/cryptoKeys/"
                                  f"{svc}"}, "why": "CMEK"}]}
            for svc in ("aiplatform", "pubsub")]}))
    identities_ = [change(f'google_project_service_identity.this["{svc}"]',
                          "google_project_service_identity",
                          {"project": PROJECT, "service": f"{svc}.googleapis.com"},
                          {"email": True, "member": True}) for svc in ("aiplatform", "pubsub")]

    def key_grant(svc: str) -> dict[str, Any]:
        return change(f'google_kms_crypto_key_iam_member.agent["{svc}"]',
                      "google_kms_crypto_key_iam_member",
                      {"crypto_key_id": f"projects/{PROJECT}/locations/l/keyRings/r/cryptoKeys/"
                                        f"{svc}",
                       "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter", "condition": []},
                      {"member": True})

    root = {"resources": [
        {"address": "google_project_service_identity.this", "expressions": {}},
        {"address": "google_kms_crypto_key_iam_member.agent",
         "for_each_expression": refs("google_project_service_identity.this"),
         "expressions": {"member": refs("each.value.member", "each.value")}}]}
    ok = iam.check_repo(tmp_path, {"r": plan([*identities_, key_grant("aiplatform"),
                                              key_grant("pubsub")], root)})
    assert not errors(ok)
    # swapped keys: each agent now holds the other's key, and both needs fail
    swapped = [key_grant("pubsub"), key_grant("aiplatform")]
    swapped[0]["address"], swapped[1]["address"] = (swapped[1]["address"],
                                                    swapped[0]["address"])
    assert len(errors(iam.check_repo(tmp_path, {"r": plan([*identities_, *swapped], root)}))) == 2


def test_a_service_agent_email_is_matched_through_the_projects_number(tmp_path: Path) -> None:
    numbers = {"123456789012": PROJECT}
    email = "serviceAccount:service-123456789012@gcp-sa-cloudbuild.iam.gserviceaccount.com"
    assert identities.principal(email, numbers) == f"agent:cloudbuild.googleapis.com/{PROJECT}"
    assert identities.principal(email, {}) == email  # an unknown number stays an email
    assert identities.principal("user:Ana@X.example", {}) == "user:ana@x.example"


def test_values_derived_from_known_attributes() -> None:
    view = planview.PlanView.of("r", plan([_account()]))
    inst = view.instances["module.pipeline_sa.google_service_account.this"]
    assert view.trace(inst, "member") == identities.Resolved(
        "principal", f"serviceAccount:{SA_EMAIL}")
    assert view.trace(inst, "name") == identities.Resolved(
        "name", f"projects/{PROJECT}/serviceAccounts/{SA_EMAIL}")


@pytest.mark.parametrize(("kind", "value", "name"), [
    ("repository", "europe-west4-docker.pkg.dev/p/containers",
     "projects/p/locations/europe-west4/repositories/containers"),
    ("repository", "https://us-central1-kfp.pkg.dev/p/pipes",
     "projects/p/locations/us-central1/repositories/pipes"),
    ("secret", "projects/p/secrets/s/versions/latest", "projects/p/secrets/s"),
    ("dataset", "p.d", "projects/p/datasets/d"),
    ("service_account", "projects/-/serviceAccounts/a@p.iam.gserviceaccount.com",
     "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com"),
    ("objects", "b/envs/dev/", "buckets/b/objects/envs/dev/"),
])
def test_scope_names(kind: str, value: str, name: str) -> None:
    assert scopes.name(kind, value) == name


def test_a_malformed_needs_file_is_an_error_with_its_place(tmp_path: Path) -> None:
    repo = needs_repo(tmp_path, [{"permissions": ["a.b.c"], "scope": {"nowhere": "x"},
                                  "why": "?"}])
    (err,) = errors(iam.check_repo(repo, {}))
    assert "pipelines/iam-needs.yaml" in err.message and "'scope' must name one scope" \
        in err.message
