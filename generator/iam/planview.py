"""One root's `terraform show -json` plan: resource instances by address, the configuration by
module path, and the reference tracer for values known only after apply.

The tracer follows what the plan's `configuration` section states, never names: an attribute's
expression references (`references`), `var.X` to the calling module's argument, `module.M.O` to
that module's output expression, `each.value`/`each.key` to the resource's `for_each`, and a
reference to a resource instance to that instance's known attributes (`identities.derive`).
Terraform's JSON keeps constant indexes (`x["k"]`, `x[0]`) but not computed ones
(`x[each.key]`), and it does not describe locals: a path through either is opaque. An
expression whose references lead to more than one value source is ambiguous, hence opaque: the
tracer only answers when the configuration leaves one possibility.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.iam import identities
from generator.iam.address import Address, AddressError, Key, ModuleStep, Step, maximal, parse
from generator.iam.address import steps as parse_steps

MAX_DEPTH = 24


@dataclass(frozen=True)
class Instance:
    address: Address
    values: Mapping[str, Any]
    unknown: Mapping[str, Any]

    def known(self, attr: str) -> Any:
        """The attribute's planned value, or None when unknown (or unset)."""
        if self.unknown.get(attr) is True:
            return None
        return self.values.get(attr)


@dataclass(frozen=True)
class Known:
    value: Any


@dataclass(frozen=True)
class Opaque:
    why: str


@dataclass(frozen=True)
class Missing:
    """A reference to an instance the plan does not have (count = 0, the other branch)."""


Traced = Known | identities.Resolved | Opaque | Missing


@dataclass(frozen=True)
class Scope:
    modules: tuple[ModuleStep, ...]
    instance: Instance | None = None  # the resource whose expression is read (for each.*)


def _module_key(modules: tuple[ModuleStep, ...]) -> tuple[str, ...]:
    return tuple(m.name for m in modules)


