#!/usr/bin/env python3
"""Regenerate the offline provider schema snapshot from the PyPI binding packages.

Sources (ground truth for names, see docs/decisions/0002-offline-stand-in-provider.md):

    cdktn-provider-google==21.1.0       -> registry.terraform.io/hashicorp/google 8.7.0
    cdktn-provider-google-beta==21.1.0  -> registry.terraform.io/hashicorp/google-beta 8.7.0
    cdktn-provider-github==18.0.0       -> registry.terraform.io/integrations/github 6.13.0

Each wheel carries a jsii tarball (`<pkg>/_jsii/*.jsii.tgz`) with the generated JavaScript
(`package/lib/<module>/index.js`, big modules split into `index-structs/*.js`) and the jsii
assembly (`package/.jsii`). The JavaScript is read for:

* `static tfResourceType = "..."` on classes extending cdktn.TerraformResource / DataSource /
  EphemeralResource / Provider: the Terraform type name;
* `synthesizeHclAttributes()` and `<struct>ToHclTerraform()`: every configurable argument by its
  Terraform name with `isBlock`, `type` (simple/list/set/map/struct) and `storageClassType`;
  `markWriteOnlyAttribute(` marks write-only arguments; a block value passed through
  `listMapperHcl(fn, true)` is a list, a direct `fn(...)` call a list with max_items = 1;
* `// name - computed: X, optional: Y, required: Z` comments: the provider schema's own flags,
  also for computed-only attributes, whose type comes from the getter
  (`getStringAttribute`, `getListAttribute`, `new cdktn.StringMap(...)`,
  `new XList(this, "n", set)`).

The jsii assembly cross-checks it: every configurable argument has a property whose docs link
ends in `#<name>`, and `optional` agrees with the `required` flag. Disagreements are printed and
make the script exit 1.

The snapshot keeps only the types the templates and modules use (scanned from
`terraform/modules/**/*.tf` and `templates/**/*.tf*`) plus EXTRA_TYPES below, and the list of
all type names per provider (so a type missing from the snapshot can be told apart from a type
the provider does not have). Usage:

    python tools/refresh_provider_schemas.py                  # pip download the wheels
    python tools/refresh_provider_schemas.py --wheels DIR     # use wheels already in DIR
    python tools/refresh_provider_schemas.py --check          # exit 1 if the snapshot is stale
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "generator" / "offline" / "schemas" / "providers.json.gz"

# (address, local name, provider version, pip requirement)
PROVIDERS: list[tuple[str, str, str, str]] = [
    ("registry.terraform.io/hashicorp/google", "google", "8.7.0", "cdktn-provider-google==21.1.0"),
    (
        "registry.terraform.io/hashicorp/google-beta",
        "google-beta",
        "8.7.0",
        "cdktn-provider-google-beta==21.1.0",
    ),
    (
        "registry.terraform.io/integrations/github",
        "github",
        "6.13.0",
        "cdktn-provider-github==18.0.0",
    ),
]

# Types the templates use or are about to use, beyond what the scan finds. Data sources are
# written "data.<type>", ephemeral resources "ephemeral.<type>". Names missing from a provider
# are reported (and skipped) so a typo here is noticed.
EXTRA_TYPES: list[str] = [
    # projects, services, identities
    "google_project",
    "google_project_service",
    "google_project_service_identity",
    "google_project_iam_member",
    "google_project_iam_binding",
    "google_project_iam_custom_role",
    "google_project_iam_audit_config",
    "google_project_default_service_accounts",
    "google_project_organization_policy",
    "google_org_policy_policy",
    "google_resource_manager_lien",
    "google_billing_account_iam_member",
    "google_billing_budget",
    "google_folder",
    "google_folder_iam_member",
    "google_organization_iam_member",
    "google_essential_contacts_contact",
    "google_tags_tag_key",
    "google_tags_tag_value",
    "google_tags_tag_binding",
    # service accounts
    "google_service_account",
    "google_service_account_iam_member",
    "google_service_account_iam_binding",
    # storage
    "google_storage_bucket",
    "google_storage_bucket_iam_member",
    "google_storage_bucket_iam_binding",
    "google_storage_bucket_object",
    "google_storage_managed_folder",
    "google_storage_notification",
    # bigquery
    "google_bigquery_dataset",
    "google_bigquery_dataset_iam_member",
    "google_bigquery_dataset_access",
    "google_bigquery_table",
    "google_bigquery_table_iam_member",
    "google_bigquery_connection",
    "google_bigquery_routine",
    "google_bigquery_data_transfer_config",
    # vertex ai
    "google_vertex_ai_tensorboard",
    "google_vertex_ai_endpoint",
    "google_vertex_ai_endpoint_iam_member",
    "google_vertex_ai_feature_online_store",
    "google_vertex_ai_feature_online_store_featureview",
    "google_vertex_ai_feature_group",
    "google_vertex_ai_feature_group_feature",
    "google_vertex_ai_metadata_store",
    "google_vertex_ai_dataset",
    "google_vertex_ai_index",
    "google_vertex_ai_index_endpoint",
    "google_vertex_ai_deployment_resource_pool",
    "google_vertex_ai_featurestore",
    "google_workbench_instance",
    "google_workbench_instance_iam_member",
    # artifact registry
    "google_artifact_registry_repository",
    "google_artifact_registry_repository_iam_member",
    # pubsub
    "google_pubsub_topic",
    "google_pubsub_topic_iam_member",
    "google_pubsub_subscription",
    "google_pubsub_subscription_iam_member",
    # monitoring and logging
    "google_monitoring_notification_channel",
    "google_monitoring_alert_policy",
    "google_monitoring_dashboard",
    "google_monitoring_uptime_check_config",
    "google_logging_project_bucket_config",
    "google_logging_project_sink",
    "google_logging_project_exclusion",
    "google_logging_metric",
    "google_logging_linked_dataset",
    # kms
    "google_kms_key_ring",
    "google_kms_crypto_key",
    "google_kms_crypto_key_iam_member",
    "google_kms_key_ring_iam_member",
    # cloud build
    "google_cloudbuild_trigger",
    "google_cloudbuild_worker_pool",
    "google_cloudbuildv2_connection",
    "google_cloudbuildv2_connection_iam_member",
    "google_cloudbuildv2_repository",
    "google_cloudbuild_bitbucket_server_config",
    # secret manager
    "google_secret_manager_secret",
    "google_secret_manager_secret_version",
    "google_secret_manager_secret_iam_member",
    # workload identity federation
    "google_iam_workload_identity_pool",
    "google_iam_workload_identity_pool_provider",
    # networking used by private endpoints / workbench
    "google_compute_network",
    "google_compute_subnetwork",
    "google_compute_router",
    "google_compute_router_nat",
    "google_compute_firewall",
    "google_compute_global_address",
    "google_service_networking_connection",
    "google_dns_managed_zone",
    "google_vpc_access_connector",
    # runtimes the workload may use
    "google_cloud_run_v2_service",
    "google_cloud_run_v2_service_iam_member",
    "google_cloud_run_v2_job",
    "google_cloud_run_v2_job_iam_member",
    "google_cloud_scheduler_job",
    "google_cloudfunctions2_function",
    "google_dataflow_flex_template_job",
    "google_composer_environment",
    "google_workflows_workflow",
    "google_eventarc_trigger",
    "google_dataplex_lake",
    "google_access_context_manager_service_perimeter",
    # data sources
    "data.google_project",
    "data.google_projects",
    "data.google_client_config",
    "data.google_client_openid_userinfo",
    "data.google_billing_account",
    "data.google_organization",
    "data.google_folder",
    "data.google_service_account",
    "data.google_storage_project_service_account",
    "data.google_storage_bucket",
    "data.google_bigquery_default_service_account",
    "data.google_iam_policy",
    "data.google_iam_role",
    "data.google_kms_key_ring",
    "data.google_kms_crypto_key",
    "data.google_secret_manager_secret",
    "data.google_secret_manager_secret_version",
    "data.google_artifact_registry_repository",
    "data.google_compute_network",
    "data.google_compute_default_service_account",
    "data.google_cloudbuild_trigger",
    "data.google_project_service",
    # ephemeral
    "ephemeral.google_service_account_access_token",
    "ephemeral.google_secret_manager_secret_version",
    # github
    "github_repository",
    "github_branch",
    "github_branch_default",
    "github_branch_protection",
    "github_repository_ruleset",
    "github_repository_file",
    "github_repository_environment",
    "github_repository_environment_deployment_policy",
    "github_repository_collaborators",
    "github_repository_webhook",
    "github_team",
    "github_team_repository",
    "github_actions_secret",
    "github_actions_variable",
    "github_actions_environment_secret",
    "github_actions_environment_variable",
    "github_actions_repository_permissions",
    "github_actions_repository_access_level",
    "github_actions_repository_oidc_subject_claim_customization_template",
    "data.github_repository",
    "data.github_user",
    "data.github_team",
    "data.github_organization",
    "data.github_ref",
    "data.github_branch",
]

TOP_BASES = {
    "TerraformResource": "resource",
    "TerraformDataSource": "data",
    "TerraformEphemeralResource": "ephemeral",
    "TerraformProvider": "provider",
}
DECL_RE = re.compile(r"^(?:function (\w+)\(|class (\w+) extends ([\w.]+) \{)", re.M)
FLAGS_RE = re.compile(
    r"^\s+// (\S+) - computed: (true|false), optional: (true|false), required: (true|false)\s*$",
    re.M,
)
ENTRY_RE = re.compile(
    r'^\s+(?:"([^"]+)"|([A-Za-z_$][\w$]*)): \{\s*\n'
    r"\s+value: (.*?),\s*\n"
    r"\s+isBlock: (true|false),\s*\n"
    r'\s+type: "(\w+)",\s*\n'
    r'\s+storageClassType: "(\w+)",\s*\n'
    r"\s+\}",
    re.M | re.S,
)
TFTYPE_RE = re.compile(r'static tfResourceType = "([^"]+)";')
HCL_FN_RE = re.compile(r"(?:[\w$]+\.)?(\w+)ToHclTerraform\b")
GETTER_RE = re.compile(r"this\.get(\w+)Attribute\('([^']+)'\)")
NEWCLS_RE = re.compile(r'= new ((?:[\w$]+\.)?\w+)\(this, "([^"]+)"(?:, (true|false))?\)')
DOC_ANCHOR_RE = re.compile(
    r"\{@link https://registry\.terraform\.io/providers/\S+?#([\w-]+) \S+?\}"
)

PRIMS = {"string": "string", "number": "number", "boolean": "bool"}
GETTER_TYPES: dict[str, Any] = {
    "String": "string",
    "Number": "number",
    "Boolean": "bool",
    "List": ["list", "string"],
    "NumberList": ["list", "number"],
    "StringMap": ["map", "string"],
    "NumberMap": ["map", "number"],
    "BooleanMap": ["map", "bool"],
    "AnyMap": ["map", "dynamic"],
}
MAP_CLASSES: dict[str, Any] = {
    "cdktn.StringMap": ["map", "string"],
    "cdktn.NumberMap": ["map", "number"],
    "cdktn.BooleanMap": ["map", "bool"],
    "cdktn.AnyMap": ["map", "dynamic"],
    "cdktn.StringMapList": ["list", ["map", "string"]],
    "cdktn.NumberMapList": ["list", ["map", "number"]],
    "cdktn.BooleanMapList": ["list", ["map", "bool"]],
    "cdktn.AnyMapList": ["list", ["map", "dynamic"]],
}


class SchemaError(Exception):
    """The generated code did not look as this script expects."""


@dataclass
class Flags:
    computed: bool
    optional: bool
    required: bool

    def code(self) -> str:
        if self.required:
            return "r"
        if self.optional and self.computed:
            return "oc"
        if self.optional:
            return "o"
        return "c"


@dataclass
class ClassInfo:
    name: str
    base: str
    body: str
    flags: dict[str, Flags] = field(default_factory=dict)
    segments: dict[str, str] = field(default_factory=dict)  # attr name -> code after its comment


@dataclass
class Entry:
    name: str
    value: str
    is_block: bool
    kind: str  # simple | list | set | map | struct
    storage: str

    @property
    def write_only(self) -> bool:
        return "markWriteOnlyAttribute(" in self.value


@dataclass
class Package:
    label: str
    assembly: dict[str, Any]
    js: dict[str, str]  # path under lib/ -> text


def read_wheel(path: Path) -> Package:
    """Read the jsii assembly and the generated JavaScript out of a binding wheel."""
    with zipfile.ZipFile(path) as zf:
        inner = [n for n in zf.namelist() if n.endswith(".jsii.tgz")]
        if len(inner) != 1:
            raise SchemaError(f"{path.name}: expected one *.jsii.tgz, found {inner}")
        blob = zf.read(inner[0])
    assembly: dict[str, Any] | None = None
    js: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tf:
        for member in tf:
            if not member.isfile():
                continue
            fh = tf.extractfile(member)
            if fh is None:
                continue
            if member.name == "package/.jsii":
                assembly = json.load(fh)
            elif member.name.startswith("package/lib/") and member.name.endswith(".js"):
                js[member.name[len("package/lib/") :]] = fh.read().decode("utf-8")
    if assembly is None:
        raise SchemaError(f"{path.name}: no package/.jsii in the jsii tarball")
    return Package(f"{path.name}!{inner[0]}", assembly, js)


def split_decls(text: str) -> Iterator[tuple[str, str, str, str]]:
    """Top-level `function name(` and `class Name extends Base {` declarations with their text."""
    matches = list(DECL_RE.finditer(text))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[m.start() : end]
        if m.group(1):
            yield "function", m.group(1), "", body
        else:
            yield "class", m.group(2), m.group(3), body


def parse_entries(body: str) -> dict[str, Entry]:
    start = body.find("const attrs = {")
    if start < 0:
        return {}
    out: dict[str, Entry] = {}
    for m in ENTRY_RE.finditer(body, start):
        name = m.group(1) or m.group(2)
        out[name] = Entry(name, m.group(3), m.group(4) == "true", m.group(5), m.group(6))
    return out


def parse_class(name: str, base: str, body: str) -> ClassInfo:
    info = ClassInfo(name, base, body)
    marks = list(FLAGS_RE.finditer(body))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        attr = m.group(1)
        info.flags[attr] = Flags(m.group(2) == "true", m.group(3) == "true", m.group(4) == "true")
        info.segments[attr] = body[m.end() : end]
    return info


@dataclass
class Module:
    hcl_funcs: dict[str, dict[str, Entry]] = field(default_factory=dict)  # lower(struct) -> entries
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    tops: list[tuple[str, str, str, dict[str, Entry]]] = field(default_factory=list)


def load_modules(js: dict[str, str]) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for rel, text in sorted(js.items()):
        parts = rel.split("/")
        if len(parts) < 2:
            continue  # lib/index.js, lib/lazy-index.js
        mod = modules.setdefault(parts[0], Module())
        for kind, name, base, body in split_decls(text):
            if kind == "function":
                if name.endswith("ToHclTerraform"):
                    mod.hcl_funcs[name[: -len("ToHclTerraform")].lower()] = parse_entries(body)
                continue
            info = parse_class(name, base, body)
            mod.classes[name] = info
            short = base.split(".")[-1]
            if base.split(".")[0] in ("cdktn", "cdktf") and short in TOP_BASES:
                tm = TFTYPE_RE.search(body)
                si = body.find("synthesizeHclAttributes()")
                if si < 0:
                    raise SchemaError(f"{parts[0]}/{name}: no synthesizeHclAttributes()")
                tf_type = tm.group(1) if tm else ""
                mod.tops.append((TOP_BASES[short], name, tf_type, parse_entries(body[si:])))
    return modules


def attr_type(entry: Entry) -> Any:
    """cty type (JSON form) of a configurable, non-block argument."""
    kind, sct = entry.kind, entry.storage
    if kind == "simple" and sct in PRIMS:
        return PRIMS[sct]
    if kind in ("list", "set") and sct.endswith("List") and sct[:-4] in PRIMS:
        return [kind, PRIMS[sct[:-4]]]
    if kind == "map" and sct.endswith("Map") and sct[:-3] in PRIMS:
        return ["map", PRIMS[sct[:-3]]]
    if kind == "map" and sct == "anyMap":
        return ["map", "dynamic"]
    raise SchemaError(f"argument {entry.name}: unsupported type {kind}/{sct}")


class Builder:
    """Turns one module's parsed JavaScript into schema blocks."""

    def __init__(self, mod_name: str, mod: Module, anchors: dict[str, dict[str, bool]]) -> None:
        self.mod_name = mod_name
        self.mod = mod
        self.anchors = anchors  # jsii: flags of the provider block, which has no flag comments
        self.stack: list[str] = []
        self.recursive: list[str] = []  # blocks whose struct repeats an ancestor's (left empty)
        self.problems: list[str] = []

    def block(
        self, entries: dict[str, Entry], cls: ClassInfo | None, where: str, struct: str = ""
    ) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        blocks: dict[str, Any] = {}
        flags = dict(cls.flags) if cls else {}
        jsii = self.anchors.get(struct.lower(), {})
        for name in entries:
            if name not in flags and name in jsii:
                flags[name] = Flags(False, jsii[name], not jsii[name])
        for name, entry in entries.items():
            fl = flags.get(name)
            if entry.is_block:
                blocks[name] = self.nested_block(entry, fl, f"{where}.{name}")
                continue
            if fl is None:
                raise SchemaError(f"{where}.{name}: no computed/optional/required comment")
            code = fl.code() + ("w" if entry.write_only else "")
            attrs[name] = [attr_type(entry), code]
        # computed-only attributes exist only as getters
        for name, fl in flags.items():
            if name in entries or fl.optional or fl.required:
                continue
            assert cls is not None
            attrs[name] = [self.computed_type(cls, name, f"{where}.{name}"), "c"]
        out: dict[str, Any] = {"attrs": dict(sorted(attrs.items()))}
        if blocks:
            out["blocks"] = dict(sorted(blocks.items()))
        return out

    def nested_block(self, entry: Entry, fl: Flags | None, where: str) -> list[Any]:
        m = HCL_FN_RE.search(entry.value)
        if not m:
            raise SchemaError(f"{where}: block value without a *ToHclTerraform function")
        struct = m.group(1)
        entries = self.mod.hcl_funcs.get(struct.lower())
        if entries is None:
            raise SchemaError(f"{where}: function {struct}ToHclTerraform not found")
        if struct in self.stack:
            self.recursive.append(where)
            entries = {}
        elif self.mod_name != "provider":
            flags = {}
            cls0 = self.mod.classes.get(struct[0].upper() + struct[1:] + "OutputReference")
            if cls0:
                flags = cls0.flags
            self.problems += cross_check(where, entries, flags, self.anchors.get(struct.lower()))
        cls = self.mod.classes.get(struct[0].upper() + struct[1:] + "OutputReference")
        required = bool(fl and fl.required)
        if entry.kind == "struct":
            nesting, max_items = "single", 0
        elif entry.kind in ("list", "set"):
            nesting = entry.kind
            is_list_mapped = "listMapperHcl(" in entry.value.split(struct)[0]
            max_items = 0 if is_list_mapped else 1
        else:
            raise SchemaError(f"{where}: unsupported block kind {entry.kind}")
        min_items = 1 if required and nesting != "single" else 0
        self.stack.append(struct)
        try:
            body = self.block(entries, cls if entries else None, where, struct)
        finally:
            self.stack.pop()
        return [nesting, min_items, max_items, body]

    def computed_type(self, cls: ClassInfo, name: str, where: str) -> Any:
        seg = cls.segments[name]
        g = GETTER_RE.search(seg)
        n = NEWCLS_RE.search(seg)
        # whichever construct comes first after the comment belongs to this attribute
        if g and (not n or g.start() < n.start()):
            return self._getter_type(g, seg, name, where)
        if n:
            return self._class_type(n, name, where)
        raise SchemaError(f"{where}: no getter found for computed attribute")

    @staticmethod
    def _getter_type(g: re.Match[str], seg: str, name: str, where: str) -> Any:
        """An attribute read by a `get<Kind>Attribute` getter."""
        if g.group(2) != name:
            raise SchemaError(f"{where}: getter reads {g.group(2)!r}")
        kind = g.group(1)
        if kind not in GETTER_TYPES:
            raise SchemaError(f"{where}: unsupported getter get{kind}Attribute")
        if kind == "List" and "Fn.tolist(this.getListAttribute" in seg[: g.end()]:
            return ["set", "string"]
        return GETTER_TYPES[kind]

    def _class_type(self, n: re.Match[str], name: str, where: str) -> Any:
        """An attribute read through a nested class (a map, a list/set or one object)."""
        if n.group(2) != name:
            raise SchemaError(f"{where}: nested class reads {n.group(2)!r}")
        cname = n.group(1)
        if not cname.startswith(("cdktn.", "cdktf.")):
            cname = cname.split(".")[-1]  # index_1.FooList (classes split into index-structs)
        cname = cname.replace("cdktf.", "cdktn.")
        if cname in MAP_CLASSES:
            return MAP_CLASSES[cname]
        if cname.endswith("List"):
            coll = "set" if n.group(3) == "true" else "list"
            return [coll, self.object_type(self._class(cname[: -len("List")] + "OutputReference",
                                                       where), where)]
        if cname.endswith("OutputReference"):
            return self.object_type(self._class(cname, where), where)
        raise SchemaError(f"{where}: unsupported attribute class {cname}")

    def _class(self, name: str, where: str) -> ClassInfo:
        found = self.mod.classes.get(name)
        if found is None:
            raise SchemaError(f"{where}: class {name} not found")
        return found

    def object_type(self, cls: ClassInfo, where: str) -> list[Any]:
        attrs = {
            name: self.computed_type(cls, name, f"{where}.{name}") for name in sorted(cls.flags)
        }
        return ["object", attrs]


