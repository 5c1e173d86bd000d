"""What the real providers do beyond their schemas, as the stand-ins apply it: which attribute
changes replace a resource, and which values the provider rejects.

The data (`schemas/behaviour.json.gz`) is extracted from the providers' Go source by
`tools/refresh_provider_behaviour.py` (format and provenance there and in
docs/decisions/0002-offline-stand-in-provider.md):

    {"format": 1, "providers": {ADDRESS: {"source": {repo, commit, tag, commit_date, ...},
        "types": {TYPE: {"source": FILE, "force_new": [PATH, ...], "checks": [CHECK, ...],
                         "conditional": [...], "not_read": [...]}}}}}
    PATH  = [NAME | "*", ...]      "*": every element of a list, set or map
    CHECK = {"path": PATH, "via": VALIDATOR, one of
             "enum": [...], "ignore_case": bool | "pattern": GO_REGEXP, "negate": bool |
             "prefix"/"suffix": TEXT, "negate": bool | "length": [MIN, MAX], "unit" |
             "range": [MIN, MAX] | "any": [[CHECK, ...], ...];  optional "unless": [VALUE]}

Pure functions over decoded values (the codec's Python form) and schema blocks.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.offline import codec, schema
from generator.offline.schema import Block

BEHAVIOUR = Path(__file__).with_name("schemas") / "behaviour.json.gz"
# What the stand-in's invented values look like (provider.Faker): a value carrying one is no
# evidence of a configuration error.
FAKE_PREFIX = "offline-"
FAKE_HOST = "offline.invalid"
FAKE_RE = re.compile(rf"{FAKE_PREFIX}[0-9a-f]{{8}}|{re.escape(FAKE_HOST)}")


class BehaviourError(RuntimeError):
    """The behaviour data is missing or unreadable."""


class RegexError(ValueError):
    """A Go regular expression Python's `re` cannot run the same way."""


@dataclass(frozen=True)
class MapKey:
    """An element of a map (tfplugin6 `element_key_string`)."""

    key: str


Step = str | int | MapKey
Steps = tuple[Step, ...]


@dataclass(frozen=True)
class Finding:
    """A value the provider would reject, at its attribute path."""

    summary: str
    detail: str
    path: Steps


@dataclass(frozen=True)
class TypeBehaviour:
    force_new: tuple[tuple[str, ...], ...]
    checks: tuple[dict[str, Any], ...]
    origin: str  # "<file> (<repo> at <tag or commit>)" for messages
    id_format: str = ""  # "projects/{{project}}/secrets/{{secret_id}}"
    id_shortens: bool = False  # ReplaceVarsForId (last path segments) rather than ReplaceVars


# ------------------------------------------------------------------------------ data


@functools.cache
def load() -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(gzip.decompress(BEHAVIOUR.read_bytes()))
    except (OSError, ValueError) as exc:
        raise BehaviourError(f"cannot read the provider behaviour data {BEHAVIOUR}: {exc}") from exc
    if data.get("format") != 1:
        raise BehaviourError(f"{BEHAVIOUR}: unsupported format {data.get('format')!r}")
    return data


def provider_data(name: str) -> dict[str, Any]:
    address = schema.ADDRESSES.get(name, name)
    found: dict[str, Any] = load()["providers"].get(address, {})
    return found


def source_label(source: dict[str, Any]) -> str:
    repo = str(source.get("repo", "")).removeprefix("https://github.com/")
    rev = source.get("tag") or str(source.get("commit", ""))[:12]
    return f"{repo} at {rev}"


@functools.cache
def for_type(provider: str, type_name: str) -> TypeBehaviour | None:
    data = provider_data(provider)
    entry = data.get("types", {}).get(type_name)
    if entry is None:
        return None
    return TypeBehaviour(
        force_new=tuple(tuple(p) for p in entry.get("force_new", ())),
        checks=tuple(entry.get("checks", ())),
        origin=f"{entry.get('source', '')} of {source_label(data.get('source', {}))}",
        id_format=str(entry.get("id_format", "")),
        id_shortens=bool(entry.get("id_shortens", False)),
    )


_VAR_RE = re.compile(r"{{%?(\w+)}}")


