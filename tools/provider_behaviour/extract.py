"""What each resource type does on change and which values it accepts, read from a provider's
Go source through `goeval`: SDKv2 schemas (`ForceNew`, `ValidateFunc`, `ValidateDiagFunc`,
`Elem`, `CustomizeDiff`) and plugin-framework schemas (`RequiresReplace` plan modifiers,
`Validators`).

Paths are lists of attribute names; "*" stands for every element of a list, set or map (and
for every element of a list or set block).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from .goast import Assign, Call, Composite, ExprStmt, FuncLit, If, Name, Node, Selector, walk
from .goeval import (
    ClosureVal,
    Env,
    Evaluator,
    FuncVal,
    ListVal,
    MapVal,
    Opaque,
    Result,
    StructVal,
    Thunk,
    known,
)
from .validators import LIBRARY, Checks, callee, from_value

Path = list[str]
SDK_SCHEMA = "helper/schema.Schema"
SDK_RESOURCE = "helper/schema.Resource"


@dataclass
class Behaviour:
    """What one resource type's source says."""

    source: str = ""
    force_new: list[Path] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    conditional: list[dict[str, Any]] = field(default_factory=list)
    not_read: list[dict[str, Any]] = field(default_factory=list)
    id_format: str = ""  # the Create function's `id, err := ReplaceVars(d, config, "...")`
    id_shortens: bool = False  # ReplaceVarsForId: each value's last path segment goes in
    paths: set[tuple[str, ...]] = field(default_factory=set)  # every path the source declares

    def add_checks(self, found: Checks, path: Path, via: str) -> None:
        for check in found.checks:
            self.checks.append({"path": path, **check, "via": via})
        for what in found.unsupported:
            self.not_read.append({"path": path, "what": f"{via}: {what}" if via else what})


# ------------------------------------------------------------------------------ SDKv2


def sdk_type(s: StructVal) -> str:
    t = s.get("Type")
    name = getattr(t, "name", "")
    return str(name).rsplit(".", 1)[-1]


def read_sdk_resource(res: Any, out: Behaviour) -> None:
    res = known(res)
    if not isinstance(res, StructVal) or not res.is_a(SDK_RESOURCE):
        out.not_read.append({"path": [], "what": f"resource not readable: {_why(res)}"})
        return
    out.source = out.source or res.file
    read_sdk_map(res.get("Schema"), [], out)
    read_customize_diff(res.get("CustomizeDiff"), out)
    out.id_format, out.id_shortens = (
        id_format(res.get("Create")) or id_format(res.get("CreateContext")) or ("", False)
    )


def read_sdk_map(schema: Any, prefix: Path, out: Behaviour) -> None:
    if not isinstance(schema, MapVal):
        out.not_read.append({"path": prefix, "what": f"schema map not readable: {_why(schema)}"})
        return
    for name in sorted(schema.items, key=str):
        value = schema.get(name)
        path = [*prefix, str(name)]
        if not isinstance(value, StructVal) or not value.is_a(SDK_SCHEMA):
            out.not_read.append({"path": path, "what": f"attribute not readable: {_why(value)}"})
            continue
        read_sdk_attribute(value, path, out)


def read_sdk_attribute(s: StructVal, path: Path, out: Behaviour) -> None:
    out.paths.add(tuple(path))
    if s.get("ForceNew") is True:
        out.force_new.append(path)
    for key in ("ValidateFunc", "ValidateDiagFunc"):
        thunk = s.fields.get(key)
        if thunk is not None:
            node = thunk.node if isinstance(thunk, Thunk) else None
            out.add_checks(from_value(thunk), path, callee(node))
    if sdk_type(s) not in ("TypeList", "TypeSet", "TypeMap") or "Elem" not in s.fields:
        return
    elem = s.get("Elem")
    if isinstance(elem, StructVal) and elem.is_a(SDK_RESOURCE):
        read_sdk_map(elem.get("Schema"), [*path, "*"], out)
    elif isinstance(elem, StructVal) and elem.is_a(SDK_SCHEMA):
        read_sdk_attribute(elem, [*path, "*"], out)
    else:
        out.not_read.append({"path": path, "what": f"Elem not readable: {_why(elem)}"})