def doc_anchors(assembly: dict[str, Any]) -> dict[str, dict[str, bool]]:
    """{lower(struct fqn tail): {tf_name: optional}} from the jsii assembly's doc links."""
    out: dict[str, dict[str, bool]] = {}
    for fqn, t in assembly.get("types", {}).items():
        if t.get("kind") != "interface" or not t.get("datatype"):
            continue
        props: dict[str, bool] = {}
        for p in t.get("properties", []):
            m = DOC_ANCHOR_RE.search(json.dumps(p.get("docs", {})).replace("\\n", " "))
            # a few descriptions lose the doc link: fall back to the property's own name
            name = m.group(1) if m else re.sub(r"(?<!^)([A-Z])", r"_\1", p["name"]).lower()
            props[name] = bool(p.get("optional"))
        out[fqn.split(".")[-1].lower()] = props
    return out


def cross_check(
    where: str, entries: dict[str, Entry], flags: dict[str, Flags], jsii: dict[str, bool] | None
) -> list[str]:
    if jsii is None:
        return [f"{where}: no jsii struct"]
    problems = []
    for name in sorted(set(entries) ^ set(jsii)):
        side = "JavaScript" if name in entries else "jsii assembly"
        problems.append(f"{where}: {name!r} only in the {side}")
    for name in sorted(set(entries) & set(jsii)):
        fl = flags.get(name)
        if fl is not None and fl.required == jsii[name]:
            problems.append(
                f"{where}.{name}: required={fl.required} but jsii optional={jsii[name]}"
            )
    return problems