@dataclass
class PlanView:
    root: str
    plan: Mapping[str, Any]
    instances: dict[str, Instance] = field(default_factory=dict)
    by_resource: dict[tuple[tuple[ModuleStep, ...], str], dict[Key, Instance]] = field(
        default_factory=dict)
    configs: dict[tuple[str, ...], Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, root: str, plan: Mapping[str, Any]) -> PlanView:
        view = cls(root, plan)
        for rc in plan.get("resource_changes") or []:
            change = rc.get("change") or {}
            after = change.get("after")
            if not isinstance(after, Mapping):
                continue  # deleted
            try:
                address = parse(str(rc.get("address", "")))
            except AddressError:
                continue
            inst = Instance(address, after, change.get("after_unknown") or {})
            view.instances[str(address)] = inst
            view.by_resource.setdefault((address.modules, address.resource), {})[
                address.key] = inst
        view._index_state(((plan.get("prior_state") or {}).get("values") or {}).get("root_module")
                          or {})
        root_module = (plan.get("configuration") or {}).get("root_module") or {}
        view._index_configs((), root_module)
        return view

    def _index_state(self, module: Mapping[str, Any]) -> None:
        """Data sources read while planning are in the prior state, not in resource_changes."""
        for res in module.get("resources") or []:
            if res.get("mode") != "data" or str(res.get("address")) in self.instances:
                continue
            try:
                address = parse(str(res.get("address", "")))
            except AddressError:
                continue
            inst = Instance(address, res.get("values") or {}, {})
            self.instances[str(address)] = inst
            self.by_resource.setdefault((address.modules, address.resource), {})[
                address.key] = inst
        for child in module.get("child_modules") or []:
            self._index_state(child)

    def _index_configs(self, path: tuple[str, ...], module: Mapping[str, Any]) -> None:
        self.configs[path] = module
        for name, call in (module.get("module_calls") or {}).items():
            self._index_configs((*path, name), call.get("module") or {})

    # -- lookups -------------------------------------------------------------------------

    def managed(self) -> Iterator[Instance]:
        return (i for i in self.instances.values() if i.address.mode == "managed")

    def resource_config(self, address: Address) -> Mapping[str, Any]:
        module = self.configs.get(_module_key(address.modules)) or {}
        for res in module.get("resources") or []:
            if res.get("address") == address.resource:
                return dict(res)
        return {}

    def call_config(self, modules: tuple[ModuleStep, ...]) -> Mapping[str, Any]:
        """The module call (in its parent) that creates the module instance `modules`."""
        parent = self.configs.get(_module_key(modules[:-1])) or {}
        return dict((parent.get("module_calls") or {}).get(modules[-1].name) or {})

    def root_variable(self, name: str) -> Any:
        return ((self.plan.get("variables") or {}).get(name) or {}).get("value")

    # -- tracing -------------------------------------------------------------------------

    def trace(self, inst: Instance, attr: str) -> Traced:
        """What the value of `attr` of `inst` is, as far as the plan says."""
        return self._attr(inst, attr, 0)

    def trace_path(self, inst: Instance, path: str) -> Traced:
        """Like `trace`, for a path into nested blocks (`block[0].attr`)."""
        try:
            parts = parse_steps(path)
        except AddressError:
            return Opaque(f"cannot read the path {path}")
        if len(parts) == 1 and not parts[0].indexed:
            return self.trace(inst, parts[0].name)
        value: Any = inst.values
        unknown: Any = inst.unknown
        expr: Any = self.resource_config(inst.address).get("expressions") or {}
        for part in parts:
            value, unknown, expr = (_step(value, part), _step(unknown, part), _step(expr, part))
        if unknown is not True:
            return Known(value)
        return self._expr(expr, Scope(inst.address.modules, inst), 1)

    def _attr(self, inst: Instance, attr: str, depth: int) -> Traced:
        if inst.unknown.get(attr) is not True:
            return Known(inst.values.get(attr))
        derived = identities.derive(inst.address, inst.values, attr)
        if derived is not None:
            return derived
        parent = identities.PARENT_ATTRS.get((inst.address.mode, inst.address.type, attr))
        if parent is not None:  # e.g. a secret version's name: what matters is its secret
            return self._attr(inst, parent, depth + 1)
        if depth > MAX_DEPTH:
            return Opaque("reference chain too deep")
        expr = (self.resource_config(inst.address).get("expressions") or {}).get(attr)
        return self._expr(expr, Scope(inst.address.modules, inst), depth + 1)

    def _expr(self, expr: Any, scope: Scope, depth: int) -> Traced:
        if not isinstance(expr, Mapping):
            return Opaque("no expression in the configuration")
        if "constant_value" in expr:
            return Known(expr["constant_value"])
        refs = maximal([str(r) for r in expr.get("references") or []])
        if not refs:
            return Opaque("an expression without references")
        return combine([self._ref(r, scope, depth) for r in refs])

    def _ref(self, ref: str, scope: Scope, depth: int) -> Traced:
        try:
            parts = parse_steps(ref)
        except AddressError:
            return Opaque(f"cannot read the reference {ref}")
        head = parts[0].name
        handler = _HANDLERS.get(head, PlanView._resource_ref)
        return handler(self, parts, scope, depth)

    def _var_ref(self, parts: tuple[Step, ...], scope: Scope, depth: int) -> Traced:
        if len(parts) < 2:
            return Opaque("var without a name")
        name, rest = parts[1].name, parts[2:]
        if not scope.modules:
            return _index_known(Known(self.root_variable(name)), rest)
        call = self.call_config(scope.modules)
        expr = (call.get("expressions") or {}).get(name)
        if expr is None:
            return Opaque(f"var.{name}: the call passes no value (its default applies)")
        traced = self._expr(expr, Scope(scope.modules[:-1]), depth + 1)
        return _index_known(traced, rest)

    def _module_ref(self, parts: tuple[Step, ...], scope: Scope, depth: int) -> Traced:
        if len(parts) < 3:
            return Opaque("a whole module is not a value")
        call, output = parts[1], parts[2].name
        child_config = self.configs.get((*_module_key(scope.modules), call.name))
        if child_config is None:
            return Opaque(f"no module {call.name}")
        key = call.key if call.indexed else None
        if call.computed:
            return Opaque(f"module.{call.name}[...]: the index is computed")
        child = (*scope.modules, ModuleStep(call.name, key))
        if not call.indexed and self._has_instances(child_config, scope.modules, call.name):
            return Opaque(f"module.{call.name} has several instances")
        out = (child_config.get("outputs") or {}).get(output) or {}
        traced = self._expr(out.get("expression"), Scope(child), depth + 1)
        return _index_known(traced, parts[3:])

    def _has_instances(self, config: Mapping[str, Any], modules: tuple[ModuleStep, ...],
                       name: str) -> bool:
        call = (self.configs.get(_module_key(modules)) or {}).get("module_calls", {}).get(name)
        return bool(call and ("count_expression" in call or "for_each_expression" in call))

    def _each_ref(self, parts: tuple[Step, ...], scope: Scope, depth: int) -> Traced:
        inst = scope.instance
        if inst is None or len(parts) < 2:
            return Opaque("each outside a resource")
        if parts[1].name == "key":
            return Known(inst.address.key)
        expr = self.resource_config(inst.address).get("for_each_expression")
        source = self._collection(expr, scope.modules, depth + 1)
        if source is None:
            return Opaque("each.value: its for_each is not one resource's instances")
        member = self.by_resource.get(source, {}).get(inst.address.key)
        if member is None:
            return Missing()
        attr = parts[2].name if len(parts) > 2 else ""
        if not attr:
            return Opaque("each.value as a whole")
        return self._attr(member, attr, depth + 1)

    def _collection(self, expr: Any, modules: tuple[ModuleStep, ...], depth: int
                    ) -> tuple[tuple[ModuleStep, ...], str] | None:
        """The resource whose instances a for_each expression is (directly, or through one
        module output or input that is exactly that resource), or None."""
        if depth > MAX_DEPTH or not isinstance(expr, Mapping):
            return None
        refs = maximal([str(r) for r in expr.get("references") or []])
        if len(refs) != 1:
            return None
        try:
            parts = parse_steps(refs[0])
        except AddressError:
            return None
        return self._collection_of(parts, modules, depth)

    def _collection_of(self, parts: tuple[Step, ...], modules: tuple[ModuleStep, ...],
                       depth: int) -> tuple[tuple[ModuleStep, ...], str] | None:
        head = parts[0].name
        if head == "module" and len(parts) == 3 and not parts[1].indexed:
            child = (*modules, ModuleStep(parts[1].name))
            out = ((self.configs.get(_module_key(child)) or {}).get("outputs") or {}).get(
                parts[2].name) or {}
            return self._collection(out.get("expression"), child, depth + 1)
        if head == "var" and len(parts) == 2 and modules:
            expr = (self.call_config(modules).get("expressions") or {}).get(parts[1].name)
            return self._collection(expr, modules[:-1], depth + 1)
        if head == "data" and len(parts) == 3 and not parts[2].indexed:
            return modules, f"data.{parts[1].name}.{parts[2].name}"
        if head not in _HANDLERS and len(parts) == 2 and not parts[1].indexed:
            return modules, f"{parts[0].name}.{parts[1].name}"
        return None

    def _resource_ref(self, parts: tuple[Step, ...], scope: Scope, depth: int) -> Traced:
        data = parts[0].name == "data"
        body = parts[1:] if data else parts
        if len(body) < 2:
            return Opaque("a resource reference without a name")
        resource = ("data." if data else "") + f"{body[0].name}.{body[1].name}"
        instances = self.by_resource.get((scope.modules, resource), {})
        name_step, attr_steps = body[1], body[2:]
        if name_step.computed:
            return Opaque(f"{resource}[...]: the index is computed")
        if name_step.indexed:
            inst = instances.get(name_step.key)
        elif len(instances) <= 1:
            # the whole resource: with one instance, whatever the expression does with it
            inst = next(iter(instances.values()), None)
        else:
            return Opaque(f"{resource} has several instances and the index is not in the plan")
        if inst is None:
            return Missing()
        if not attr_steps:
            return Opaque(f"{resource} as a whole")
        return self._attr(inst, attr_steps[0].name, depth + 1)

    def _opaque_ref(self, parts: tuple[Step, ...], scope: Scope, depth: int) -> Traced:
        return Opaque(f"{parts[0].name}.* is not in the plan's configuration")

    def _count_ref(self, parts: tuple[Step, ...], scope: Scope, depth: int) -> Traced:
        return Known(scope.instance.address.key if scope.instance else None)