def flat_path(key: str) -> Path:
    """`retention_policy.0.is_locked` (an SDK flatmap key) -> [retention_policy, *, is_locked]."""
    return ["*" if part.isdigit() else part for part in key.split(".")]


def read_customize_diff(value: Any, out: Behaviour) -> None:
    value = known(value)
    if isinstance(value, Result) and value.name in ("customdiff.All", "customdiff.Sequence"):
        for a in value.args:
            read_customize_diff(a, out)
    elif isinstance(value, Result) and value.name.startswith("customdiff.ForceNewIf"):
        key = value.args[0] if value.args else None
        if isinstance(key, str):
            how = _function_name(value.args[1]) if len(value.args) > 1 else ""
            out.conditional.append(
                {"path": flat_path(key), "via": f"{value.name}({how})"}
            )
    elif isinstance(value, FuncVal | ClosureVal):
        read_diff_function(value, out)


def _function_name(value: Any) -> str:
    value = known(value)
    if isinstance(value, FuncVal):
        return value.decl.name
    return "func literal" if isinstance(value, ClosureVal) else _why(value)


def read_diff_function(fn: FuncVal | ClosureVal, out: Behaviour) -> None:
    """`d.ForceNew("k")` calls of a CustomizeDiff function. One directly inside a top-level
    `if d.HasChange("k") {` is replace-on-change of k; any other is conditional."""
    if isinstance(fn, FuncVal):
        try:
            body = fn.decl.file.body(fn.decl)
        except Exception as error:
            out.not_read.append({"path": [], "what": f"CustomizeDiff {fn.decl.name}: {error}"})
            return
        name = fn.decl.name
    else:
        body, name = fn.lit.body, "func literal"
    on_change = set()
    for stmt in body.stmts:
        changed = _has_change_key(stmt)
        if changed is not None and isinstance(stmt, If):
            for inner in stmt.body.stmts:
                if isinstance(inner, ExprStmt) and _force_new_key(inner.x) == changed:
                    on_change.add(changed)
    for node in walk(body):
        key = _force_new_key(node) if isinstance(node, Call) else None
        if key is None:
            continue
        if key in on_change:
            out.force_new.append(flat_path(key))
        else:
            out.conditional.append({"path": flat_path(key), "via": f"CustomizeDiff {name}"})


def _has_change_key(stmt: Node) -> str | None:
    if not isinstance(stmt, If) or stmt.init is not None:
        return None
    cond = stmt.cond
    if isinstance(cond, Call) and isinstance(cond.fn, Selector) and cond.fn.sel == "HasChange":
        arg = cond.args[0] if cond.args else None
        return arg.value if getattr(arg, "kind", "") == "string" else None  # type: ignore[union-attr]
    return None


def _force_new_key(node: Node) -> str | None:
    if isinstance(node, Call) and isinstance(node.fn, Selector) and node.fn.sel == "ForceNew":
        arg = node.args[0] if len(node.args) == 1 else None
        if arg is not None and getattr(arg, "kind", "") == "string":
            return str(arg.value)  # type: ignore[attr-defined]
    return None


