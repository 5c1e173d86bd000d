"""Every IAM grant a root's plan makes: `*_iam_member`, `*_iam_binding` and `*_iam_policy`
resources at organization, folder, billing account, project and resource level, with their
conditions; members and scopes known only after apply resolved through the plan
(`PlanView.trace`). Custom roles the plans define are read too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from generator.iam import identities, scopes
from generator.iam.planview import Instance, Known, Opaque, PlanView
from generator.iam.snapshot import Role

_IAM = re.compile(r"^(?P<base>.+)_iam_(?P<kind>member|binding|policy)$")

# resource type prefix -> (scope kind, the attributes that name the scope)
IAM_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "google_project": ("project", ("project",)),
    "google_folder": ("folder", ("folder",)),
    "google_organization": ("organization", ("org_id",)),
    "google_billing_account": ("billing_account", ("billing_account_id",)),
    "google_storage_bucket": ("bucket", ("bucket",)),
    "google_bigquery_dataset": ("dataset", ("project", "dataset_id")),
    "google_bigquery_table": ("table", ("project", "dataset_id", "table_id")),
    "google_secret_manager_secret": ("secret", ("project", "secret_id")),
    "google_artifact_registry_repository": ("repository", ("project", "location", "repository")),
    "google_service_account": ("service_account", ("service_account_id",)),
    "google_kms_crypto_key": ("key", ("crypto_key_id",)),
    "google_kms_key_ring": ("key_ring", ("key_ring_id",)),
    "google_pubsub_topic": ("topic", ("project", "topic")),
    "google_pubsub_subscription": ("subscription", ("project", "subscription")),
    "google_workbench_instance": ("instance", ("project", "location", "name")),
    "google_dataplex_datascan": ("datascan", ("project", "location", "data_scan_id")),
}
CUSTOM_ROLE_TYPES = {
    "google_project_iam_custom_role": "projects/{project}/roles/{role_id}",
    "google_organization_iam_custom_role": "organizations/{org_id}/roles/{role_id}",
}


@dataclass(frozen=True)
class Grant:
    """One role to one principal on one scope, as a plan makes it."""

    root: str
    address: str
    role: str
    principal: str | None  # canonical (identities.principal); None: not resolvable
    scope: str | None  # canonical (scopes); None: not resolvable
    condition: str = ""  # CEL expression, "" for none
    unresolved: str = ""  # why principal or scope is None
    implicit: str = ""  # not a plan resource: why the principal holds the role

    def label(self) -> str:
        where = f"{self.address} ({self.root})" if self.address else self.root
        return self.implicit or where


@dataclass(frozen=True)
class Unsupported:
    root: str
    address: str
    message: str


def is_iam_type(rtype: str) -> bool:
    return bool(_IAM.match(rtype))


def _value(view: PlanView, inst: Instance, attr: str) -> tuple[str | None, str]:
    """A string attribute of a grant resource: known, or resolved through the plan."""
    traced = view.trace(inst, attr)
    if isinstance(traced, Known):
        value = traced.value
        return (str(value), "") if value not in (None, "") else (None, f"{attr} is not set")
    if isinstance(traced, identities.Resolved):
        return (f"number:{traced.text}" if traced.kind == "number" else traced.text), ""
    why = traced.why if isinstance(traced, Opaque) else "the instance it refers to is missing"
    return None, f"{attr} is known only after apply and cannot be traced: {why}"


def _scope(view: PlanView, inst: Instance, kind: str, attrs: tuple[str, ...]
           ) -> tuple[str | None, str]:
    parts: list[str] = []
    for attr in attrs:
        value, why = _value(view, inst, attr)
        if value is None:
            return None, why
        parts.append(value)
    if kind == "project" and parts[0].startswith("projects/"):
        parts[0] = parts[0][len("projects/"):]
    try:
        return scopes.name(kind, *_drop_redundant(parts)), ""
    except scopes.ScopeError as exc:
        return None, str(exc)


def _drop_redundant(parts: list[str]) -> list[str]:
    """When the last part is already a full API name, it alone names the scope."""
    return [parts[-1]] if len(parts) > 1 and parts[-1].startswith("projects/") else parts


def _member_principals(view: PlanView, inst: Instance, kind: str,
                       numbers: Mapping[str, str]) -> Iterator[tuple[str | None, str, str]]:
    """(principal, condition, why unresolved) for the member(s) of a member/binding resource."""
    condition = _condition(inst.values.get("condition"))
    if kind == "member":
        text, why = _value(view, inst, "member")
        yield (_canonical(text, numbers), condition, why)
        return
    members = inst.known("members")
    if not isinstance(members, list):
        yield None, condition, "members are known only after apply"
        return
    for m in members:
        yield _canonical(str(m), numbers), condition, ""


def _canonical(text: str | None, numbers: Mapping[str, str]) -> str | None:
    if text is None:
        return None
    if text.startswith(("agent:", "number:")):
        return text
    return identities.principal(text, numbers)


def _condition(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return str(value[0].get("expression") or "")
    if isinstance(value, Mapping):
        return str(value.get("expression") or "")
    return ""


def _policy_bindings(inst: Instance) -> Iterator[tuple[str, list[str], str]]:
    raw = inst.known("policy_data")
    try:
        policy = json.loads(raw) if isinstance(raw, str) and raw.strip() else {}
    except ValueError:
        policy = {}
    for binding in policy.get("bindings") or []:
        yield (str(binding.get("role", "")), [str(m) for m in binding.get("members") or []],
               _condition(binding.get("condition")))


def grants_of(view: PlanView, numbers: Mapping[str, str]
              ) -> tuple[list[Grant], list[Unsupported]]:
    """The grants of one root's plan (and the IAM resources this module does not read)."""
    out: list[Grant] = []
    unsupported: list[Unsupported] = []
    for inst in view.managed():
        m = _IAM.match(inst.address.type)
        if not m:
            continue
        address = str(inst.address)
        spec = IAM_TYPES.get(m.group("base"))
        if spec is None:
            unsupported.append(Unsupported(view.root, address,
                                           f"{inst.address.type} is not an IAM type the iam "
                                           "stage knows (generator/iam/grants.py IAM_TYPES)"))
            continue
        scope, scope_why = _scope(view, inst, *spec)
        if m.group("kind") == "policy":
            if inst.known("policy_data") is None:
                unsupported.append(Unsupported(view.root, address,
                                               "policy_data is known only after apply"))
            for role, members, condition in _policy_bindings(inst):
                out += [Grant(view.root, address, role, _canonical(member, numbers), scope,
                              condition, scope_why) for member in members]
            continue
        role = inst.known("role")
        for principal, condition, why in _member_principals(view, inst, m.group("kind"),
                                                            numbers):
            out.append(Grant(view.root, address, str(role or ""), principal, scope, condition,
                             "; ".join(w for w in (why, scope_why) if w)))
    return out, unsupported


