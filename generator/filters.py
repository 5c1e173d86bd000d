"""Escaping filters: one per target language. Every answer string that lands in a rendered file
goes through the filter of that file's language. Standard library only."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

_HCL_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def hcl_string(value: str) -> str:
    """A quoted HCL string literal whose value is exactly `value` (no interpolation)."""
    out = []
    for ch in str(value):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    text = "".join(out)
    # template sequences: `${` and `%{` start interpolation/directives; doubling escapes them
    text = text.replace("${", "$${").replace("%{", "%%{")
    return f'"{text}"'


def hcl(value: Any, indent: int = 0) -> str:
    """An HCL expression for a JSON-like value (str, bool, int, float, None, list, dict)."""
    pad = "  " * indent
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [f"{pad}  {hcl(v, indent + 1)}," for v in value]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        pairs = [(_hcl_key(str(k)), hcl(v, indent + 1)) for k, v in value.items()]
        return "{\n" + "\n".join(f"{pad}  {line}" for line in _aligned(pairs)) + f"\n{pad}}}"
    raise TypeError(f"cannot express {type(value).__name__} in HCL")


def _aligned(pairs: list[tuple[str, str]]) -> list[str]:
    """`key = value` lines aligned as `terraform fmt` aligns them: the `=` of consecutive
    single-line attributes line up; an attribute whose value spans lines stands alone."""
    lines: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        lines.extend(f"{k.ljust(width)} = {v}" for k, v in run)
        run.clear()

    for key, text in pairs:
        if "\n" in text:
            flush()
            lines.append(f"{key} = {text}")
        else:
            run.append((key, text))
    flush()
    return lines


def _hcl_key(key: str) -> str:
    return key if _HCL_IDENT.match(key) else hcl_string(key)


def hcl_attributes(values: Mapping[str, Any], indent: int = 0) -> str:
    """`name = value` lines (no trailing newline) for the body of a block nested `indent`
    levels deep (a module call: 1), aligned as `terraform fmt` aligns them."""
    for key in values:
        if not _HCL_IDENT.match(key):
            raise ValueError(f"{key!r} is not a valid Terraform argument name")
    pad = "  " * indent
    return "\n".join(pad + line for line in _aligned([(k, hcl(v, indent)) for k, v in
                                                       values.items()]))


def hcl_tfvars(values: Mapping[str, Any]) -> str:
    """A terraform.tfvars body, aligned as `terraform fmt` aligns it."""
    return hcl_attributes(values) + "\n" if values else ""


def yaml(value: Any) -> str:
    """A YAML flow scalar/collection for a value: JSON is valid YAML 1.2 and needs no quoting
    rules of its own (`: #`, leading `-`, `*`, `&`, `!`, `%`, `@` are all inside quotes)."""
    return _YAML_UNPRINTABLE.sub(
        lambda m: "".join(f"\\u{unit:04x}" for unit in _utf16_units(m.group())),
        json.dumps(value, ensure_ascii=False),
    )


# YAML allows only these characters in a stream, even inside quotes; NEL, LS and PS are line
# breaks that a parser folds, and a BOM is dropped: escape them all
_YAML_UNPRINTABLE = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


def _utf16_units(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def sh(value: Any) -> str:
    """One POSIX shell word whose value is exactly `value`."""
    return shlex.quote(str(value))


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(value: Any) -> str:
    """Markdown text that shows `value` literally (no markup, no raw HTML)."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


_BACKTICK_RUN = re.compile(r"`+")
_LINE_ENDING = re.compile(r"\r\n|\r|\n")


def md_code(value: Any, table: bool = False) -> str:
    """A Markdown code span that shows `value` exactly (CommonMark 0.31, 6.1 code spans): a
    backtick fence one longer than the longest backtick run inside, padded with a space where
    the value starts or ends with a backtick, or starts and ends with a space (a parser strips
    one of each). Backslashes and HTML are literal inside a code span, so nothing is escaped,
    except in a GFM table cell (`table=True`), which ends at any unescaped `|`, even inside a
    code span: there `|` is written `\\|`, which the table reads back as `|`. Line endings
    become spaces, as a parser would make them (a line break would also end the paragraph)."""
    text = _LINE_ENDING.sub(" ", str(value))
    if not text:
        raise ValueError("an empty value has no Markdown code span")
    fence = "`" * (max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0) + 1)
    padded = text.startswith("`") or text.endswith("`") or (
        text.startswith(" ") and text.endswith(" ") and text.strip(" ") != ""
    )
    pad = " " if padded else ""
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


FILTERS = {
    "hcl": hcl,
    "hcl_attributes": hcl_attributes,
    "hcl_tfvars": hcl_tfvars,
    "yaml": yaml,
    "sh": sh,
    "md": md,
    "md_code": md_code,
}
