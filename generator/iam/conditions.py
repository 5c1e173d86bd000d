"""IAM condition expressions (a subset of CEL), evaluated for one need.

A conditional grant counts for a need only when its condition admits that request. Supported:
`||`, `&&`, `!`, parentheses, `==`, `!=`, string and list literals, `true`/`false`,
`resource.type`, `resource.name`, `resource.service`, `api.getAttribute(NAME, DEFAULT)` and the
methods `startsWith`, `endsWith`, `contains` (strings) and `hasOnly`, `hasAny` (lists)
(https://cloud.google.com/iam/docs/conditions-overview). Evaluation is three-valued: a need on
"objects under envs/dev/" has a resource name of which only a prefix is known, so
`startsWith("…/envs/")` is true, `startsWith("…/envs/prod/")` false and `== "…/x"` unknown. An
unknown or unsupported condition does not admit the need (and says why).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>\|\||&&|==|!=|[()\[\],.!])"""
    r"""|(?P<id>[A-Za-z_][A-Za-z0-9_]*))"""
)


class ConditionError(ValueError):
    """A condition this evaluator does not understand."""


@dataclass(frozen=True)
class Prefix:
    """A string of which only the start is known."""

    start: str


class _Unknown:
    def __repr__(self) -> str:
        return "unknown"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Request:
    """What the need asks: the resource (type, name: exact or a prefix) and API attributes."""

    resource_type: str
    resource_name: str | Prefix
    service: str = ""
    attributes: Mapping[str, Any] | None = None


def tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ConditionError(f"cannot read the condition at {text[pos:pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _string(literal: str) -> str:
    if literal.startswith("'"):
        literal = '"' + literal[1:-1].replace('"', '\\"') + '"'
    return str(json.loads(literal))


class _Parser:
    def __init__(self, text: str, request: Request) -> None:
        self.toks = tokens(text)
        self.i = 0
        self.request = request

    def peek(self) -> str:
        return self.toks[self.i][1] if self.i < len(self.toks) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise ConditionError("unexpected end of condition")
        tok = self.toks[self.i]
        if expected is not None and tok[1] != expected:
            raise ConditionError(f"expected {expected!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        value = self.disjunction()
        if self.i != len(self.toks):
            raise ConditionError(f"unexpected {self.peek()!r}")
        return value

    def disjunction(self) -> Any:
        values = [self.conjunction()]
        while self.peek() == "||":
            self.take()
            values.append(self.conjunction())
        return values[0] if len(values) == 1 else _or(values)

    def conjunction(self) -> Any:
        values = [self.unary()]
        while self.peek() == "&&":
            self.take()
            values.append(self.unary())
        return values[0] if len(values) == 1 else _and(values)

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            value = self.unary()
            return UNKNOWN if value is UNKNOWN else not value
        return self.comparison()

    def comparison(self) -> Any:
        left = self.postfix()
        if self.peek() in ("==", "!="):
            op = self.take()[1]
            equal = _equal(left, self.postfix())
            return equal if equal is UNKNOWN or op == "==" else not equal
        return left

    def postfix(self) -> Any:
        value = self.atom()
        while self.peek() == ".":
            self.take()
            method = self.take()[1]
            value = _call(method, value, self.arguments())
        return value

    def arguments(self) -> list[Any]:
        self.take("(")
        args: list[Any] = []
        while self.peek() != ")":
            args.append(self.disjunction())
            if self.peek() == ",":
                self.take()
        self.take(")")
        return args

    def atom(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return _string(text)
        if text == "(":
            value = self.disjunction()
            self.take(")")
            return value
        if text == "[":
            items: list[Any] = []
            while self.peek() != "]":
                items.append(self.disjunction())
                if self.peek() == ",":
                    self.take()
            self.take("]")
            return items
        if kind == "id":
            return self.identifier(text)
        raise ConditionError(f"unexpected {text!r}")

    def identifier(self, text: str) -> Any:
        if text in ("true", "false"):
            return text == "true"
        if text == "resource":
            self.take(".")
            field = self.take()[1]
            return {"type": self.request.resource_type, "name": self.request.resource_name,
                    "service": self.request.service}.get(field, UNKNOWN)
        if text == "api":
            self.take(".")
            self.take("getAttribute")
            args = self.arguments()
            if len(args) != 2 or not isinstance(args[0], str):
                raise ConditionError("api.getAttribute takes a name and a default")
            return (self.request.attributes or {}).get(args[0], args[1])
        if text == "request":
            self.take(".")
            self.take()
            return UNKNOWN  # request.time and the like: not known offline
        raise ConditionError(f"unsupported name {text!r}")


def _or(values: list[Any]) -> Any:
    if any(v is True for v in values):
        return True
    return UNKNOWN if any(v is UNKNOWN for v in values) else False


def _and(values: list[Any]) -> Any:
    if any(v is False for v in values):
        return False
    return UNKNOWN if any(v is UNKNOWN for v in values) else True


def _equal(left: Any, right: Any) -> Any:
    if UNKNOWN in (left, right) or isinstance(left, Prefix) or isinstance(right, Prefix):
        prefix, other = (left, right) if isinstance(left, Prefix) else (right, left)
        if isinstance(prefix, Prefix) and isinstance(other, str) and not other.startswith(
                prefix.start):
            return False
        return UNKNOWN
    return bool(left == right)


def _starts(value: Any, arg: Any) -> Any:
    if isinstance(value, str):
        return value.startswith(arg)
    if isinstance(value, Prefix):
        if value.start.startswith(arg):
            return True
        return UNKNOWN if arg.startswith(value.start) else False
    return UNKNOWN


def _call(method: str, value: Any, args: list[Any]) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    arg = args[0] if args else None
    if method == "startsWith" and isinstance(arg, str):
        return _starts(value, arg)
    if method in ("endsWith", "contains") and isinstance(arg, str):
        if not isinstance(value, str):
            return UNKNOWN
        return value.endswith(arg) if method == "endsWith" else arg in value
    if method in ("hasOnly", "hasAny") and isinstance(value, list) and isinstance(arg, list):
        return all(v in arg for v in value) if method == "hasOnly" else any(
            v in arg for v in value)
    raise ConditionError(f"unsupported function {method}")


def admits(expression: str, request: Request) -> tuple[bool, str]:
    """(does the condition admit the request, why not when it does not)."""
    try:
        value = _Parser(expression, request).parse()
    except ConditionError as exc:
        return False, f"the condition is not understood ({exc})"
    if value is True:
        return True, ""
    if value is UNKNOWN:
        return False, "the condition depends on what is not known offline"
    return False, "the condition excludes it"