def id_format(create: Any) -> tuple[str, bool] | None:
    """The template a Create function builds the resource id from, if it has one, and whether
    the values are shortened to their last path segment:
    `id, err := tpgresource.ReplaceVars(d, config, "projects/{{project}}/secrets/{{secret_id}}")`
    followed by `d.SetId(id)` (what magic-modules generates) puts values in as they are;
    `ReplaceVarsForId` shortens them (GetResourceNameFromSelfLink)."""
    if not isinstance(create, FuncVal):
        return None
    try:
        body = create.decl.file.body(create.decl)
    except Exception:
        return None
    for stmt in body.stmts:
        if isinstance(stmt, Assign) and stmt.lhs and isinstance(stmt.lhs[0], Name) and \
                stmt.lhs[0].id == "id" and len(stmt.rhs) == 1:
            call = stmt.rhs[0]
            if isinstance(call, Call) and isinstance(call.fn, Selector) and \
                    call.fn.sel in ("ReplaceVars", "ReplaceVarsForId") and len(call.args) == 3 and \
                    getattr(call.args[2], "kind", "") == "string":
                template = str(call.args[2].value)  # type: ignore[attr-defined]
                return template, call.fn.sel == "ReplaceVarsForId"
    return None


def _why(value: Any) -> str:
    if isinstance(value, Opaque):
        return value.why
    if isinstance(value, StructVal):
        return value.type.rsplit("/", 1)[-1]
    return type(value).__name__


# ------------------------------------------------------------------------------ framework

FW_COLLECTION_VALIDATORS = ("ValueStringsAre", "ValueInt64sAre", "ValueFloat64sAre")


def read_fw_schema(schema: Any, out: Behaviour, prefix: Path | None = None) -> None:
    schema = known(schema)
    prefix = prefix or []
    if not isinstance(schema, StructVal):
        out.not_read.append({"path": prefix, "what": f"framework schema: {_why(schema)}"})
        return
    out.source = out.source or schema.file
    attrs = schema.get("Attributes")
    for name, a in sorted(attrs.items.items()) if isinstance(attrs, MapVal) else ():
        read_fw_node(known(a), [*prefix, str(name)], out, "attribute")
    blocks = schema.get("Blocks")
    for name, b in sorted(blocks.items.items()) if isinstance(blocks, MapVal) else ():
        read_fw_node(known(b), [*prefix, str(name)], out, "block")


def _fw_nested_prefix(node: StructVal, path: Path) -> Path:
    single = node.type.rsplit(".", 1)[-1].startswith("Single")
    return path if single else [*path, "*"]


def read_fw_node(node: Any, path: Path, out: Behaviour, kind: str) -> None:
    """A framework attribute or block: its modifiers, validators and nested attributes."""
    if not isinstance(node, StructVal):
        out.not_read.append({"path": path, "what": f"framework {kind}: {_why(node)}"})
        return
    out.paths.add(tuple(path))
    read_fw_modifiers(node, path, out)
    read_fw_validators(node, path, out)
    nested = node.get("NestedObject")
    if not isinstance(nested, StructVal) and (
        isinstance(node.get("Attributes"), MapVal) or isinstance(node.get("Blocks"), MapVal)
    ):
        nested = node  # a single nested attribute or block holds its attributes itself
    if isinstance(nested, StructVal):
        read_fw_schema(nested, out, _fw_nested_prefix(node, path))


def read_fw_modifiers(a: StructVal, path: Path, out: Behaviour) -> None:
    mods = a.get("PlanModifiers")
    for m in mods.values() if isinstance(mods, ListVal) else ():
        if isinstance(m, Result) and m.name.endswith("planmodifier.RequiresReplace"):
            out.force_new.append(path)
        elif isinstance(m, Result) and "RequiresReplace" in m.name:
            out.conditional.append({"path": path, "via": m.name})


def read_fw_validators(a: StructVal, path: Path, out: Behaviour) -> None:
    thunk = a.fields.get("Validators")
    vals = known(thunk)
    if not isinstance(vals, ListVal):
        return
    for i, v in enumerate(vals.values()):
        node = _list_item_node(thunk, i)
        if isinstance(v, Result) and v.name.endswith(FW_COLLECTION_VALIDATORS):
            for inner in v.args:
                out.add_checks(from_value(inner), [*path, "*"], callee(node))
        else:
            out.add_checks(from_value(v), path, callee(node))