def format_id(
    template: str, obj: dict[str, Any], defaults: dict[str, str], *, shorten: bool = False
) -> str | None:
    """An id of the provider's form from the object's values: as they are (the provider's
    ReplaceVars), or the last path segment of each (`shorten`: its ReplaceVarsForId); None when
    a value is not known."""
    parts: list[str] = []
    pos = 0
    for m in _VAR_RE.finditer(template):
        value = obj.get(m.group(1))
        if not isinstance(value, str) or not value:
            value = defaults.get(m.group(1))
        if not isinstance(value, str) or not value:
            return None
        parts += [template[pos:m.start()],
                  value.rstrip("/").rsplit("/", 1)[-1] if shorten else value]
        pos = m.end()
    return "".join([*parts, template[pos:]])


# ------------------------------------------------------------------------------ shapes
# A shape is what a value at a path looks like: ("block", BLOCK) or ("type", CTY_TYPE).

Shape = tuple[str, Any]


def block_shape(block: Block) -> Shape:
    return ("block", block)


def child(shape: Shape, name: str) -> Shape | None:
    kind, what = shape
    if kind == "block":
        if name in schema.attrs(what):
            return ("type", schema.attrs(what)[name][0])
        if name in schema.blocks(what):
            nesting, _min, _max, inner = schema.blocks(what)[name]
            if nesting == "single":
                return ("block", inner)
            return ("type", [nesting, ("block", inner)])
        return None
    if isinstance(what, list) and what[0] == "object":
        inner_ty = what[1].get(name)
        return ("type", inner_ty) if inner_ty is not None else None
    return None


def collection(shape: Shape | None) -> tuple[str, Shape] | None:
    """("list"|"set"|"map", element shape) of a collection shape."""
    if shape is None or shape[0] != "type" or not isinstance(shape[1], list):
        return None
    kind, elem = shape[1][0], shape[1][1]
    if kind not in ("list", "set", "map"):
        return None
    return kind, elem if isinstance(elem, tuple) else ("type", elem)


def canonical(value: Any, shape: Shape | None) -> Any:
    """A value with set elements in a stable order (so two equal sets compare equal)."""
    coll = collection(shape)
    if coll is not None and isinstance(value, list):
        items = [canonical(v, coll[1]) for v in value]
        if coll[0] == "set":
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=repr))
        return items
    if isinstance(value, dict) and shape is not None:
        if coll is not None:  # a map
            return {k: canonical(v, coll[1]) for k, v in value.items()}
        return {k: canonical(v, child(shape, k)) for k, v in value.items()}
    return value


# ------------------------------------------------------------------------------ replacement


@dataclass(frozen=True)
class Prior:
    """What the stand-in knows of a prior state's values: the ones it invented at apply
    (`invented` paths) or could not read after an import (`imported`: its nulls) are no
    evidence of a change."""

    value: Any
    invented: tuple[Steps, ...] = ()
    imported: bool = False

    def unknown(self, steps: Steps, prior: Any) -> bool:
        """Whether the prior value at STEPS is one the stand-in does not really know."""
        if self.imported and prior is None:
            return True
        return any(steps[: len(p)] == p for p in self.invented if p)

    def inside(self, steps: Steps) -> list[Steps]:
        """Invented paths below STEPS, relative to it."""
        n = len(steps)
        return [p[n:] for p in self.invented if len(p) > n and p[:n] == steps]


MASK = "\0invented"


def masked(value: Any, paths: list[Steps]) -> Any:
    """VALUE with the values at PATHS replaced by a marker (so they compare equal)."""
    for path in paths:
        value = _mask_one(value, path)
    return value


def _mask_one(value: Any, path: Steps) -> Any:
    if not path:
        return MASK
    head, rest = path[0], path[1:]
    key = head.key if isinstance(head, MapKey) else head
    if isinstance(value, dict) and isinstance(key, str) and key in value:
        return {**value, key: _mask_one(value[key], rest)}
    if isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
        return [*value[:key], _mask_one(value[key], rest), *value[key + 1:]]
    return value


@dataclass(frozen=True)
class _Walk:
    prior: Prior
    config: Any


