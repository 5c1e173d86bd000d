"""Safety gate over a `terraform show -json` plan.

Refuses a plan that
- deletes or replaces a resource of a protected type (projects, buckets, BigQuery datasets and
  tables, Vertex AI Tensorboards, KMS keys and key rings) or the Terraform state bucket, unless
  `--allow-destroy` names that resource (full address, address without instance key, or TYPE.NAME);
- grants a primitive role (roles/owner, roles/editor, roles/viewer) or grants to `allUsers` /
  `allAuthenticatedUsers` in any `*_iam_member`, `*_iam_binding` or `*_iam_policy` resource.

Pure functions; no terraform, no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.plan_summary import classify, managed_changes

DEFAULT_PROTECTED_TYPES: frozenset[str] = frozenset(
    {
        "google_project",
        "google_storage_bucket",
        "google_bigquery_dataset",
        "google_bigquery_table",
        "google_vertex_ai_tensorboard",
        "google_kms_crypto_key",
        "google_kms_key_ring",
    }
)
PRIMITIVE_ROLES: frozenset[str] = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
PUBLIC_MEMBERS: frozenset[str] = frozenset({"allUsers", "allAuthenticatedUsers"})
BUCKET_TYPES: frozenset[str] = frozenset({"google_storage_bucket"})

_IAM_TYPE = re.compile(r"_iam_(member|binding|policy)$")
_INDEX = re.compile(r"\[[^\]]*\]$")


@dataclass(frozen=True)
class Violation:
    """One reason to refuse the plan."""

    rule: str  # "protected-destroy" | "state-bucket-destroy" | "primitive-role" | "public-member"
    address: str
    message: str
    allowed: bool = False  # a protected destroy named by --allow-destroy

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "address": self.address,
            "message": self.message,
            "allowed": self.allowed,
        }


@dataclass
class PolicyResult:
    violations: list[Violation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unused_allowances: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> list[Violation]:
        return [v for v in self.violations if not v.allowed]

    @property
    def refused(self) -> bool:
        return bool(self.blocking)

    def to_dict(self) -> dict[str, Any]:
        return {
            "refused": self.refused,
            "violations": [v.to_dict() for v in self.violations],
            "warnings": list(self.warnings),
            "unused_allowances": list(self.unused_allowances),
        }


def _address_forms(rc: Mapping[str, Any]) -> set[str]:
    """The names by which --allow-destroy may refer to a resource change."""
    address = str(rc["address"])
    forms = {address, f"{rc['type']}.{rc['name']}"}
    forms.add(_INDEX.sub("", address))
    return forms


def _shell_word(text: str) -> str:
    """`text` as one POSIX shell word (addresses with instance keys need quoting)."""
    if re.fullmatch(r"[A-Za-z0-9_.\-]+", text):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _is_iam(rtype: str) -> bool:
    return bool(_IAM_TYPE.search(rtype))


def _grants(after: Mapping[str, Any]) -> list[tuple[str | None, list[str]]]:
    """(role, members) pairs granted by an IAM resource's planned values."""
    pairs: list[tuple[str | None, list[str]]] = []
    role = after.get("role")
    if "member" in after:
        pairs.append((role, [str(after["member"])] if after["member"] is not None else []))
    if "members" in after:
        pairs.append((role, [str(m) for m in after.get("members") or ()]))
    policy_data = after.get("policy_data")
    if isinstance(policy_data, str) and policy_data.strip():
        try:
            policy = json.loads(policy_data)
        except ValueError:
            policy = {}
        for binding in policy.get("bindings") or ():
            pairs.append((binding.get("role"), [str(m) for m in binding.get("members") or ()]))
    return pairs


def _state_bucket_match(before: Mapping[str, Any] | None, state_bucket: str | None) -> bool:
    if not state_bucket or not isinstance(before, Mapping):
        return False
    return state_bucket in (before.get("name"), before.get("bucket"))


_DESTROYS = frozenset({"delete", "replace"})
_GRANTS = frozenset({"create", "update", "replace"})


