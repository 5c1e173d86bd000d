"""generator/plan_diff.py's reading of a plan: what is destroyed, what is protected, why.
(End to end, with real terraform and copier: tests/upgrade/test_update_replacements.py.)"""

from __future__ import annotations

from typing import Any

from generator import plan_diff
from generator.tfrunner import Diagnostic


def change(address: str, rtype: str, actions: list[str], **extra: Any) -> dict[str, Any]:
    return {"address": address, "type": rtype, "name": address.split(".")[-1],
            "mode": "managed", "action_reason": extra.pop("reason", None),
            "change": {"actions": actions, "before": extra.pop("before", {}), **extra}}


PLAN = {"resource_changes": [
    change("google_storage_bucket.data", "google_storage_bucket", ["delete", "create"],
           reason="replace_because_cannot_update", replace_paths=[["name"]]),
    change("google_storage_bucket.state", "google_storage_bucket", ["delete"],
           before={"name": "acme-tfstate"}),
    change("google_kms_crypto_key.k", "google_kms_crypto_key", ["create", "delete"],
           replace_paths=[["version_template", 0, "protection_level"]]),
    change("google_pubsub_topic.t", "google_pubsub_topic", ["delete"]),
    change("google_pubsub_topic.u", "google_pubsub_topic", ["update"]),
]}


def test_every_delete_and_replace_with_the_gates_verdict() -> None:
    found = {d.address: d for d in plan_diff.destructions("r", PLAN, state_bucket="acme-tfstate")}
    assert set(found) == {"google_storage_bucket.data", "google_storage_bucket.state",
                          "google_kms_crypto_key.k", "google_pubsub_topic.t"}
    assert found["google_storage_bucket.data"].protected == "a protected google_storage_bucket"
    assert found["google_storage_bucket.data"].forced_by == ("name",)
    assert found["google_storage_bucket.state"].protected == "the Terraform state bucket"
    assert found["google_kms_crypto_key.k"].forced_by == ("version_template[0].protection_level",)
    assert found["google_pubsub_topic.t"].protected is None
    result = plan_diff.PlanDiff("ok", destructions=list(found.values()))
    assert result.needs_attention and len(result.protected) == 3
    text = "\n".join(result.lines())
    assert "4 resource(s) would be replaced or deleted, 3 PROTECTED" in text
    assert ("REPLACE google_storage_bucket.data [r] (replace_because_cannot_update; forced by "
            "name)  !! PROTECTED") in text


def test_an_ordinary_delete_needs_nobody_and_a_skipped_check_says_why() -> None:
    [topic] = plan_diff.destructions("r", {"resource_changes": PLAN["resource_changes"][3:]})
    assert not plan_diff.PlanDiff("ok", destructions=[topic]).needs_attention
    assert plan_diff.skipped("--no-plan-diff").lines() == [
        "replacements: not checked (--no-plan-diff)"]
    assert plan_diff.PlanDiff("failed", errors=["x"]).needs_attention


def test_prevent_destroy_is_a_protected_destruction() -> None:
    diag = Diagnostic(
        "error", "Instance cannot be destroyed",
        'Resource module.kms.google_kms_crypto_key.this["a"] has lifecycle.prevent_destroy '
        "set, but the plan calls for this resource to be destroyed.",
    )
    [d] = plan_diff.prevented("r", [diag])
    assert (d.address, d.type, d.protected) == (
        'module.kms.google_kms_crypto_key.this["a"]', "google_kms_crypto_key",
        "lifecycle.prevent_destroy refuses it")