def requires_replace(
    tb: TypeBehaviour, block: Block, prior: Prior, planned: Any, config: Any = None
) -> list[Steps]:
    """Paths of force-new attributes (tfplugin6 `requires_replace`) whose planned value differs
    from the prior state's, or whose configured value is known only after apply (as a real
    provider marks it, "forces replacement"); nothing when there is no prior state."""
    if not isinstance(prior.value, dict) or not isinstance(planned, dict):
        return []
    found: list[Steps] = []
    walk = _Walk(prior, config)
    for path in tb.force_new:
        found += _changed(path, prior.value, planned, block_shape(block), (), walk)
    return sorted(set(found), key=lambda s: [str(x) for x in s])


def _changed(path: tuple[str, ...], prior: Any, planned: Any, shape: Shape | None,
             steps: Steps, walk: _Walk) -> list[Steps]:
    if _unknown_config(walk.config, steps, whole=not path):
        return [steps]
    if walk.prior.unknown(steps, prior):
        return []
    if not path or shape is None:
        return [steps] if _differs_at(steps, prior, planned, shape, walk) else []
    head, rest = path[0], path[1:]
    if head != "*":
        return _changed(rest, _get(prior, head), _get(planned, head), child(shape, head),
                        (*steps, head), walk)
    coll = collection(shape)
    if coll is None:
        return []
    kind, elem = coll
    if kind == "set":  # set elements have no address: the set itself changes
        unknown = _unknown_config(walk.config, steps, whole=True)
        return [steps] if unknown or _differs_at(steps, prior, planned, shape, walk) else []
    found: list[Steps] = []
    for key, a, b in _pairs(kind, prior, planned):
        found += _changed(rest, a, b, elem, (*steps, key), walk)
    return found


def _unknown_config(config: Any, steps: Steps, *, whole: bool) -> bool:
    """Whether the configuration is unknown at STEPS (or above; anywhere inside with whole)."""
    value = config
    for step in steps:
        if codec.is_unknown(value):
            return True
        value = value_at(value, (step,))
    return codec.contains_unknown(value) if whole else codec.is_unknown(value)