_HANDLERS = {
    "var": PlanView._var_ref,
    "module": PlanView._module_ref,
    "each": PlanView._each_ref,
    "local": PlanView._opaque_ref,
    "count": PlanView._count_ref,
    "path": PlanView._opaque_ref,
    "terraform": PlanView._opaque_ref,
    "self": PlanView._opaque_ref,
}


def _index_known(traced: Traced, rest: tuple[Step, ...]) -> Traced:
    """Index into a known value along attribute/key steps; other results pass through."""
    if not isinstance(traced, Known):
        return traced
    value = traced.value
    for step in rest:
        value = _step(value, step)
    return Known(value)


def _step(node: Any, part: Step) -> Any:
    """One step into a planned value, its after_unknown twin or its configuration expression."""
    node = node.get(part.name) if isinstance(node, Mapping) else (
        node if node is True else None)
    if part.indexed and isinstance(node, list):
        return node[part.key] if isinstance(part.key, int) and 0 <= part.key < len(node) else None
    return node


def combine(results: list[Traced]) -> Traced:
    """One expression's references, traced: the one value source they leave, if only one."""
    opaque = [r for r in results if isinstance(r, Opaque)]
    if opaque:
        return opaque[0]
    resolved = {r for r in results if isinstance(r, identities.Resolved)}
    if len(resolved) == 1:
        return resolved.pop()
    if len(resolved) > 1:
        return Opaque("its references lead to " + ", ".join(sorted(r.text for r in resolved)))
    if all(isinstance(r, Missing) for r in results):
        return Missing()
    known = [r for r in results if isinstance(r, Known)]
    if len(known) == 1 and len(results) == 1:
        return known[0]
    return Opaque("a value computed from several known values after apply")
