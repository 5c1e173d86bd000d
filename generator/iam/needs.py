"""Declared needs: what an identity must be able to do, as data next to what gives it the job.

A needs file is YAML. Each need names permissions and the scope they apply to (`scope:`, one of
`scopes.KINDS`, plus `list_prefix` for `storage.objects.list` on a bucket), says why, and may
point at the Google documentation (`see`) and hold only under a condition (`when`). Values are
templates: `${a.b[0]}` is read from the file's context (an environment's config file, a
trigger's substitutions, a planned resource's attributes); a template that is exactly one
`${...}` keeps the value's type (a list, a bool). See docs/decisions/0005-iam-proof.md.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.iam import scopes
from generator.iam.address import AddressError, steps

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
Lookup = Callable[[str], Any]


class NeedsError(ValueError):
    """A needs file that does not follow the format; the message names file and line."""


@dataclass(frozen=True)
class Need:
    principal: str  # canonical (identities.principal)
    permission: str
    scope: str  # canonical (scopes.name)
    why: str
    source: str  # the needs file, relative to the repo
    line: int
    list_prefix: str = ""  # storage.objects.list: the prefix the request lists
    see: str = ""
    context: str = ""  # where the values came from, e.g. "config/dev.yaml"

    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


@dataclass(frozen=True)
class Spec:
    """One need as written: templates, evaluated per context by `evaluate`."""

    permissions: tuple[str, ...]
    on: Mapping[str, Any]  # scope kind -> template (or a list of templates: the name's parts)
    why: str
    source: str
    line: int
    see: str = ""
    when: Any = None
    identity: str = ""
    unless: Any = None


_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BASE_LOADER):  # type: ignore[misc]
    """SafeLoader that records each mapping's line as `__line__`."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read(path: Path, rel: str) -> dict[str, Any]:
    try:
        stat = path.stat()
    except OSError as exc:
        raise NeedsError(f"{rel}: cannot read: {exc}") from exc
    return _read(path, rel, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _read(path: Path, rel: str, _mtime: int, _size: int) -> dict[str, Any]:
    """A needs file, parsed once per version of it (validate reads the same files per root)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise NeedsError(f"{rel}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise NeedsError(f"{rel}: expected a mapping at the top level")
    return {str(k): v for k, v in data.items()}


def specs(items: Any, source: str, identity: str = "") -> list[Spec]:
    """The needs of a `needs:` list."""
    if not isinstance(items, list):
        raise NeedsError(f"{source}: 'needs' must be a list")
    out = []
    for item in items:
        line = int(item.get("__line__", 0)) if isinstance(item, dict) else 0
        where = f"{source}:{line}"
        if not isinstance(item, dict):
            raise NeedsError(f"{where}: a need must be a mapping")
        perms = item.get("permissions")
        on = item.get("scope")
        if not isinstance(perms, list) or not perms or not all(isinstance(p, str) for p in perms):
            raise NeedsError(f"{where}: 'permissions' must be a non-empty list of permissions")
        if not isinstance(on, dict) or not _scope_keys(on):
            raise NeedsError(f"{where}: 'scope' must name one scope: one of "
                             + ", ".join(scopes.KINDS))
        if not str(item.get("why", "")).strip():
            raise NeedsError(f"{where}: every need says 'why' (what the code does)")
        out.append(Spec(tuple(perms), {k: v for k, v in on.items() if k != "__line__"},
                        str(item["why"]).strip(), source, line, str(item.get("see", "")),
                        item.get("when"), str(item.get("identity", identity)),
                        item.get("unless")))
    return out


def _scope_keys(on: Mapping[str, Any]) -> list[str]:
    keys = [k for k in on if k in scopes.KINDS]
    return keys if len(keys) == 1 and set(on) <= {*scopes.KINDS, "list_prefix", "__line__"} \
        else []


# --- templates -----------------------------------------------------------------------------


def lookup_in(data: Any) -> Lookup:
    """A lookup over nested mappings and lists: `a.b[0]`, `a["k"]`."""

    def lookup(path: str) -> Any:
        value = data
        try:
            parts = steps(path.strip())
        except AddressError:
            return None
        for part in parts:
            value = value.get(part.name) if isinstance(value, Mapping) else None
            if part.indexed and value is not None:
                value = _index(value, part.key)
        return value

    return lookup


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
        return value[key]
    if isinstance(value, Mapping):
        return value.get(key)
    return None


def expand(template: Any, lookup: Lookup) -> Any:
    """A template with its ${...} replaced; None when a value it needs is missing."""
    if not isinstance(template, str):
        return template
    whole = _PLACEHOLDER.fullmatch(template.strip())
    if whole:
        return lookup(whole.group(1))
    missing = False

    def sub(m: re.Match[str]) -> str:
        nonlocal missing
        value = lookup(m.group(1))
        if value is None or isinstance(value, Mapping | list):
            missing = True
            return ""
        return str(value).lower() if isinstance(value, bool) else str(value)

    text = _PLACEHOLDER.sub(sub, template)
    return None if missing else text


def truthy(value: Any) -> bool:
    return bool(value) and value not in ("false", "False", "0", "null", "None")


@dataclass(frozen=True)
class Unplaced:
    """A need whose identity or scope is not known: reported, never silently dropped."""

    spec: Spec
    context: str
    message: str


def evaluate(spec: Spec, lookup: Lookup, context: str, principal: str | None = None
             ) -> tuple[list[Need], list[Unplaced]]:
    """The needs one spec states in one context (none when its `when` is false)."""
    if spec.when is not None and not truthy(expand(spec.when, lookup)):
        return [], []
    if spec.unless is not None and truthy(expand(spec.unless, lookup)):
        return [], []
    who = principal if principal is not None else expand(spec.identity, lookup)
    kind = _scope_keys(spec.on)[0]
    templates = spec.on[kind] if isinstance(spec.on[kind], list) else [spec.on[kind]]
    parts = [expand(str(t), lookup) for t in templates]
    if not who or any(p is None for p in parts):
        what = "identity" if not who else f"{kind} ({spec.on[kind]})"
        return [], [Unplaced(spec, context, f"its {what} is not known in {context}")]
    try:
        full = [str(p) for p in parts]
        scope = scopes.name(kind, *([full[-1]] if full[-1].startswith("projects/") else full))
    except scopes.ScopeError as exc:
        return [], [Unplaced(spec, context, str(exc))]
    prefix = expand(spec.on.get("list_prefix", ""), lookup) or ""
    return [Need(str(who), p, scope, spec.why, spec.source, spec.line, str(prefix), spec.see,
                 context) for p in spec.permissions], []


def each(values: Any) -> Iterator[Any]:
    if isinstance(values, list | tuple):
        yield from values
    elif values:
        yield values


def permissions_of(needs: Sequence[Need]) -> set[str]:
    return {n.permission for n in needs}