def custom_roles(view: PlanView) -> list[Role]:
    """Custom roles the plan defines, under the names grants use for them."""
    out = []
    for inst in view.managed():
        template = CUSTOM_ROLE_TYPES.get(inst.address.type)
        perms = inst.known("permissions")
        if template is None or not isinstance(perms, list):
            continue
        try:
            name = template.format(**{k: inst.values.get(k) for k in
                                      ("project", "org_id", "role_id")})
        except (KeyError, IndexError):
            continue
        out.append(Role(name, str(inst.values.get("title") or ""),
                        str(inst.values.get("stage") or "GA"), frozenset(map(str, perms))))
    return out


def hierarchy_of(views: list[PlanView]) -> scopes.Hierarchy:
    """Projects' parents and numbers, and buckets' projects, from every plan."""
    h = scopes.Hierarchy()
    for view in views:
        for inst in view.instances.values():
            rtype = inst.address.type
            if rtype == "google_project":
                project = inst.known("project_id")
                if isinstance(project, str):
                    h.add_project(project, {k: inst.known(k) for k in
                                            ("folder_id", "org_id", "number")})
            elif rtype == "google_storage_bucket" and inst.address.mode == "managed":
                bucket, project = inst.known("name"), inst.known("project")
                if isinstance(bucket, str) and isinstance(project, str):
                    h.bucket_project[f"buckets/{bucket}"] = f"projects/{project}"
    return h
