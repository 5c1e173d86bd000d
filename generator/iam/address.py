"""Terraform resource addresses and reference traversals, parsed (no regex guessing of keys).

An address such as ``module.platform.module.dataset["training"].google_bigquery_dataset.this``
is a module path (each step a call name and an optional instance key) and a resource
(``data.`` or not, type, name, optional instance key). Keys are strings or integers; a string
key may hold dots, slashes or brackets, so the parser reads quoted strings properly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

Key = str | int | None


class AddressError(ValueError):
    """Not a Terraform address or traversal."""


@dataclass(frozen=True)
class Step:
    """One part of a traversal: a name, optionally indexed (`name`, `name["k"]`, `name[0]`)."""

    name: str
    key: Key = None
    indexed: bool = False
    literal: bool = True  # the index is a constant (a quoted string or an integer)

    @property
    def computed(self) -> bool:
        """An index terraform kept as expression text (e.g. each.key): not a constant."""
        return self.indexed and not self.literal


def _read_key(text: str, i: int) -> tuple[Key, bool, int]:
    """The key starting after '[' at i: (key, is it a literal, index after ']')."""
    if i < len(text) and text[i] == '"':
        decoder = json.JSONDecoder()
        value, end = decoder.raw_decode(text, i)
        if end >= len(text) or text[end] != "]":
            raise AddressError(f"expected ']' after the key in {text!r}")
        return str(value), True, end + 1
    close = text.find("]", i)
    if close < 0:
        raise AddressError(f"unclosed '[' in {text!r}")
    raw = text[i:close]
    try:
        return int(raw), True, close + 1
    except ValueError:
        return raw, False, close + 1  # e.g. each.key, count.index: not a constant


def steps(text: str) -> tuple[Step, ...]:
    """`a.b["k"].c[0]` -> (a, b["k"], c[0]); index expressions that are not constants keep
    their text as key with `indexed` set (callers treat a non-literal key as unknown)."""
    out: list[Step] = []
    i, n = 0, len(text)
    while i < n:
        j = i
        while j < n and text[j] not in ".[":
            j += 1
        name = text[i:j]
        if not name:
            raise AddressError(f"empty step in {text!r}")
        key: Key = None
        indexed, literal = False, True
        if j < n and text[j] == "[":
            key, literal, j = _read_key(text, j + 1)
            indexed = True
        out.append(Step(name, key, indexed, literal))
        if j < n and text[j] == ".":
            j += 1
        i = j
    return tuple(out)


@dataclass(frozen=True)
class ModuleStep:
    name: str
    key: Key = None


@dataclass(frozen=True)
class Address:
    """A resource instance address."""

    modules: tuple[ModuleStep, ...]
    mode: str  # "managed" | "data"
    type: str
    name: str
    key: Key = None

    @property
    def resource(self) -> str:
        """The address within its module, without instance key: `data.T.N` or `T.N`."""
        return ("data." if self.mode == "data" else "") + f"{self.type}.{self.name}"

    def module_path(self) -> str:
        return ".".join(f"module.{m.name}{_key_text(m.key)}" for m in self.modules)

    def __str__(self) -> str:
        prefix = self.module_path()
        own = self.resource + _key_text(self.key)
        return f"{prefix}.{own}" if prefix else own


def _key_text(key: Key) -> str:
    if key is None:
        return ""
    return f"[{key}]" if isinstance(key, int) else f"[{json.dumps(key)}]"


def parse(text: str) -> Address:
    parts = list(steps(text))
    modules: list[ModuleStep] = []
    while len(parts) >= 2 and parts[0].name == "module" and not parts[0].indexed:
        modules.append(ModuleStep(parts[1].name, parts[1].key))
        parts = parts[2:]
    mode = "managed"
    if parts and parts[0].name == "data" and not parts[0].indexed:
        mode, parts = "data", parts[1:]
    if len(parts) != 2 or parts[0].indexed:
        raise AddressError(f"not a resource address: {text!r}")
    return Address(tuple(modules), mode, parts[0].name, parts[1].name, parts[1].key)


def maximal(references: list[str]) -> list[str]:
    """Terraform lists a traversal and each of its prefixes (`a.b.c`, `a.b`): keep only the
    longest of each chain, in first-seen order."""
    unique = list(dict.fromkeys(references))
    return [r for r in unique
            if not any(o != r and (o.startswith(r + ".") or o.startswith(r + "["))
                       for o in unique)]
