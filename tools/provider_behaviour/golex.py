"""A lexer for Go source (the language spec's tokens, with automatic semicolons).

Only what reading provider schemas needs: identifiers, literals (string values decoded),
operators; comments are dropped; a newline after a line's final token becomes ";" where the
Go spec inserts one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPERATORS = sorted(
    [
        "<<=", ">>=", "&^=", "...", "&&", "||", "<-", "++", "--", "==", "!=", "<=", ">=", ":=",
        "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<", ">>", "&^", "+", "-", "*", "/",
        "%", "&", "|", "^", "<", ">", "=", "!", "(", ")", "[", "]", "{", "}", ",", ";", ".",
        ":", "~",
    ],
    key=len,
    reverse=True,
)
_OPS = "|".join(re.escape(op) for op in OPERATORS)
TOKEN_RE = re.compile(
    rf"""
    (?P<ws>[ \t\r]+)
  | (?P<nl>\n)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*.*?\*/)
  | (?P<raw>`[^`]*`)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<char>'(?:[^'\\\n]|\\[^\n]+?)')
  | (?P<number>(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+
        |(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)i?)
  | (?P<ident>[^\W\d]\w*)
  | (?P<op>{_OPS})
    """,
    re.S | re.X,
)
SEMI_AFTER_OPS = frozenset({"++", "--", ")", "]", "}"})
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            "\\": "\\", "'": "'", '"': '"'}
_ESCAPE_RE = re.compile(r"\\(?:([abfnrtv\\'\"])|([0-7]{3})|x([0-9a-fA-F]{2})"
                        r"|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))")


class GoSyntaxError(ValueError):
    """The source is not Go as this lexer/parser understands it."""


@dataclass(frozen=True)
class Token:
    kind: str  # ident | int | float | imag | char | string | op | eof
    text: str  # source text (for string: the decoded value)
    line: int


def decode_string(body: str) -> str:
    """An interpreted Go string literal's value (without its quotes); byte escapes (\\ooo,
    \\xhh) are taken as code points, which is exact for ASCII."""

    def one(m: re.Match[str]) -> str:
        simple, octal, hex2, u4, u8 = m.groups()
        if simple:
            return _ESCAPES[simple]
        return chr(int(octal, 8) if octal else int(hex2 or u4 or u8, 16))

    return _ESCAPE_RE.sub(one, body)


def _number_kind(text: str) -> str:
    if text.endswith("i"):
        return "imag"
    if text[:2].lower() in ("0x", "0b", "0o"):
        return "int"
    return "float" if any(c in text for c in ".eE") else "int"


def _needs_semicolon(last: Token | None) -> bool:
    if last is None:
        return False
    if last.kind in ("int", "float", "imag", "char", "string"):
        return True
    if last.kind == "ident":
        return True  # of the keywords, only break/continue/fallthrough/return end lines
    return last.kind == "op" and last.text in SEMI_AFTER_OPS


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    line = 1
    pos = 0
    last: Token | None = None
    for m in TOKEN_RE.finditer(text):
        if m.start() != pos:
            raise GoSyntaxError(f"line {line}: unexpected {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        value = m.group()
        newlines = value.count("\n") if kind in ("nl", "block_comment", "raw") else 0
        if kind in ("nl", "block_comment") and newlines:
            if _needs_semicolon(last):
                tokens.append(Token("op", ";", line))
                last = None
            line += newlines
            continue
        if kind in ("ws", "nl", "line_comment", "block_comment"):
            continue
        token = _token(kind or "", value, line)
        line += newlines
        tokens.append(token)
        last = token
    if pos != len(text):
        raise GoSyntaxError(f"line {line}: unexpected {text[pos:pos + 20]!r}")
    if _needs_semicolon(last):
        tokens.append(Token("op", ";", line))
    tokens.append(Token("eof", "", line))
    return tokens


def _token(kind: str, value: str, line: int) -> Token:
    if kind == "raw":
        return Token("string", value[1:-1].replace("\r", ""), line)
    if kind == "string":
        return Token("string", decode_string(value[1:-1]), line)
    if kind == "char":
        return Token("char", decode_string(value[1:-1]), line)
    if kind == "number":
        return Token(_number_kind(value), value.replace("_", ""), line)
    return Token(kind, value, line)