def _list_item_node(thunk: Any, i: int) -> Node | None:
    if isinstance(thunk, Thunk) and isinstance(thunk.node, Composite) and i < len(
        thunk.node.elts
    ):
        return thunk.node.elts[i]
    return None


# ------------------------------------------------------------------------------ registrations

REGISTRATION_RE = re.compile(r'registry\.(?:Schema|FrameworkResource)\{\s*Name:\s*"(\w+)"')
RESOURCE_KINDS = ("SchemaTypeResource", "SchemaTypeIAMResource")


def google_registrations(
    ev: Evaluator, root: str, wanted: set[str]
) -> Iterator[tuple[str, Any, str]]:
    """(type, resource value, kind) of the wanted types registered under ROOT/services."""
    prefix = PurePosixPath(root) / "services"
    for path in ev.go_files():
        if prefix not in path.parents:
            continue
        text = ev.source.read(path)
        if not set(REGISTRATION_RE.findall(text)) & wanted:
            continue
        env = ev.env_for(path)
        if env is None:
            continue
        yield from _registrations_in(ev, env, wanted)


def _registrations_in(ev: Evaluator, env: Env, wanted: set[str]) -> Iterator[tuple[str, Any, str]]:
    for decl in env.file.funcs:
        if decl.name != "init" or decl.recv:
            continue
        for node in walk(env.file.body(decl)):
            if not (isinstance(node, Composite) and isinstance(node.type, Selector)):
                continue
            if node.type.sel not in ("Schema", "FrameworkResource"):
                continue
            reg = ev.eval(node, env)
            if not isinstance(reg, StructVal) or reg.get("Name") not in wanted:
                continue
            if node.type.sel == "FrameworkResource":
                yield str(reg.get("Name")), framework_schema(ev, reg.get("Func")), "framework"
                continue
            kind_field = reg.fields.get("Type")
            kind = callee(kind_field.node) if isinstance(kind_field, Thunk) else ""
            if kind.endswith(RESOURCE_KINDS):
                yield str(reg.get("Name")), reg.fields.get("Schema"), "sdk"


def framework_schema(ev: Evaluator, constructor: Any) -> Any:
    """The schema.Schema a framework resource's Schema method assigns to resp.Schema."""
    res = ev.apply(constructor, [])
    if not isinstance(res, StructVal):
        return Opaque(f"framework resource constructor: {_why(res)}")
    resp = StructVal("response", {})
    pkg_path, _, type_name = res.type.rpartition(".")
    pkg = ev.package(pkg_path)
    decl = pkg.method(type_name, "Schema") if pkg else None
    if decl is None or pkg is None:
        return Opaque(f"no Schema method on {type_name}")
    params = decl.params
    args: list[Any] = [Opaque("ctx"), Opaque("request"), resp][: len(params)]
    ev.apply(FuncVal(decl, pkg), args)
    return resp.fields.get("Schema", Opaque("Schema method set no resp.Schema"))


def github_registrations(
    ev: Evaluator, package: str, wanted: set[str]
) -> Iterator[tuple[str, Any, str]]:
    """The wanted entries of the github provider's ResourcesMap (NewProvider(...)())."""
    pkg = ev.package(package)
    new = pkg.lookup("NewProvider") if pkg else None
    if pkg is None or new is None or not hasattr(new, "params"):
        return
    factory = ev.apply(FuncVal(new, pkg), ["", ""])  # type: ignore[arg-type]
    provider = ev.apply(factory, []) if isinstance(factory, ClosureVal | FuncVal) else factory
    resources = provider.get("ResourcesMap") if isinstance(provider, StructVal) else None
    if not isinstance(resources, MapVal):
        return
    for name in sorted(set(resources.items) & wanted):
        yield str(name), resources.items[name], "sdk"


def new_evaluator(source: Any, module: str) -> Evaluator:
    return Evaluator(source, module, LIBRARY)


# keep the imported names used by type checkers of callers
_ = (FuncLit, Name)
