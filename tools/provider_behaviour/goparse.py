"""A recursive-descent parser for the part of Go that schema code is written in.

`SourceFile` parses a file's top level (package, imports, funcs, vars, consts; types are
skipped) and parses a function body only when it is asked for. Expressions follow the Go spec's
grammar and precedence, including composite literals and the spec's rule that a composite
literal of a bare type name cannot start in an if/for/switch header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .goast import (
    ArrayType,
    Assign,
    BasicLit,
    Binary,
    Block,
    Call,
    Composite,
    ExprStmt,
    For,
    FuncDecl,
    FuncLit,
    If,
    Index,
    KeyValue,
    MapType,
    Name,
    Node,
    Other,
    OtherType,
    Paren,
    Range,
    Return,
    Selector,
    SliceExpr,
    Switch,
    TypeAssert,
    Unary,
    ValueSpec,
    VarDecl,
)
from .golex import GoSyntaxError, Token, tokenize

PRECEDENCE = {
    "||": 1, "&&": 2,
    "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3,
    "+": 4, "-": 4, "|": 4, "^": 4,
    "*": 5, "/": 5, "%": 5, "<<": 5, ">>": 5, "&": 5, "&^": 5,
}
UNARY = frozenset({"+", "-", "!", "^", "*", "&", "<-", "~"})
ASSIGN_OPS = frozenset({":=", "=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=",
                        ">>=", "&^="})
TYPE_START = frozenset({"*", "[", "(", "...", "<-"})
TYPE_KEYWORDS = frozenset({"map", "func", "chan", "struct", "interface"})
END_OF_STMT = frozenset({";", "}", ")", ":"})


class Parser:
    def __init__(self, tokens: list[Token], pos: int = 0) -> None:
        self.toks = tokens
        self.pos = pos
        self.no_lit = 0  # >0: in an if/for/switch header (bare T{ is not a literal)

    # ---------------------------------------------------------------- token helpers
    def peek(self, ahead: int = 0) -> Token:
        return self.toks[min(self.pos + ahead, len(self.toks) - 1)]

    def at(self, *texts: str) -> bool:
        t = self.peek()
        return t.kind in ("op", "ident") and t.text in texts

    def next(self) -> Token:
        t = self.peek()
        self.pos += 1
        return t

    def expect(self, text: str) -> Token:
        t = self.next()
        if t.text != text or t.kind not in ("op", "ident"):
            raise GoSyntaxError(f"line {t.line}: expected {text!r}, got {t.text!r}")
        return t

    def ident(self) -> str:
        t = self.next()
        if t.kind != "ident":
            raise GoSyntaxError(f"line {t.line}: expected a name, got {t.text!r}")
        return t.text

    def skip_semis(self) -> None:
        while self.at(";"):
            self.next()

    def skip_balanced(self) -> None:
        """Skip one bracketed group starting at the current ( [ or {."""
        closing = {"(": ")", "[": "]", "{": "}"}
        stack = [closing[self.next().text]]
        while stack:
            t = self.next()
            if t.kind == "eof":
                raise GoSyntaxError("unbalanced brackets")
            if t.kind == "op" and t.text in closing:
                stack.append(closing[t.text])
            elif t.kind == "op" and t.text == stack[-1]:
                stack.pop()

    # ---------------------------------------------------------------- expressions
    def expr(self) -> Node:
        return self.binary(1)

    def binary(self, min_prec: int) -> Node:
        x = self.unary()
        while True:
            t = self.peek()
            prec = PRECEDENCE.get(t.text, 0) if t.kind == "op" else 0
            if prec < min_prec:
                return x
            self.next()
            x = Binary(t.text, x, self.binary(prec + 1))

    def unary(self) -> Node:
        t = self.peek()
        if t.kind == "op" and t.text in UNARY:
            self.next()
            if t.text == "<-" and self.at("chan"):
                self.next()
                return OtherType("chan", self.type_())
            return Unary(t.text, self.unary())
        return self.primary()

    def primary(self) -> Node:
        x = self.operand()
        while True:
            y = self.suffix(x)
            if y is None:
                return x
            x = y

    def suffix(self, x: Node) -> Node | None:
        if self.at("."):
            self.next()
            if self.at("("):
                self.next()
                typ = None if self.at("type") else self.type_()
                if typ is None:
                    self.next()
                self.expect(")")
                return TypeAssert(x, typ)
            return Selector(x, self.ident())
        if self.at("["):
            return self.index(x)
        if self.at("("):
            return self.call(x)
        if self.at("{") and self.is_literal_type(x):
            return self.composite(x)
        return None

    def is_literal_type(self, x: Node) -> bool:
        if isinstance(x, ArrayType | MapType) or (isinstance(x, OtherType) and x.kind == "struct"):
            return True
        bare = isinstance(x, Name | Selector) or (
            isinstance(x, Index) and isinstance(x.x, Name | Selector)
        )
        return bare and not self.no_lit

    def index(self, x: Node) -> Node:
        self.expect("[")
        saved, self.no_lit = self.no_lit, 0
        parts: list[Node | None] = []
        indices: list[Node] = []
        is_slice = False
        while not self.at("]"):
            if self.at(":"):
                self.next()
                is_slice = True
                parts.append(None)
                continue
            e = self.type_or_expr()
            if self.at(":"):
                self.next()
                is_slice = True
                parts.append(e)
                continue
            indices.append(e)
            if self.at(","):
                self.next()
        self.expect("]")
        self.no_lit = saved
        if is_slice:
            return SliceExpr(x, [*parts, *indices])
        return Index(x, indices)

    def call(self, fn: Node) -> Node:
        self.expect("(")
        saved, self.no_lit = self.no_lit, 0
        args: list[Node] = []
        ellipsis = False
        while not self.at(")"):
            args.append(self.type_or_expr())
            if self.at("..."):
                self.next()
                ellipsis = True
            if not self.at(")"):
                self.expect(",")
        self.expect(")")
        self.no_lit = saved
        return Call(fn, args, ellipsis)

    def composite(self, typ: Node | None) -> Composite:
        line = self.expect("{").line
        saved, self.no_lit = self.no_lit, 0
        elts: list[Node] = []
        while not self.at("}"):
            e = self.element()
            if self.at(":"):
                self.next()
                e = KeyValue(e, self.element())
            elts.append(e)
            if not self.at("}"):
                self.expect(",")
        self.expect("}")
        self.no_lit = saved
        return Composite(typ, elts, line)

    def element(self) -> Node:
        return self.composite(None) if self.at("{") else self.expr()

    def operand(self) -> Node:
        t = self.peek()
        if t.kind in ("int", "float", "imag"):
            self.next()
            return BasicLit(t.kind, _number(t))
        if t.kind in ("string", "char"):
            self.next()
            return BasicLit(t.kind, t.text)
        if t.kind == "ident":
            if t.text == "func":
                return self.func_lit()
            if t.text in TYPE_KEYWORDS:
                return self.type_()
            self.next()
            return Name(t.text)
        if self.at("("):
            self.next()
            saved, self.no_lit = self.no_lit, 0
            x = self.type_or_expr()
            self.no_lit = saved
            self.expect(")")
            return Paren(x)
        if self.at("["):
            return self.type_()
        raise GoSyntaxError(f"line {t.line}: unexpected {t.text!r} in an expression")

    def type_or_expr(self) -> Node:
        if self.at("[", "...") or (self.at(*TYPE_KEYWORDS) and not self.at("func")):
            t = self.type_()
            return self.primary_from(t)
        return self.expr()

    def primary_from(self, x: Node) -> Node:
        while True:
            y = self.suffix(x)
            if y is None:
                return x
            x = y

    def func_lit(self) -> Node:
        line = self.expect("func").line
        params = self.params()
        self.results()
        if not self.at("{"):
            return OtherType("func")
        return FuncLit(params, self.block(), line)

    # ---------------------------------------------------------------- types
    def type_(self) -> Node:
        t = self.peek()
        handler = _TYPE_PARSERS.get(t.text) if t.kind in ("op", "ident") else None
        return handler(self) if handler else self.type_name()

    def pointer_type(self) -> Node:
        self.next()
        return Unary("*", self.type_())

    def array_type(self) -> Node:
        self.expect("[")
        length: Node | None = None
        if self.at("..."):
            self.next()
            length = Name("...")
        elif not self.at("]"):
            length = self.expr()
        self.expect("]")
        return ArrayType(length, self.type_())

    def variadic_type(self) -> Node:
        self.next()
        return OtherType("...", self.type_())

    def paren_type(self) -> Node:
        self.expect("(")
        inner = self.type_()
        self.expect(")")
        return inner

    def map_type(self) -> Node:
        self.expect("map")
        self.expect("[")
        key = self.type_()
        self.expect("]")
        return MapType(key, self.type_())

    def chan_type(self) -> Node:
        if self.next().text == "<-":
            self.expect("chan")
        elif self.at("<-"):
            self.next()
        return OtherType("chan", self.type_())

    def func_type(self) -> Node:
        self.expect("func")
        self.params()
        self.results()
        return OtherType("func")

    def braced_type(self) -> Node:
        kind = self.next().text  # struct | interface
        self.skip_balanced()
        return OtherType(kind)

    def type_name(self) -> Node:
        x: Node = Name(self.ident())
        if self.at("."):
            self.next()
            x = Selector(x, self.ident())
        if self.at("[") and self.peek(1).text != "]":
            self.next()
            args = [self.type_()]
            while self.at(","):
                self.next()
                args.append(self.type_())
            self.expect("]")
            x = Index(x, args)
        return x

    def params(self) -> list[str]:
        """A parameter list's names (empty for unnamed parameters)."""
        self.expect("(")
        items: list[tuple[str | None, bool]] = []  # (leading ident, has a type after it)
        while not self.at(")"):
            t = self.peek()
            nxt = self.peek(1)
            if t.kind == "ident" and t.text not in TYPE_KEYWORDS and (
                nxt.kind == "ident" or nxt.text in TYPE_START
            ) and nxt.text != ".":
                self.next()
                self.type_()
                items.append((t.text, True))
            elif t.kind == "ident" and nxt.text in (",", ")"):
                self.next()
                items.append((t.text, False))
            else:
                self.type_()
                items.append((None, True))
            if not self.at(")"):
                self.expect(",")
        self.expect(")")
        named = any(name and typed for name, typed in items)
        return [name for name, _ in items if name] if named else []

    def results(self) -> None:
        if self.at("("):
            self.skip_balanced()
        elif not self.at("{", ";", ")", ",", "}", "]") and self.peek().kind != "string":
            self.type_()

    # ---------------------------------------------------------------- statements
    def block(self) -> Block:
        self.expect("{")
        stmts = self.stmt_list(("}",))
        self.expect("}")
        return Block(stmts)

    def stmt_list(self, stop: tuple[str, ...]) -> list[Node]:
        stmts: list[Node] = []
        self.skip_semis()
        while not self.at(*stop) and self.peek().kind != "eof":
            stmts.append(self.stmt())
            if not self.at(*stop):
                if not self.at(";"):
                    t = self.peek()
                    raise GoSyntaxError(f"line {t.line}: expected ';', got {t.text!r}")
                self.skip_semis()
        return stmts

    def stmt(self) -> Node:
        t = self.peek()
        if self.at("{"):
            return self.block()
        if t.kind == "ident" and t.text in _STMT_KEYWORDS:
            return _STMT_KEYWORDS[t.text](self)
        if t.kind == "ident" and self.peek(1).text == ":" and self.peek(1).kind == "op":
            self.next()
            self.next()  # a label
            self.skip_semis()
            return self.stmt() if not self.at("}") else Other("label")
        return self.simple_stmt()

    def simple_stmt(self) -> Node:
        if self.at("range"):
            self.next()
            return Range(None, None, "", self.expr())
        lhs = self.expr_list()
        t = self.peek()
        if t.kind == "op" and t.text in ASSIGN_OPS:
            self.next()
            if self.at("range"):
                self.next()
                key = lhs[0] if lhs else None
                value = lhs[1] if len(lhs) > 1 else None
                return Range(key, value, t.text, self.expr())
            return Assign(lhs, t.text, self.expr_list())
        if self.at("++", "--"):
            self.next()
            return Other("incdec", lhs)
        if self.at("<-"):
            self.next()
            return Other("send", [*lhs, self.expr()])
        return ExprStmt(lhs[0]) if len(lhs) == 1 else Other("exprs", lhs)

    def expr_list(self) -> list[Node]:
        out = [self.type_or_expr()]
        while self.at(","):
            self.next()
            out.append(self.type_or_expr())
        return out

    def return_stmt(self) -> Node:
        self.expect("return")
        if self.at(*END_OF_STMT):
            return Return([])
        return Return(self.expr_list())

    def if_stmt(self) -> Node:
        self.expect("if")
        init, cond = self.header()
        if cond is None:
            raise GoSyntaxError(f"line {self.peek().line}: if without a condition")
        body = self.block()
        orelse: Node | None = None
        if self.at("else"):
            self.next()
            orelse = self.if_stmt() if self.at("if") else self.block()
        return If(init, cond, body, orelse)

    def header(self) -> tuple[Node | None, Node | None]:
        """`[init ;] [cond]` of an if/switch header, ending before its `{`."""
        self.no_lit += 1
        try:
            init: Node | None = None
            first = None if self.at("{") else self.simple_stmt()
            if self.at(";"):
                self.next()
                init = first
                first = None if self.at("{") else self.simple_stmt()
            return init, _stmt_expr(first)
        finally:
            self.no_lit -= 1

    def for_stmt(self) -> Node:
        self.expect("for")
        header: list[Node] = []
        self.no_lit += 1
        try:
            while not self.at("{"):
                if self.at(";"):
                    self.next()
                    continue
                header.append(self.simple_stmt())
        finally:
            self.no_lit -= 1
        return For(header, self.block())

    def switch_stmt(self) -> Node:
        self.next()  # switch | select
        init, tag = self.header()
        self.expect("{")
        clauses: list[tuple[list[Node], Block]] = []
        self.skip_semis()
        while not self.at("}"):
            exprs: list[Node] = []
            if self.at("case"):
                self.next()
                exprs = [self.simple_stmt()]
                while self.at(","):
                    self.next()
                    exprs.append(self.simple_stmt())
            else:
                self.expect("default")
            self.expect(":")
            clauses.append((exprs, Block(self.stmt_list(("case", "default", "}")))))
        self.expect("}")
        return Switch(init, tag, clauses)

    def decl_stmt(self) -> Node:
        kind = self.ident()  # var | const | type
        specs = self.value_specs(kind)
        names = [name for name, _ in specs]
        values = [v for _, v in specs if v is not None]
        return VarDecl(names, values if len(values) == len(names) else [])

    def value_specs(self, kind: str) -> list[tuple[str, Node | None]]:
        if self.at("("):
            self.next()
            out: list[tuple[str, Node | None]] = []
            self.skip_semis()
            while not self.at(")"):
                out += self.value_spec(kind)
                self.skip_semis()
            self.expect(")")
            return out
        return self.value_spec(kind)

    def value_spec(self, kind: str) -> list[tuple[str, Node | None]]:
        if kind == "type":
            self.skip_type_spec()
            return []
        names = [self.ident()]
        while self.at(","):
            self.next()
            names.append(self.ident())
        if not self.at("=", ";", ")"):
            self.type_()
        values: list[Node] = []
        if self.at("="):
            self.next()
            values = self.expr_list()
        if len(values) != len(names):
            return [(n, None) for n in names]
        return list(zip(names, values, strict=True))

    def skip_type_spec(self) -> None:
        while not self.at(";", ")") and self.peek().kind != "eof":
            if self.at("(", "[", "{"):
                self.skip_balanced()
            else:
                self.next()

    def keyword_stmt(self) -> Node:
        word = self.ident()
        parts: list[Node] = []
        if word in ("go", "defer"):
            parts = [self.expr()]
        elif not self.at(*END_OF_STMT):
            self.ident()  # break/continue/goto LABEL
        return Other(word, parts)


def _stmt_expr(stmt: Node | None) -> Node | None:
    if stmt is None:
        return None
    if isinstance(stmt, ExprStmt):
        return stmt.x
    return stmt  # a type switch guard (x := v.(type)) stays a statement


_TYPE_PARSERS = {
    "*": Parser.pointer_type,
    "[": Parser.array_type,
    "...": Parser.variadic_type,
    "(": Parser.paren_type,
    "map": Parser.map_type,
    "chan": Parser.chan_type,
    "<-": Parser.chan_type,
    "func": Parser.func_type,
    "struct": Parser.braced_type,
    "interface": Parser.braced_type,
}

_STMT_KEYWORDS = {
    "return": Parser.return_stmt,
    "if": Parser.if_stmt,
    "for": Parser.for_stmt,
    "switch": Parser.switch_stmt,
    "select": Parser.switch_stmt,
    "var": Parser.decl_stmt,
    "const": Parser.decl_stmt,
    "type": Parser.decl_stmt,
    "go": Parser.keyword_stmt,
    "defer": Parser.keyword_stmt,
    "break": Parser.keyword_stmt,
    "continue": Parser.keyword_stmt,
    "goto": Parser.keyword_stmt,
    "fallthrough": Parser.keyword_stmt,
}


def _number(t: Token) -> int | float | complex:
    text = t.text
    if t.kind == "imag":
        return complex(0, float(text[:-1]))
    if t.kind == "float":
        return float(text)
    if len(text) > 1 and text[0] == "0" and text[1].isdigit():
        return int(text, 8)
    return int(text, 0)


# ------------------------------------------------------------------------------ files


@dataclass
class SourceFile:
    """One Go file: its package, imports and top-level declarations."""

    path: PurePosixPath
    package: str = ""
    imports: dict[str, str] = field(default_factory=dict)  # local name -> import path
    funcs: list[FuncDecl] = field(default_factory=list)
    values: list[ValueSpec] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    _bodies: dict[int, Block] = field(default_factory=dict)

    def body(self, decl: FuncDecl) -> Block:
        """A function's body, parsed on first use."""
        start = decl.tokens[0]
        if start not in self._bodies:
            self._bodies[start] = Parser(self.tokens, start).block()
        return self._bodies[start]


def parse_file(path: PurePosixPath, text: str) -> SourceFile:
    tokens = tokenize(text)
    f = SourceFile(path=path, tokens=tokens)
    p = Parser(tokens)
    p.skip_semis()
    p.expect("package")
    f.package = p.ident()
    p.skip_semis()
    while p.peek().kind != "eof":
        _top_decl(p, f)
        p.skip_semis()
    return f


def _top_decl(p: Parser, f: SourceFile) -> None:
    word = p.peek().text
    if word == "import":
        p.next()
        _imports(p, f)
    elif word == "func":
        f.funcs.append(_func_decl(p, f))
    elif word in ("var", "const"):
        p.next()
        f.values += [ValueSpec(n, v, f, word == "const") for n, v in p.value_specs(word)]
    elif word == "type":
        p.next()
        p.value_specs("type")
    else:
        raise GoSyntaxError(f"{f.path}:{p.peek().line}: unexpected {word!r} at top level")


def _imports(p: Parser, f: SourceFile) -> None:
    def one() -> None:
        alias = p.next().text if p.peek().kind in ("ident",) or p.at(".") else None
        path = p.next()
        if path.kind != "string":
            raise GoSyntaxError(f"{f.path}:{path.line}: bad import")
        f.imports[alias or path.text.rstrip("/").split("/")[-1]] = path.text

    if p.at("("):
        p.next()
        p.skip_semis()
        while not p.at(")"):
            one()
            p.skip_semis()
        p.expect(")")
    else:
        one()


def _func_decl(p: Parser, f: SourceFile) -> FuncDecl:
    line = p.expect("func").line
    recv = ""
    if p.at("("):
        p.next()
        while not p.at(")"):
            t = p.next()
            if t.kind == "ident":
                recv = t.text  # the last name is the receiver's type
            if p.at("["):
                p.skip_balanced()
        p.expect(")")
    name = p.ident()
    if p.at("["):
        p.skip_balanced()  # type parameters
    params = p.params()
    p.results()
    start = p.pos
    if p.at("{"):
        p.skip_balanced()
    return FuncDecl(name, recv, params, (start, p.pos), f, line)