@dataclass
class ProviderSchema:
    provider: dict[str, Any]
    types: dict[str, dict[str, Any]]  # "google_x" / "data.google_x" / "ephemeral.google_x"
    problems: list[str]


def extract(pkg: Package) -> ProviderSchema:
    modules = load_modules(pkg.js)
    anchors = doc_anchors(pkg.assembly)
    types: dict[str, dict[str, Any]] = {}
    provider: dict[str, Any] | None = None
    problems: list[str] = []
    for mod_name, mod in modules.items():
        b = Builder(mod_name, mod, anchors)
        for kind, cls_name, tf_type, entries in mod.tops:
            cls = mod.classes[cls_name]
            where = tf_type or cls_name
            node = b.block(entries, cls, where, f"{cls_name}Config")
            problems += cross_check(
                where, entries, cls.flags, anchors.get(f"{cls_name}Config".lower())
            )
            if kind == "provider":
                # `alias` is a meta-argument Terraform core handles, not a provider argument
                node["attrs"].pop("alias", None)
                provider = node
                continue
            key = tf_type if kind == "resource" else f"{kind}.{tf_type}"
            if not tf_type:
                raise SchemaError(f"{mod_name}/{cls_name}: no tfResourceType")
            types[key] = node
        problems += [f"{w}: block repeats an ancestor's struct, left empty" for w in b.recursive]
        problems += b.problems
    if provider is None:
        raise SchemaError(f"{pkg.label}: no provider class")
    return ProviderSchema(provider, types, problems)


