"""Terraform's cty values on the wire (tfplugin6 `DynamicValue.msgpack`), typed by the schema.

Encoding rules (as Terraform core / go-cty's msgpack package write them):

* null is msgpack nil; an unknown value is a msgpack extension value (type 0, or 12 when it
  carries refinements) that this module never looks into: it is decoded to `msgpack.ExtType`
  and written back byte for byte;
* string, number (int, float, or a decimal string for numbers that fit neither), bool;
* list, set and tuple are arrays, map and object are maps with string keys; an object always
  carries every attribute of its type;
* a value of the dynamic pseudo-type travels as a 2-array `[type as JSON bytes, value]`.

Types are cty's JSON type form: `"string"`, `["list", "string"]`,
`["object", {"a": "number"}]`, `"dynamic"`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import msgpack

UNKNOWN = msgpack.ExtType(0, b"\x00")  # what go-cty writes for an unrefined unknown value

CtyType = Any  # str | list (cty JSON type)


class CodecError(ValueError):
    """A value does not fit the type it was given."""


def decode(data: bytes) -> Any:
    """msgpack bytes -> Python value; unknowns stay `msgpack.ExtType`."""
    if not data:
        return None
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def encode(value: Any) -> bytes:
    """Python value -> msgpack bytes (the inverse of `decode`)."""
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def is_unknown(value: Any) -> bool:
    return isinstance(value, msgpack.ExtType)


def type_json(ty: CtyType) -> bytes:
    """The bytes of a cty type as tfplugin6 `Schema.Attribute.type` wants them."""
    return json.dumps(ty, separators=(",", ":"), sort_keys=True).encode()


def dynamic(ty: CtyType, value: Any) -> list[Any]:
    """A value of the dynamic pseudo-type: `[type JSON, value]`."""
    return [type_json(ty), conform(value, ty)]


def conform(value: Any, ty: CtyType) -> Any:
    """Shape a JSON-ish Python value to a cty type: objects get every attribute (missing ones
    null, unknown ones dropped), numbers stay numbers, sets and lists become lists.
    Raises CodecError when the value cannot have that type."""
    if value is None or is_unknown(value):
        return value
    if ty == "dynamic":
        return _conform_dynamic(value)
    if isinstance(ty, str):
        return _conform_primitive(value, ty)
    kind = ty[0]
    shape = _COLLECTIONS.get(kind) if isinstance(kind, str) else None
    if shape is None:
        raise CodecError(f"unsupported type {ty!r}")
    return shape(value, ty)


def _conform_dynamic(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], bytes):
        return value  # already [type, value]
    return dynamic(infer_type(value), value)


def _conform_sequence(value: Any, ty: list[Any]) -> list[Any]:
    """`["list", T]` or `["set", T]`: both travel as an array."""
    if not isinstance(value, list):
        raise CodecError(f"expected a {ty[0]}, got {type(value).__name__}")
    return [conform(v, ty[1]) for v in value]


def _conform_map(value: Any, ty: list[Any]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CodecError(f"expected a map, got {type(value).__name__}")
    return {str(k): conform(v, ty[1]) for k, v in value.items()}


def _conform_object(value: Any, ty: list[Any]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CodecError(f"expected an object, got {type(value).__name__}")
    return {name: conform(value.get(name), at) for name, at in ty[1].items()}


def _conform_tuple(value: Any, ty: list[Any]) -> list[Any]:
    if not isinstance(value, list) or len(value) != len(ty[1]):
        raise CodecError("tuple length mismatch")
    return [conform(v, t) for v, t in zip(value, ty[1], strict=True)]


_COLLECTIONS: dict[str, Callable[[Any, list[Any]], Any]] = {
    "list": _conform_sequence,
    "set": _conform_sequence,
    "map": _conform_map,
    "object": _conform_object,
    "tuple": _conform_tuple,
}


def _conform_primitive(value: Any, ty: str) -> Any:
    to_primitive = _PRIMITIVES.get(ty)
    if to_primitive is None:
        raise CodecError(f"expected {ty}, got {value!r}")
    return to_primitive(value)


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, str):
        return value
    raise CodecError(f"expected string, got {value!r}")


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise CodecError("expected a number, got a bool")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return _parse_number(value)
    raise CodecError(f"expected number, got {value!r}")


def _parse_number(text: str) -> int | float:
    """A decimal string as a number: an int when it is written as one, else a float."""
    try:
        f = float(text)
    except ValueError as exc:
        raise CodecError(f"expected a number, got {text!r}") from exc
    return int(f) if f.is_integer() and "." not in text and "e" not in text else f


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise CodecError(f"expected bool, got {value!r}")


_PRIMITIVES: dict[str, Callable[[Any], Any]] = {
    "string": _to_string,
    "number": _to_number,
    "bool": _to_bool,
}


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def infer_type(value: Any) -> CtyType:
    """The cty type Terraform would infer for a JSON value (used for dynamic values)."""
    if value is None:
        return "dynamic"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [infer_type(v) for v in value]]
    if isinstance(value, dict):
        return ["object", {k: infer_type(v) for k, v in value.items()}]
    raise CodecError(f"cannot infer a type for {value!r}")


def contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    return False
