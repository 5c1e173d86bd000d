"""Plan summary and policy gate on plan JSON documents (pure functions).

Google resource types cannot be planned here (no google provider download), so IAM and bucket
cases use plan documents in terraform's `show -json` format; the real-terraform cases live in
test_hooks_plan_cli.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator import plan_policy, plan_summary
from generator.plan_policy import DEFAULT_PROTECTED_TYPES, evaluate


def rc(address: str, actions: list[str], before: Any = None, after: Any = None,
       mode: str = "managed", unknown: dict | None = None, **extra: Any) -> dict[str, Any]:
    """A resource_changes entry as `terraform show -json` writes it."""
    parts = address.split(".")
    if parts[0] == "module":
        module = ".".join(parts[:2])
        rtype, name = parts[2], parts[3]
    else:
        module = ""
        rtype, name = parts[0], parts[1]
    name = name.split("[")[0]
    entry: dict[str, Any] = {
        "address": address, "mode": mode, "type": rtype, "name": name,
        "provider_name": "registry.terraform.io/hashicorp/google",
        "change": {"actions": actions, "before": before, "after": after,
                   "after_unknown": unknown or {}},
    }
    if module:
        entry["module_address"] = module
    entry.update(extra)
    return entry


def plan_of(*changes: dict[str, Any], outputs: dict | None = None) -> dict[str, Any]:
    return {"format_version": "1.2", "resource_changes": list(changes),
            "output_changes": outputs or {}}


BUCKET = 'module.platform.google_storage_bucket.buckets["data"]'


def test_classify() -> None:
    assert plan_summary.classify(["delete", "create"]) == "replace"
    assert plan_summary.classify(["create", "delete"]) == "replace"
    assert plan_summary.classify(["no-op"]) == "no-op"
    assert plan_summary.classify(["forget"]) == "forget"
    with pytest.raises(ValueError, match="unknown terraform change actions"):
        plan_summary.classify(["explode"])


def test_summary_counts_by_type_and_lists_destructive() -> None:
    plan = plan_of(
        rc("google_project.this", ["create"]),
        rc(BUCKET, ["delete", "create"], before={"name": "b"},
           action_reason="replace_because_cannot_update"),
        rc('module.platform.google_storage_bucket.buckets["raw"]', ["update"]),
        rc("google_bigquery_dataset.training", ["delete"], before={}),
        rc("google_service_account.ci", ["no-op"]),
        rc("data.google_project.current", ["read"], mode="data"),
        rc("google_pubsub_topic.old", ["forget"]),
        outputs={"project_id": {"actions": ["create"]}, "same": {"actions": ["no-op"]}},
    )
    s = plan_summary.summarize(plan)
    assert s.to_dict() == {
        "totals": {"create": 1, "update": 1, "delete": 1, "replace": 1},
        "by_type": {
            "google_bigquery_dataset": {"create": 0, "update": 0, "delete": 1, "replace": 0},
            "google_project": {"create": 1, "update": 0, "delete": 0, "replace": 0},
            "google_storage_bucket": {"create": 0, "update": 1, "delete": 0, "replace": 1},
        },
        "destructive": [
            {"address": "google_bigquery_dataset.training", "type": "google_bigquery_dataset",
             "action": "delete", "action_reason": None},
            {"address": BUCKET, "type": "google_storage_bucket", "action": "replace",
             "action_reason": "replace_because_cannot_update"},
        ],
        "forgotten": ["google_pubsub_topic.old"],
        "output_changes": {"project_id": "create"},
    }
    table = plan_summary.render_table(s)
    assert "google_storage_bucket         0       1       0        1" in table
    assert f"!! REPLACE {BUCKET}  (replace_because_cannot_update)" in table
    assert "!! DELETE  google_bigquery_dataset.training" in table
    assert "Removed from state without destroying: google_pubsub_topic.old" in table
    colored = plan_summary.render_table(s, color=True)
    assert f"\x1b[1;31m!! REPLACE {BUCKET}" in colored


def test_summary_no_changes() -> None:
    s = plan_summary.summarize(plan_of(rc("google_project.this", ["no-op"])))
    assert not s.has_changes
    assert plan_summary.render_table(s) == "No resource changes."


def test_protected_delete_refused_until_allowed_by_each_form() -> None:
    plan = plan_of(rc(BUCKET, ["delete", "create"], before={"name": "acme-dev-data"}))
    result = evaluate(plan)
    assert result.refused
    [v] = result.violations
    assert v.rule == "protected-destroy" and not v.allowed
    assert v.message == (
        f"plan would replace protected google_storage_bucket {BUCKET}; rerun with "
        f"--allow-destroy '{BUCKET}' if that is intended"
    )
    for form in (BUCKET, "module.platform.google_storage_bucket.buckets",
                 "google_storage_bucket.buckets"):
        allowed = evaluate(plan, allow_destroy=[form])
        assert not allowed.refused, form
        assert allowed.violations[0].allowed
        assert allowed.unused_allowances == []
    other = evaluate(plan, allow_destroy=['google_storage_bucket.buckets["raw"]'])
    assert other.refused
    assert other.unused_allowances == ['google_storage_bucket.buckets["raw"]']


@pytest.mark.parametrize("rtype", sorted(DEFAULT_PROTECTED_TYPES))
def test_every_default_protected_type(rtype: str) -> None:
    assert evaluate(plan_of(rc(f"{rtype}.x", ["delete"], before={}))).refused
    assert not evaluate(plan_of(rc(f"{rtype}.x", ["update"]))).refused
    assert not evaluate(plan_of(rc(f"{rtype}.x", ["create"]))).refused


def test_unprotected_delete_passes_and_protected_types_are_a_parameter() -> None:
    plan = plan_of(rc("google_pubsub_topic.events", ["delete"], before={}),
                   rc("terraform_data.bucket", ["delete", "create"], before={}))
    assert not evaluate(plan).refused
    custom = evaluate(plan, protected_types={"terraform_data"})
    assert [v.address for v in custom.blocking] == ["terraform_data.bucket"]


def test_state_bucket_is_protected_whatever_the_type_set() -> None:
    plan = plan_of(
        rc("google_storage_bucket.state", ["delete"], before={"name": "acme-tfstate-x1"})
    )
    result = evaluate(plan, protected_types=set(), state_bucket="acme-tfstate-x1")
    [v] = result.violations
    assert v.rule == "state-bucket-destroy"
    assert "the Terraform state bucket" in v.message
    assert not evaluate(plan, protected_types=set(), state_bucket="other").refused


@pytest.mark.parametrize(
    ("rtype", "after", "rule"),
    [
        ("google_project_iam_member", {"role": "roles/owner", "member": "user:a@x.com"},
         "primitive-role"),
        ("google_project_iam_binding", {"role": "roles/editor", "members": ["group:g@x.com"]},
         "primitive-role"),
        ("google_folder_iam_member", {"role": "roles/viewer", "member": "user:a@x.com"},
         "primitive-role"),
        ("google_storage_bucket_iam_member",
         {"role": "roles/storage.objectViewer", "member": "allUsers"}, "public-member"),
        ("google_bigquery_dataset_iam_binding",
         {"role": "roles/bigquery.dataViewer",
          "members": ["user:a@x.com", "allAuthenticatedUsers"]},
         "public-member"),
        ("google_project_iam_policy",
         {"policy_data": json.dumps(
             {"bindings": [{"role": "roles/owner", "members": ["user:a"]}]})},
         "primitive-role"),
        ("google_storage_bucket_iam_policy",
         {"policy_data": json.dumps({"bindings": [
             {"role": "roles/storage.objectViewer", "members": ["allUsers"]}]})},
         "public-member"),
    ],
)
def test_forbidden_grants(rtype: str, after: dict, rule: str) -> None:
    for actions in (["create"], ["update"], ["delete", "create"]):
        result = evaluate(plan_of(rc(f"{rtype}.g", actions, before={}, after=after)))
        assert [v.rule for v in result.blocking] == [rule], actions
    # removing such a grant is fine
    assert not evaluate(plan_of(rc(f"{rtype}.g", ["delete"], before=after))).refused


def test_allowed_grants_and_unknown_values() -> None:
    ok = plan_of(
        rc("google_project_iam_member.a", ["create"],
           after={"role": "roles/aiplatform.user",
                  "member": "serviceAccount:p@x.iam.gserviceaccount.com"}),
        rc("google_service_account_iam_member.b", ["create"],
           after={"role": None, "member": None},
           unknown={"member": True, "role": True}),
        rc("google_project_iam_custom_role.c", ["create"], after={"role_id": "x"}),
    )
    result = evaluate(ok)
    assert not result.refused
    assert result.warnings == [
        "google_service_account_iam_member.b: role is unknown until apply; the gate cannot "
        "check it"
    ]
    text = plan_policy.render(result)
    assert text.endswith("Policy gate: passed") and "warning: " in text


def test_data_sources_are_ignored() -> None:
    plan = plan_of(rc("data.google_iam_policy.p", ["read"], mode="data",
                      after={"policy_data": json.dumps(
                          {"bindings": [{"role": "roles/owner", "members": ["allUsers"]}]})}))
    assert not evaluate(plan).refused


@given(st.lists(st.sampled_from(["create", "update", "delete", "replace", "no-op"]), max_size=30))
def test_summary_totals_match_changes(kinds: list[str]) -> None:
    actions = {"replace": ["delete", "create"]}
    plan = plan_of(*(rc(f"google_pubsub_topic.t{i}", actions.get(k, [k]), before={})
                     for i, k in enumerate(kinds)))
    s = plan_summary.summarize(plan)
    totals = s.totals
    for k in ("create", "update", "delete", "replace"):
        assert getattr(totals, k) == kinds.count(k)
    assert len(s.destructive) == kinds.count("delete") + kinds.count("replace")