# --------------------------------------------------------------------------------------------
# which types to keep

TYPE_RE = re.compile(r'^\s*(resource|data|ephemeral)\s+"([a-z0-9_]+)"', re.M)


def scan_types(paths: Iterable[Path]) -> set[str]:
    """Resource/data/ephemeral types named in Terraform (and Terraform template) files."""
    found: set[str] = set()
    for path in paths:
        for m in TYPE_RE.finditer(path.read_text(encoding="utf-8", errors="replace")):
            kind, name = m.groups()
            found.add(name if kind == "resource" else f"{kind}.{name}")
    return found


def template_files(repo: Path) -> list[Path]:
    files = list((repo / "terraform").glob("**/*.tf"))
    files += [p for p in (repo / "templates").glob("**/*") if p.is_file() and ".tf" in p.name]
    return sorted(files)


def trimmed(schema: ProviderSchema, wanted: set[str]) -> dict[str, dict[str, Any]]:
    return {k: schema.types[k] for k in sorted(wanted) if k in schema.types}


def build_snapshot(wheels: dict[str, Path], wanted: set[str]) -> tuple[dict[str, Any], list[str]]:
    providers: dict[str, Any] = {}
    problems: list[str] = []
    covered: set[str] = set()
    for address, local, version, requirement in PROVIDERS:
        pkg = read_wheel(wheels[requirement])
        pkg_version = pkg.assembly.get("version", "")
        if f"=={pkg_version}" not in requirement:
            raise SchemaError(f"{pkg.label}: assembly version {pkg_version}, wanted {requirement}")
        schema = extract(pkg)
        problems += [f"{local}: {p}" for p in schema.problems]
        kept = trimmed(schema, wanted)
        covered |= set(kept)
        providers[address] = {
            "name": local,
            "version": version,
            "package": requirement,
            "provider": schema.provider,
            "types": kept,
            "all_types": sorted(schema.types),
        }
    for missing in sorted(wanted - covered):
        problems.append(
            f"{missing}: no provider has this type (typo in EXTRA_TYPES or a template?)"
        )
    snapshot = {
        "format": 1,
        "generated_by": "tools/refresh_provider_schemas.py",
        "providers": providers,
    }
    return snapshot, problems


