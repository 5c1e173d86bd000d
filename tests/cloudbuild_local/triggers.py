"""The Cloud Build triggers a Terraform root declares, with their substitution values, read from
its plan (`terraform show -json`), so a test runs a config with the substitutions its real
trigger passes. The plan reading is the Cloud Build check's (generator.cloudbuild.triggers);
this adds the values, the trigger name and the approval flag.

A value known only after apply (typically the service account email) is not in the plan: the
caller names the account (`service_accounts`, by trigger name) or gets ''.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.cloudbuild.triggers import _changes, build_config, service_account
from tests.cloudbuild_local.cloudbuild_api import TriggerDef

_SA_PREFIX = "/serviceAccounts/"


def _approval(after: Mapping[str, Any]) -> bool:
    blocks = after.get("approval_config") or []
    return bool(blocks) and bool(blocks[0].get("approval_required"))


def _email(after: Mapping[str, Any], unknown: Mapping[str, Any]) -> str:
    value = service_account(after, unknown)
    return value.split(_SA_PREFIX, 1)[1] if _SA_PREFIX in value else ""


def triggers_from_plan(
    plan: Mapping[str, Any], service_accounts: Mapping[str, str] | None = None
) -> dict[str, TriggerDef]:
    """File-based triggers by name. Substitution values unknown at plan time are left out."""
    out: dict[str, TriggerDef] = {}
    for _address, after, unknown in _changes(plan):
        filename, _ = build_config(after, unknown)
        name = after.get("name")
        if filename is None or not isinstance(name, str):
            continue
        subs = {k: v for k, v in (after.get("substitutions") or {}).items()
                if isinstance(v, str)}
        email = _email(after, unknown) or (service_accounts or {}).get(name, "")
        out[name] = TriggerDef(name=name, filename=filename, service_account=email,
                               substitutions=subs, approval_required=_approval(after))
    return out
