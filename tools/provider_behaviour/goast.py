"""The Go syntax tree this tool reads: expressions, statements, top-level declarations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Node:
    """Base of every syntax node."""


# ------------------------------------------------------------------------------ expressions


@dataclass
class Name(Node):
    id: str


@dataclass
class BasicLit(Node):
    kind: str  # int | float | imag | char | string
    value: Any


@dataclass
class Selector(Node):
    x: Node
    sel: str


@dataclass
class Call(Node):
    fn: Node
    args: list[Node]
    ellipsis: bool = False


@dataclass
class Index(Node):
    x: Node
    indices: list[Node]


@dataclass
class SliceExpr(Node):
    x: Node
    parts: list[Node | None]


@dataclass
class TypeAssert(Node):
    x: Node
    type: Node | None  # None: `.(type)` of a type switch


@dataclass
class Unary(Node):
    op: str
    x: Node


@dataclass
class Binary(Node):
    op: str
    x: Node
    y: Node


@dataclass
class KeyValue(Node):
    key: Node
    value: Node


@dataclass
class Composite(Node):
    type: Node | None  # None: elided (an element of an outer composite literal)
    elts: list[Node]
    line: int = 0


@dataclass
class Paren(Node):
    x: Node


@dataclass
class ArrayType(Node):
    length: Node | None  # None: a slice type
    elt: Node


@dataclass
class MapType(Node):
    key: Node
    value: Node


@dataclass
class OtherType(Node):
    """func/struct/interface/chan types and `...T`: only their kind matters here."""

    kind: str
    elt: Node | None = None


@dataclass
class FuncLit(Node):
    params: list[str]
    body: Block
    line: int = 0


# ------------------------------------------------------------------------------ statements


@dataclass
class Block(Node):
    stmts: list[Node] = field(default_factory=list)


@dataclass
class Return(Node):
    results: list[Node]


@dataclass
class Assign(Node):
    lhs: list[Node]
    op: str  # := = += ...
    rhs: list[Node]


@dataclass
class Range(Node):
    key: Node | None
    value: Node | None
    op: str
    x: Node


@dataclass
class ExprStmt(Node):
    x: Node


@dataclass
class VarDecl(Node):
    names: list[str]
    values: list[Node]


@dataclass
class If(Node):
    init: Node | None
    cond: Node
    body: Block
    orelse: Node | None  # If | Block | None


@dataclass
class For(Node):
    header: list[Node]
    body: Block


@dataclass
class Switch(Node):
    init: Node | None
    tag: Node | None
    clauses: list[tuple[list[Node], Block]]  # ([], body) is the default clause


@dataclass
class Other(Node):
    """A statement whose meaning this tool never needs (go, defer, goto, x++, ...)."""

    kind: str
    parts: list[Node] = field(default_factory=list)


# ------------------------------------------------------------------------------ declarations


@dataclass
class FuncDecl:
    name: str
    recv: str  # receiver type name ("" for a plain function)
    params: list[str]
    tokens: tuple[int, int]  # body token range [start, end) in its file, parsed on demand
    file: Any  # goparse.SourceFile
    line: int = 0


@dataclass
class ValueSpec:
    name: str
    value: Node | None
    file: Any
    const: bool = False


def children(node: Node) -> list[Node]:
    """The syntax nodes directly inside `node`."""
    out: list[Node] = []
    for value in vars(node).values():
        _collect(value, out)
    return out


def _collect(value: Any, out: list[Node]) -> None:
    if isinstance(value, Node):
        out.append(value)
    elif isinstance(value, list | tuple):
        for v in value:
            _collect(v, out)


def walk(node: Node, *, into_funcs: bool = False) -> list[Node]:
    """`node` and every node below it (function literals' bodies only with into_funcs)."""
    found: list[Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        found.append(n)
        if isinstance(n, FuncLit) and not into_funcs and n is not node:
            continue
        stack.extend(reversed(children(n)))
    return found