def encode(snapshot: dict[str, Any]) -> bytes:
    raw = json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()
    return gzip.compress(raw, compresslevel=9, mtime=0)


def download(dest: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dest)]
    cmd += [req for *_, req in PROVIDERS]
    subprocess.run(cmd, check=True)


def find_wheels(directory: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for *_, req in PROVIDERS:
        name, version = req.split("==")
        stem = name.replace("-", "_")
        matches = sorted(directory.glob(f"{stem}-{version}-*.whl"))
        if not matches:
            raise SchemaError(f"{req}: no wheel {stem}-{version}-*.whl in {directory}")
        out[req] = matches[0]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheels", type=Path, help="directory holding the three wheels (no download)")
    ap.add_argument("--out", type=Path, default=SNAPSHOT)
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    args = ap.parse_args(argv)
    wanted = scan_types(template_files(REPO)) | set(EXTRA_TYPES)
    with tempfile.TemporaryDirectory() as tmp:
        wheel_dir = args.wheels
        if wheel_dir is None:
            wheel_dir = Path(tmp)
            download(wheel_dir)
        snapshot, problems = build_snapshot(find_wheels(wheel_dir), wanted)
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    data = encode(snapshot)
    if args.check:
        if not args.out.exists() or gzip.decompress(args.out.read_bytes()) != gzip.decompress(data):
            print(f"{args.out} is stale: run tools/refresh_provider_schemas.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    n = sum(len(p["types"]) for p in snapshot["providers"].values())
    print(f"wrote {args.out} ({len(data)} bytes, {n} types)")
    return 1 if any("ancestor" not in p for p in problems) else 0


if __name__ == "__main__":
    sys.exit(main())
