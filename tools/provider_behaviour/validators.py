"""Value checks of a schema attribute, read from its ValidateFunc / ValidateDiagFunc /
Validators: the SDK's and the plugin framework's validator constructors, and the provider's own
validator functions where their checks are statically visible.

A check is a JSON object (`generator/offline/behaviour.py` applies them):

    {"enum": [...], "ignore_case": bool}      the value is one of these
    {"pattern": GO_REGEXP, "negate": bool}    the value matches (does not match) it
    {"length": [MIN, MAX], "unit": "bytes"|"runes"}   string length (either end may be null)
    {"range": [MIN, MAX]}                     number bounds (either end may be null)
    {"prefix"|"suffix": TEXT, "negate": bool} the value starts (ends) with TEXT, or not
    {"any": [[CHECK, ...], ...]}              one of the alternatives holds

each optionally with "unless": [VALUE, ...] (values that skip the check, e.g. verify.OrEmpty)
and "via" (the validator as written in the source).

Reading a provider function: its top-level statements in order; `value := v.(string)` (and
conversions) names the validated value, an `if COND { ...error... }` contributes the checks
COND's negation states when COND is understood (else it is skipped: the checks kept are still
necessary), an `if COND { return }` without an error stops the reading unless COND is
`value == CONST` (then CONST is exempt from later checks), `return f(v, k)` reads f. A
statement that changes the value, or any other early return, ends the reading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .goast import (
    Assign,
    BasicLit,
    Binary,
    Call,
    Composite,
    ExprStmt,
    FuncLit,
    If,
    Name,
    Node,
    Paren,
    Return,
    Selector,
    TypeAssert,
    Unary,
    VarDecl,
    walk,
)
from .goeval import (
    ClosureVal,
    Env,
    Evaluator,
    FuncVal,
    ListVal,
    Opaque,
    Result,
    StructVal,
    Sym,
    known,
)

Check = dict[str, Any]


@dataclass
class Checks:
    """What one validator contributes: checks, and what could not be read (with why)."""

    checks: list[Check] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    def extend(self, other: Checks) -> None:
        self.checks += other.checks
        self.unsupported += other.unsupported


# ------------------------------------------------------------------------------ library


def _sprintf(args: list[Any]) -> Any:
    if not args or not isinstance(args[0], str):
        return Opaque("fmt.Sprintf")
    values = list(args[1:])
    out: list[str] = []
    text = args[0]
    i = 0
    while i < len(text):
        c = text[i]
        if c != "%" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        verb = text[i + 1]
        i += 2
        if verb == "%":
            out.append("%")
            continue
        if not values or isinstance(values[0], Opaque):
            return Opaque("fmt.Sprintf argument")
        v = values.pop(0)
        out.append(f'"{v}"' if verb == "q" else str(v))
    return "".join(out)


def _join(args: list[Any]) -> Any:
    if len(args) == 2 and isinstance(args[0], ListVal) and isinstance(args[1], str):
        parts = args[0].values()
        if all(isinstance(p, str) for p in parts):
            return args[1].join(parts)
    return Opaque("strings.Join")


def _string_fn(fn: Callable[[str], str]) -> Callable[[list[Any]], Any]:
    def call(args: list[Any]) -> Any:
        return fn(args[0]) if args and isinstance(args[0], str) else Opaque("strings")

    return call


LIBRARY: dict[str, Callable[[list[Any]], Any]] = {
    "fmt.Sprintf": _sprintf,
    "strings.Join": _join,
    "strings.ToLower": _string_fn(str.lower),
    "strings.ToUpper": _string_fn(str.upper),
    "strings.TrimSpace": _string_fn(str.strip),
}


# ------------------------------------------------------------------------------ constructors


def _strings(value: Any) -> list[Any] | None:
    items = value.values() if isinstance(value, ListVal) else None
    if items is None or not all(isinstance(i, str | int) for i in items):
        return None
    return items


def _regex(value: Any) -> str | None:
    value = known(value)
    if isinstance(value, Result) and value.name in ("regexp.MustCompile", "regexp.Compile"):
        return value.args[0] if value.args and isinstance(value.args[0], str) else None
    return None


def _num(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _bounds(name: str, args: list[Any]) -> list[Any] | None:
    nums = [_num(a) for a in args]
    if any(n is None for n in nums):
        return None
    if name.endswith("Between") and len(nums) == 2:
        return nums
    if name.endswith("AtLeast") and len(nums) == 1:
        return [nums[0], None]
    if name.endswith("AtMost") and len(nums) == 1:
        return [None, nums[0]]
    return None


def from_result(r: Result) -> Checks | None:
    """Checks of a known validator constructor call; None when it is not one."""
    pkg, _, fn = r.name.partition(".")
    for reader in _CONSTRUCTORS:
        found = reader(r.name, pkg, fn, r.args)
        if found is not None:
            return found
    return None


def _combined(name: str, pkg: str, fn: str, args: list[Any]) -> Checks | None:
    if name == "validation.Any":
        return _any(args)
    if name not in ("validation.ToDiagFunc", "validation.All") and not (
        pkg.endswith("validator") and fn == "All"
    ):
        return None
    out = Checks()
    for a in args:
        out.extend(from_value(a))
    return out


_ENUMS = {
    "validation.StringInSlice": "first",
    "validation.IntInSlice": "first",
    "stringvalidator.OneOf": "all",
    "stringvalidator.OneOfCaseInsensitive": "all",
    "int64validator.OneOf": "all",
    "float64validator.OneOf": "all",
}


def _enum(name: str, pkg: str, fn: str, args: list[Any]) -> Checks | None:
    how = _ENUMS.get(name)
    if how is None:
        return None
    values = _strings(ListVal(args) if how == "all" else (args[0] if args else None))
    if values is None:
        return None
    if name == "validation.StringInSlice":
        if len(args) != 2 or not isinstance(args[1], bool):
            return None
        return Checks([{"enum": values, "ignore_case": args[1]}])
    return Checks([{"enum": values, "ignore_case": fn.endswith("CaseInsensitive")}])


def _pattern(name: str, pkg: str, fn: str, args: list[Any]) -> Checks | None:
    if name not in ("validation.StringMatch", "validation.StringDoesNotMatch",
                    "stringvalidator.RegexMatches"):
        return None
    regex = _regex(args[0]) if args else None
    if regex is None:
        return None
    return Checks([{"pattern": regex, "negate": fn == "StringDoesNotMatch"}])


def _length(name: str, pkg: str, fn: str, args: list[Any]) -> Checks | None:
    if name == "validation.StringLenBetween":
        bounds, unit = _bounds("Between", args), "bytes"
    elif pkg == "stringvalidator" and fn.startswith("Length"):
        bounds, unit = _bounds(fn, args), "runes"
    else:
        return None
    return Checks([{"length": bounds, "unit": unit}]) if bounds is not None else None


_NUMBER_VALIDATORS = ("int64validator", "int32validator", "float64validator", "float32validator")


def _range(name: str, pkg: str, fn: str, args: list[Any]) -> Checks | None:
    numeric = (pkg == "validation" and fn.startswith(("Int", "Float"))) or \
        pkg in _NUMBER_VALIDATORS
    bounds = _bounds(fn, args) if numeric else None
    return Checks([{"range": bounds}]) if bounds is not None else None


_CONSTRUCTORS = (_combined, _enum, _pattern, _length, _range)


def _any(args: list[Any]) -> Checks:
    alternatives: list[list[Check]] = []
    for a in args:
        alt = from_value(a)
        if alt.unsupported or not alt.checks:
            return Checks([], ["validation.Any with an alternative not read: " +
                               "; ".join(alt.unsupported or ["no checks"])])
        alternatives.append(alt.checks)
    return Checks([{"any": alternatives}])


NAMED = {
    "validation.StringIsNotEmpty": {"length": [1, None], "unit": "bytes"},
}


def from_value(value: Any) -> Checks:
    """Checks of a ValidateFunc/ValidateDiagFunc value (or one framework validator)."""
    value = known(value)
    if value is None:
        return Checks()
    if isinstance(value, Result):
        found = from_result(value)
        return found if found is not None else Checks([], [value.name])
    if isinstance(value, Sym):
        short = value.name.rsplit("/", 1)[-1]
        return Checks([dict(NAMED[short])]) if short in NAMED else Checks([], [short])
    if isinstance(value, FuncVal):
        return FunctionReader(value.decl.file, value.decl.params, value.pkg.ev,
                              Env(value.pkg.ev, value.pkg, value.decl.file, {}),
                              value.decl.name).read(value.decl.file.body(value.decl).stmts)
    if isinstance(value, ClosureVal):
        return FunctionReader(value.env.file, value.lit.params, value.env.ev,
                              value.env.child({}), "func literal").read(value.lit.body.stmts)
    if isinstance(value, ListVal):
        out = Checks()
        for v in value.values():
            out.extend(from_value(v))
        return out
    if isinstance(value, Opaque):
        return Checks([], [value.why])
    if isinstance(value, StructVal):
        return Checks([], [value.type.rsplit("/", 1)[-1]])
    return Checks([], [type(value).__name__])


# ------------------------------------------------------------------------------ functions

VALUE = object()  # the validated value (or a conversion of it)
OK = object()  # the `ok` of `value, ok := v.(string)`


class Stop(Exception):
    """The rest of the function cannot be read soundly."""


class FunctionReader:
    """Reads one validator function (see the module docstring)."""

    def __init__(self, file: Any, params: list[str], ev: Evaluator, env: Env, where: str) -> None:
        self.ev = ev
        self.env = env
        self.where = where
        self.value_names = {params[0]} if params else set()
        self.key_names = set(params[1:2])
        self.ok_names: set[str] = set()
        self.preds: dict[str, Node] = {}
        self.unless: list[Any] = []
        self.skipped = 0  # error-producing statements not understood
        self.out = Checks()

    def read(self, stmts: list[Node]) -> Checks:
        rest: list[Node] = []
        for i, stmt in enumerate(stmts):
            try:
                self.stmt(stmt)
            except Stop:
                rest = stmts[i + 1:] if not isinstance(stmt, Return) else []
                break
        self.skipped += sum(1 for s in rest if _has_error(s))
        if self.unless:
            for c in self.out.checks:
                c.setdefault("unless", list(self.unless))
        if self.skipped:
            self.out.unsupported.append(
                f"{self.where}: {self.skipped} of its checks not statically readable"
            )
        elif not self.out.checks and not self.out.unsupported:
            self.out.unsupported.append(f"{self.where}: no statically readable check")
        return self.out

    def stmt(self, stmt: Node) -> None:
        if isinstance(stmt, Assign | VarDecl):
            self.assign(stmt)
        elif isinstance(stmt, If):
            self.if_(stmt)
        elif isinstance(stmt, Return):
            self.return_(stmt)
        elif isinstance(stmt, ExprStmt):
            return
        elif _has_return(stmt) or self.changes_value(stmt):
            raise Stop

    # -- bindings
    def assign(self, stmt: Assign | VarDecl) -> None:
        pairs: list[tuple[Node, Node]]
        if isinstance(stmt, VarDecl):
            pairs = list(zip([Name(n) for n in stmt.names], stmt.values, strict=False))
        elif len(stmt.rhs) == 1 and len(stmt.lhs) == 2 and _is_value_assert(stmt.rhs[0],
                                                                            self.value_names):
            self.bind(stmt.lhs[0], stmt.rhs[0])
            if isinstance(stmt.lhs[1], Name):
                self.ok_names.add(stmt.lhs[1].id)
            return
        else:
            pairs = list(zip(stmt.lhs, stmt.rhs, strict=False))
        for target, rhs in pairs:
            self.bind(target, rhs)

    def bind(self, target: Node, rhs: Node) -> None:
        if not isinstance(target, Name):
            return
        name = target.id
        if name in self.value_names:
            raise Stop  # the value changes: later checks are about something else
        if self.is_value(rhs):
            self.value_names.add(name)
        elif self.mentions_value(rhs):
            self.preds[name] = rhs
        else:
            self.env.locals[name] = self.ev.eval(rhs, self.env)

    def is_value(self, node: Node) -> bool:
        node = _strip(node)
        if isinstance(node, Name):
            return node.id in self.value_names
        if isinstance(node, TypeAssert):
            return self.is_value(node.x)
        if isinstance(node, Call) and isinstance(node.fn, Name) and len(node.args) == 1:
            return node.fn.id in ("int", "int64", "float64", "string") and self.is_value(
                node.args[0]
            )
        return False

    def mentions_value(self, node: Node) -> bool:
        return any(
            isinstance(n, Name) and (n.id in self.value_names or n.id in self.preds)
            for n in walk(node)
        )

    def changes_value(self, stmt: Node) -> bool:
        return any(
            isinstance(n, Assign)
            and any(isinstance(t, Name) and t.id in self.value_names for t in n.lhs)
            for n in walk(stmt)
        )

    # -- control
    def if_(self, stmt: If) -> None:
        if self.changes_value(stmt):
            raise Stop
        if stmt.init is not None:
            if not isinstance(stmt.init, Assign):
                raise Stop
            self.assign(stmt.init)  # e.g. `matched, err := regexp.MatchString(RE, value)`
        if _has_error(stmt.body):
            self.error_if(stmt.cond)
            if isinstance(stmt.orelse, If):
                self.if_(stmt.orelse)  # runs when COND is false, which validity needs anyway
            elif stmt.orelse is not None and (_has_return(stmt.orelse) or
                                              _has_error(stmt.orelse)):
                raise Stop
            return
        if _has_return(stmt.body) or (stmt.orelse is not None and _has_return(stmt.orelse)):
            exempt = self.exemption(stmt.cond)
            if exempt is None or stmt.orelse is not None:
                raise Stop
            self.unless.append(exempt)

    def error_if(self, cond: Node) -> None:
        """COND true means an error: keep what its negation states."""
        if not self.mentions_value(cond):
            return  # a type assertion's ok, a parse error, a parameter check: not the value
        found = self.violation(cond)
        if found is None:
            self.skipped += 1
        else:
            self.out.checks += found

    def return_(self, stmt: Return) -> None:
        call = _strip(stmt.results[0]) if stmt.results else None
        if isinstance(call, Call) and call.args and self.is_value(call.args[0]):
            fn = self.ev.eval(call.fn, self.env)
            inner = from_value(fn)
            self.out.checks += inner.checks
            self.out.unsupported += inner.unsupported
        raise Stop

    def exemption(self, cond: Node) -> Any:
        """CONST when COND is `value == CONST` (possibly `ok && ...`), else None."""
        cond = _strip(cond)
        if isinstance(cond, Binary) and cond.op == "&&":
            if self.is_ok(cond.x):
                return self.exemption(cond.y)
            if self.is_ok(cond.y):
                return self.exemption(cond.x)
        if isinstance(cond, Binary) and cond.op == "==" and self.is_value(cond.x):
            c = self.const(cond.y)
            return c if isinstance(c, str | int) else None
        return None

    def is_ok(self, node: Node) -> bool:
        return isinstance(node, Name) and node.id in self.ok_names

    # -- conditions
    def const(self, node: Node) -> Any:
        if self.mentions_value(node):
            return Opaque("value-dependent")
        return self.ev.eval(node, self.env)

    def violation(self, cond: Node) -> list[Check] | None:
        """Checks that say COND is false (COND true means an error)."""
        cond = self.subst(_strip(cond))
        if isinstance(cond, Unary) and cond.op == "!":
            return self.satisfied(cond.x)
        if isinstance(cond, Binary) and cond.op == "||":
            left, right = self.violation(cond.x), self.violation(cond.y)
            if left is None and right is None:
                return None
            return merge_bounds((left or []) + (right or []))
        if isinstance(cond, Binary) and cond.op == "&&":
            for a, b in ((cond.x, cond.y), (cond.y, cond.x)):
                if self.const(a) is True or self.is_ok(a):
                    return self.violation(b)
            return None
        if isinstance(cond, Binary) and cond.op in _NEGATE:
            return self.comparison(Binary(_NEGATE[cond.op], cond.x, cond.y))
        match = self.matches(cond)
        if match is not None:
            return [{"pattern": match, "negate": True}]
        affix = self.affix(cond)
        return [{**affix, "negate": True}] if affix else None

    def satisfied(self, cond: Node) -> list[Check] | None:
        """Checks that say COND is true."""
        cond = self.subst(_strip(cond))
        if isinstance(cond, Binary) and cond.op == "&&":
            left, right = self.satisfied(cond.x), self.satisfied(cond.y)
            if left is None and right is None:
                return None
            return (left or []) + (right or [])
        if isinstance(cond, Unary) and cond.op == "!":
            return self.violation(cond.x)
        if isinstance(cond, Binary) and cond.op in _NEGATE:
            return self.comparison(cond)
        match = self.matches(cond)
        if match is not None:
            return [{"pattern": match, "negate": False}]
        affix = self.affix(cond)
        return [{**affix, "negate": False}] if affix else self.contains(cond)

    def subst(self, node: Node) -> Node:
        if isinstance(node, Name) and node.id in self.preds:
            return _strip(self.preds[node.id])
        return node

    def matches(self, node: Node) -> str | None:
        """The regexp of `RE.MatchString(value)` or `regexp.MatchString(RE, value)`."""
        if not (isinstance(node, Call) and isinstance(node.fn, Selector) and
                node.fn.sel == "MatchString" and node.args and self.is_value(node.args[-1])):
            return None
        if len(node.args) == 1:
            return _regex(self.const(node.fn.x))
        if len(node.args) == 2 and isinstance(node.fn.x, Name) and node.fn.x.id == "regexp":
            pattern = self.const(node.args[0])
            return pattern if isinstance(pattern, str) else None
        return None

    def affix(self, node: Node) -> Check | None:
        """`strings.HasPrefix(value, S)` / `HasSuffix`: {"prefix"|"suffix": S}."""
        if isinstance(node, Call) and isinstance(node.fn, Selector) and \
                isinstance(node.fn.x, Name) and node.fn.x.id == "strings" and \
                node.fn.sel in ("HasPrefix", "HasSuffix") and len(node.args) == 2 and \
                self.is_value(node.args[0]):
            text = self.const(node.args[1])
            if isinstance(text, str):
                return {node.fn.sel[3:].lower(): text}
        return None

    def contains(self, node: Node) -> list[Check] | None:
        """`slices.Contains(LIST, value)` (or strings.Contains-free forms): an enum."""
        if isinstance(node, Call) and isinstance(node.fn, Selector) and \
                isinstance(node.fn.x, Name) and node.fn.x.id == "slices" and \
                node.fn.sel == "Contains" and len(node.args) == 2 and \
                self.is_value(node.args[1]):
            values = _strings(self.const(node.args[0]))
            if values is not None:
                return [{"enum": values, "ignore_case": False}]
        return None

    def comparison(self, cond: Binary) -> list[Check] | None:
        """A bound that COND (`len(value) OP N`, `value OP N` or mirrored) states."""
        x, y, op = _strip(cond.x), _strip(cond.y), cond.op
        if self.mentions_value(y) and not self.mentions_value(x):
            x, y, op = y, x, _MIRROR[op]
        n = _num(self.const(y))
        if n is None or op in ("==", "!="):
            return None
        is_len = isinstance(x, Call) and isinstance(x.fn, Name) and x.fn.id == "len" and \
            len(x.args) == 1 and self.is_value(x.args[0])
        if not is_len and not self.is_value(x):
            return None
        lo: int | float | None
        hi: int | float | None
        if isinstance(n, int):
            lo, hi = {">": (n + 1, None), ">=": (n, None), "<": (None, n - 1),
                      "<=": (None, n)}[op]
        else:
            if op in (">", "<"):
                return None  # strict float bounds are not what "range" states
            lo, hi = (n, None) if op == ">=" else (None, n)
        if is_len:
            return [{"length": [lo, hi], "unit": "bytes"}]
        return [{"range": [lo, hi]}]


def merge_bounds(checks: list[Check]) -> list[Check]:
    """[{"range": [1, None]}, {"range": [None, 10]}] -> [{"range": [1, 10]}] (and lengths)."""
    out: list[Check] = []
    for c in checks:
        prev = out[-1] if out else {}
        kind = "range" if "range" in c else "length" if "length" in c else ""
        halves = kind in prev and prev.get("unit") == c.get("unit") and len(prev) == len(c)
        if halves and prev[kind][1] is None and c[kind][0] is None:
            out[-1] = {**prev, kind: [prev[kind][0], c[kind][1]]}
        elif halves and prev[kind][0] is None and c[kind][1] is None:
            out[-1] = {**prev, kind: [c[kind][0], prev[kind][1]]}
        else:
            out.append(c)
    return out


_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _strip(node: Node) -> Node:
    while isinstance(node, Paren):
        node = node.x
    return node


def _is_value_assert(node: Node, names: set[str]) -> bool:
    node = _strip(node)
    return isinstance(node, TypeAssert) and isinstance(node.x, Name) and node.x.id in names


def _has_return(node: Node) -> bool:
    return any(isinstance(n, Return) for n in walk(node) if not isinstance(n, FuncLit))


_ERROR_CALLS = frozenset({"Errorf", "New", "Error", "Errors", "NewErrorDiagnostic",
                          "AddError", "AddAttributeError"})


def _has_error(node: Node) -> bool:
    """Whether a block produces an error (fmt.Errorf, errors.New, diag.Errorf, a Diagnostic)."""
    for n in walk(node):
        if isinstance(n, Call) and isinstance(n.fn, Selector) and n.fn.sel in _ERROR_CALLS:
            return True
        if isinstance(n, Composite) and isinstance(n.type, Selector) and \
                n.type.sel in ("Diagnostic", "Diagnostics"):
            return True
        if isinstance(n, Selector) and n.sel == "Error" and isinstance(n.x, Name) and \
                n.x.id == "diag":
            return True
    return False


def callee(node: Node | None) -> str:
    """`verify.ValidateEnum` for `verify.ValidateEnum([]string{...})`: how the source names a
    validator (for messages)."""
    while isinstance(node, Unary | Paren):
        node = node.x
    if isinstance(node, Call):
        if isinstance(node.fn, Selector) and node.fn.sel == "ToDiagFunc" and node.args:
            return callee(node.args[0])
        return callee(node.fn)
    if isinstance(node, Selector):
        base = callee(node.x)
        return f"{base}.{node.sel}" if base else node.sel
    if isinstance(node, Name):
        return node.id
    if isinstance(node, BasicLit):
        return repr(node.value)
    return ""