def evaluate(
    plan: Mapping[str, Any],
    *,
    allow_destroy: Iterable[str] = (),
    protected_types: Collection[str] = DEFAULT_PROTECTED_TYPES,
    state_bucket: str | None = None,
) -> PolicyResult:
    """Check a plan against the gate. `allow_destroy` lists addresses or TYPE.NAME."""
    allowances = {a.strip() for a in allow_destroy if a.strip()}
    used: set[str] = set()
    result = PolicyResult()
    for rc in managed_changes(plan):
        change = rc.get("change") or {}
        kind = classify(change.get("actions", ()))
        rtype = str(rc["type"])
        address = str(rc["address"])
        protection = _protection(rtype, change.get("before"), protected_types, state_bucket)
        if kind in _DESTROYS and protection is not None:
            matched = _address_forms(rc) & allowances
            used |= matched
            result.violations.append(_destroy_violation(address, kind, protection, matched))
        if kind in _GRANTS and _is_iam(rtype):
            result.warnings += _unknown_warnings(address, change.get("after_unknown") or {})
            result.violations += _grant_violations(address, _grants(change.get("after") or {}))
    result.unused_allowances = sorted(allowances - used)
    return result


def _protection(
    rtype: str,
    before: Mapping[str, Any] | None,
    protected_types: Collection[str],
    state_bucket: str | None,
) -> tuple[str, str] | None:
    """(rule, what) when destroying this resource needs --allow-destroy, else None."""
    if rtype in BUCKET_TYPES and _state_bucket_match(before, state_bucket):
        return "state-bucket-destroy", "the Terraform state bucket"
    if rtype in protected_types:
        return "protected-destroy", f"protected {rtype}"
    return None


def _destroy_violation(
    address: str, kind: str, protection: tuple[str, str], matched: set[str]
) -> Violation:
    rule, what = protection
    if matched:
        remedy = f" (allowed by --allow-destroy {sorted(matched)[0]})"
    else:
        remedy = f"; rerun with --allow-destroy {_shell_word(address)} if that is intended"
    return Violation(
        rule=rule,
        address=address,
        message=f"plan would {kind} {what} {address}{remedy}",
        allowed=bool(matched),
    )


def _unknown_warnings(address: str, after_unknown: Mapping[str, Any]) -> list[str]:
    # an unknown member comes from a resource attribute (e.g. a new service account's
    # email), never a literal allUsers/allAuthenticatedUsers: only roles are worth a word
    return [
        f"{address}: {key} is unknown until apply; the gate cannot check it"
        for key in ("role", "policy_data")
        if after_unknown.get(key) is True
    ]


def _grant_violations(
    address: str, grants: Iterable[tuple[str | None, list[str]]]
) -> list[Violation]:
    violations: list[Violation] = []
    for role, members in grants:
        if role in PRIMITIVE_ROLES:
            violations.append(
                Violation(
                    rule="primitive-role",
                    address=address,
                    message=(
                        f"{address} grants primitive role {role}; grant a predefined "
                        "or custom role with only the permissions needed"
                    ),
                )
            )
        violations += [
            Violation(
                rule="public-member",
                address=address,
                message=(
                    f"{address} grants {role or 'a role'} to {member}; "
                    "public access is never allowed"
                ),
            )
            for member in members
            if member in PUBLIC_MEMBERS
        ]
    return violations


def render(result: PolicyResult) -> str:
    """Human-readable gate outcome."""
    lines: list[str] = []
    for v in result.violations:
        lines.append(f"{'ALLOWED' if v.allowed else 'REFUSED'}: {v.message}")
    for w in result.warnings:
        lines.append(f"warning: {w}")
    for a in result.unused_allowances:
        lines.append(f"note: --allow-destroy {a} matches no protected delete/replace in this plan")
    lines.append(
        "Policy gate: REFUSED" if result.refused else "Policy gate: passed"
    )
    return "\n".join(lines)
