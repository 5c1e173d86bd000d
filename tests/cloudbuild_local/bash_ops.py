"""The bash-style operations of dynamic substitutions (`${_TAG:0:7}`, `${_X:-default}`, ...).

Cloud Build evaluates them with the drone/envsubst library (its local builder vendors it); this
follows that library's documented table: case (`^ ^^ , ,,`), substring (`:n`, `:n:len`),
defaults (`:- - := =`, all "if empty"), glob trims (`# ## % %%`, with envsubst's copy of Go's
path.Match, where `*` and `?` also match `/`, and an empty match does not count) and literal
replacement (`/ // /# /%`). `${#VAR}`, `+`, `?` and `@` forms are not supported there and raise
InvalidBuild here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.cloudbuild_local.errors import InvalidBuild

Expand = Callable[[str], str]  # expands substitution references inside an operand


def _glob(pattern: str) -> re.Pattern[str]:
    """envsubst's path.Match as a regex: `*` any run, `?` any character, `[...]` a class,
    `\\c` the character c."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body.startswith("^") else "[" + body + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.S)


def _trim_prefix(value: str, pattern: str, longest: bool) -> str:
    glob = _glob(pattern)
    cuts = [n for n in range(1, len(value) + 1) if glob.fullmatch(value[:n])]
    if not cuts:
        return value
    return value[(max(cuts) if longest else min(cuts)) :]


def _trim_suffix(value: str, pattern: str, longest: bool) -> str:
    glob = _glob(pattern)
    cuts = [n for n in range(len(value)) if glob.fullmatch(value[n:])]
    if not cuts:
        return value
    return value[: (min(cuts) if longest else max(cuts))]


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _substring(value: str, spec: str) -> str:
    parts = spec.split(":")
    pos = _int(parts[0])
    if pos is None:
        return value  # bash returns the string when the offset does not parse
    if pos < 0:
        pos = max(len(value) + pos, 0)
    if len(parts) == 1:
        return value[pos:]
    length = _int(parts[1])
    return value if length is None else value[pos : pos + length]


def _replace(value: str, spec: str, expand: Expand) -> str:
    mode = spec[:1] if spec[:1] in "/#%" else ""
    body = spec[len(mode) :]
    pattern, _, replacement = body.partition("/")
    pattern, replacement = expand(pattern), expand(replacement)
    if mode == "/":
        return value.replace(pattern, replacement)
    if mode == "#":
        return replacement + value[len(pattern) :] if value.startswith(pattern) else value
    if mode == "%":
        return value[: len(value) - len(pattern)] + replacement if value.endswith(pattern) \
            else value
    return value.replace(pattern, replacement, 1)


_CASE: dict[str, Callable[[str], str]] = {
    "^^": str.upper,
    ",,": str.lower,
    "^": lambda v: v[:1].upper() + v[1:],
    ",": lambda v: v[:1].lower() + v[1:],
}
_DEFAULTS = (":-", ":=", "-", "=")
_TRIMS = {"##": (_trim_prefix, True), "#": (_trim_prefix, False),
          "%%": (_trim_suffix, True), "%": (_trim_suffix, False)}


def apply(value: str, op: str, expand: Expand, text: str) -> str:
    """`value` transformed by the operator part `op` of `text` (e.g. op ':0:7' of
    '${_TAG:0:7}'); operands are expanded with `expand` first."""
    if op in _CASE:
        return _CASE[op](value)
    for prefix in _DEFAULTS:
        if op.startswith(prefix):
            return value or expand(op[len(prefix) :])
    if op.startswith(":") and not op.startswith((":+", ":?")):
        return _substring(value, expand(op[1:]))
    for prefix, (trim, longest) in _TRIMS.items():
        if op.startswith(prefix):
            return trim(value, expand(op[len(prefix) :]), longest)
    if op.startswith("/"):
        return _replace(value, op[1:], expand)
    raise InvalidBuild(
        f"substitution '{text}': this bash expansion is not supported by Cloud Build's dynamic "
        "substitutions (supported: ^ ^^ , ,, :n :n:len :- - := = # ## % %% / // /# /%)"
    )