def _get(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None


def _pairs(kind: str, a: Any, b: Any) -> Iterator[tuple[Step, Any, Any]]:
    if kind == "list":
        a_list = a if isinstance(a, list) else []
        b_list = b if isinstance(b, list) else []
        for i in range(max(len(a_list), len(b_list))):
            yield (i, a_list[i] if i < len(a_list) else None,
                   b_list[i] if i < len(b_list) else None)
    else:
        a_map = a if isinstance(a, dict) else {}
        b_map = b if isinstance(b, dict) else {}
        for k in sorted(set(a_map) | set(b_map)):
            yield MapKey(k), a_map.get(k), b_map.get(k)


def _differs_at(steps: Steps, prior: Any, planned: Any, shape: Shape | None, walk: _Walk) -> bool:
    inside = walk.prior.inside(steps)
    if inside:
        prior, planned = masked(prior, inside), masked(planned, inside)
    return _differs(prior, planned, shape)


def _differs(prior: Any, planned: Any, shape: Shape | None) -> bool:
    if codec.contains_unknown(planned):
        return False  # unknown without the configuration saying so: the stand-in's own
    return bool(canonical(prior, shape) != canonical(planned, shape))


def unknown_paths(value: Any, steps: Steps = ()) -> list[Steps]:
    """Where a (planned) value is unknown."""
    if codec.is_unknown(value):
        return [steps]
    found: list[Steps] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += unknown_paths(v, (*steps, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += unknown_paths(v, (*steps, i))
    return found


def value_at(value: Any, steps: Steps) -> Any:
    for step in steps:
        key = step.key if isinstance(step, MapKey) else step
        if isinstance(value, dict) and isinstance(key, str):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            value = value[key]
        else:
            return None
    return value


def steps_json(steps: Steps) -> list[Any]:
    return [{"key": s.key} if isinstance(s, MapKey) else s for s in steps]


def steps_from_json(data: list[Any]) -> Steps:
    return tuple(MapKey(str(s["key"])) if isinstance(s, dict) else s for s in data)


# ------------------------------------------------------------------------------ checks


def check_config(tb: TypeBehaviour, block: Block, config: Any) -> list[Finding]:
    """What the provider's validators would reject in a configuration: known values only, and
    none the stand-in made up itself."""
    findings: list[Finding] = []
    for check in tb.checks:
        for steps, value in values_at(tuple(check["path"]), config, block_shape(block), ()):
            if value is None or codec.is_unknown(value) or value in check.get("unless", ()):
                continue
            if isinstance(value, str) and FAKE_RE.search(value):
                continue  # made up by the stand-in (an id read from another resource)
            problem = violation(check, value)
            if problem is not None:
                findings.append(Finding(_summary(steps, problem), _detail(check, tb), steps))
    return findings


def values_at(path: tuple[str, ...], value: Any, shape: Shape | None,
              steps: Steps) -> Iterator[tuple[Steps, Any]]:
    """(steps, value) at PATH inside VALUE; set elements are reported at the set's path."""
    if not path:
        yield steps, value
        return
    if value is None or codec.is_unknown(value) or shape is None:
        return
    head, rest = path[0], path[1:]
    if head != "*":
        yield from values_at(rest, _get(value, head), child(shape, head), (*steps, head))
        return
    coll = collection(shape)
    if coll is None:
        return
    kind, elem = coll
    if kind == "map" and isinstance(value, dict):
        for k in sorted(value):
            yield from values_at(rest, value[k], elem, (*steps, MapKey(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from values_at(rest, v, elem, steps if kind == "set" else (*steps, i))


def violation(check: dict[str, Any], value: Any) -> str | None:
    """Why VALUE fails CHECK ("to be one of ...", for "expected X ..."), None if it passes."""
    for kind, test in _TESTS.items():
        if kind in check:
            return test(check, value)
    return None


def _enum(check: dict[str, Any], value: Any) -> str | None:
    allowed = check["enum"]
    if check.get("ignore_case") and isinstance(value, str):
        ok = value.lower() in {str(a).lower() for a in allowed}
    else:
        ok = value in allowed or (not isinstance(value, str) and _number(value) in allowed)
    return None if ok else f"to be one of {go_quote(allowed)}, got {_show(value)}"


def _pattern(check: dict[str, Any], value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        matched = python_regex(check["pattern"]).search(value) is not None
    except RegexError:
        return None
    if matched != bool(check.get("negate")):
        return None
    verb = "not to match" if check.get("negate") else "to match"
    return f"{verb} the regular expression {json.dumps(check['pattern'])}, got {_show(value)}"


def _affix(check: dict[str, Any], value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    kind = "prefix" if "prefix" in check else "suffix"
    text = check[kind]
    has = value.startswith(text) if kind == "prefix" else value.endswith(text)
    if has != bool(check.get("negate")):
        return None
    verb = {"prefix": "start", "suffix": "end"}[kind]
    return f"{'not ' if check.get('negate') else ''}to {verb} with {json.dumps(text)}, got " \
           f"{_show(value)}"


def _length(check: dict[str, Any], value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    n = len(value) if check.get("unit") == "runes" else len(value.encode())
    lo, hi = check["length"]
    if (lo is None or n >= lo) and (hi is None or n <= hi):
        return None
    return f"to have a length {_bounds(lo, hi)}, got {_show(value)} ({n})"


def _range(check: dict[str, Any], value: Any) -> str | None:
    n = _number(value)
    if n is None:
        return None
    lo, hi = check["range"]
    if (lo is None or n >= lo) and (hi is None or n <= hi):
        return None
    return f"to be {_bounds(lo, hi)}, got {_show(value)}"


def _any(check: dict[str, Any], value: Any) -> str | None:
    reasons = []
    for alternative in check["any"]:
        failed = [r for c in alternative if (r := violation(c, value)) is not None]
        if not failed:
            return None
        reasons.append(" and ".join(failed))
    return "; or ".join(reasons)


_TESTS = {
    "enum": _enum, "pattern": _pattern, "prefix": _affix, "suffix": _affix,
    "length": _length, "range": _range, "any": _any,
}


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            return None
    return None


def _bounds(lo: Any, hi: Any) -> str:
    if lo is not None and hi is not None:
        return f"in the range ({lo} - {hi})"
    return f"at least {lo}" if lo is not None else f"at most {hi}"


def _show(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value)


def go_quote(values: list[Any]) -> str:
    """Go's %q of a []string: ["A" "B"]."""
    return "[" + " ".join(json.dumps(v) if isinstance(v, str) else str(v) for v in values) + "]"


def flat_key(steps: Steps) -> str:
    """The SDK's name for a path (lifecycle_rule.0.condition.0.with_state)."""
    return ".".join(s.key if isinstance(s, MapKey) else str(s) for s in steps)


def _summary(steps: Steps, problem: str) -> str:
    return f"expected {flat_key(steps)} {problem}"


def _detail(check: dict[str, Any], tb: TypeBehaviour) -> str:
    via = check.get("via") or "a validator"
    return (
        f"The provider rejects this value ({via} in {tb.origin}); the offline stand-in "
        "applies the same check."
    )


# ------------------------------------------------------------------------------ Go regexps

_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "digit": "0-9", "lower": "a-z", "upper": "A-Z",
    "xdigit": "0-9A-Fa-f", "word": "0-9A-Za-z_", "space": r"\t\n\v\f\r ", "blank": r"\t ",
}
_FLAGS_RE = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([:)])")


@functools.lru_cache(maxsize=1024)
def python_regex(go: str) -> re.Pattern[str]:
    """Go's RE2 syntax as a Python pattern with the same meaning, or RegexError: `$` and `\\z`
    are the end of the text (Python's `\\Z`) unless (?m), POSIX classes are spelled out,
    `\\x{...}` becomes `\\U...`, ASCII classes; Unicode classes and (?U) are refused."""
    out: list[str] = []
    i = 0
    in_class = False
    multiline = False
    while i < len(go):
        c = go[i]
        if c == "\\":
            text, i = _escape(go, i)
            out.append(text)
        elif in_class:
            text, i, in_class = _class_char(go, i)
            out.append(text)
        elif c == "[":
            text, i = _class_start(go, i)
            out.append(text)
            in_class = True
        elif go.startswith("(?", i) and not go.startswith(("(?P<", "(?:"), i):
            text, i, multiline = _flags(go, i, multiline, first=not out)
            out.append(text)
        else:
            out.append(r"\Z" if c == "$" and not multiline else c)
            i += 1
    try:
        return re.compile("".join(out), re.ASCII)
    except re.error as exc:
        raise RegexError(f"{go!r}: {exc}") from exc


def _escape(go: str, i: int) -> tuple[str, int]:
    if i + 1 >= len(go):
        raise RegexError(f"{go!r}: trailing backslash")
    n = go[i + 1]
    if n == "z":
        return r"\Z", i + 2
    if n in "pPQC":
        raise RegexError(f"{go!r}: \\{n} has no Python equivalent")
    if n == "x" and go.startswith("{", i + 2):
        end = go.index("}", i)
        return f"\\U{int(go[i + 3:end], 16):08x}", end + 1
    return go[i:i + 2], i + 2


def _class_start(go: str, i: int) -> tuple[str, int]:
    text = "["
    i += 1
    if go.startswith("^", i):
        text += "^"
        i += 1
    if go.startswith("]", i):
        text += r"\]"
        i += 1
    return text, i


def _class_char(go: str, i: int) -> tuple[str, int, bool]:
    if go.startswith("[:", i):
        end = go.find(":]", i + 2)
        name = go[i + 2:end] if end > 0 else ""
        if name not in _POSIX:
            raise RegexError(f"{go!r}: POSIX class [:{name}:]")
        return _POSIX[name], end + 2, True
    if go[i] == "[":
        return r"\[", i + 1, True
    return go[i], i + 1, go[i] != "]"


def _flags(go: str, i: int, multiline: bool, *, first: bool) -> tuple[str, int, bool]:
    m = _FLAGS_RE.match(go, i)
    if m is None:
        raise RegexError(f"{go!r}: unsupported group at {i}")
    on, off, end = m.group(1), m.group(2) or "", m.group(3)
    if "U" in on + off:
        raise RegexError(f"{go!r}: (?U) has no Python equivalent")
    if end == ")":  # (?flags): to the end of the enclosing group; Python wants it first
        if not first or off:
            raise RegexError(f"{go!r}: inline flags after the start")
        multiline = multiline or "m" in on
    return m.group(0), m.end(), multiline
