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
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], bytes):
            return value  # already [type, value]
        return dynamic(infer_type(value), value)
    if isinstance(ty, str):
        return _conform_primitive(value, ty)
    kind = ty[0]
    if kind in ("list", "set"):
        if not isinstance(value, list):
            raise CodecError(f"expected a {kind}, got {type(value).__name__}")
        return [conform(v, ty[1]) for v in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise CodecError(f"expected a map, got {type(value).__name__}")
        return {str(k): conform(v, ty[1]) for k, v in value.items()}
    if kind == "object":
        if not isinstance(value, dict):
            raise CodecError(f"expected an object, got {type(value).__name__}")
        return {name: conform(value.get(name), at) for name, at in ty[1].items()}
    if kind == "tuple":
        if not isinstance(value, list) or len(value) != len(ty[1]):
            raise CodecError("tuple length mismatch")
        return [conform(v, t) for v, t in zip(value, ty[1], strict=True)]
    raise CodecError(f"unsupported type {ty!r}")


def _conform_primitive(value: Any, ty: str) -> Any:
    if ty == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return _number_text(value)
        if isinstance(value, str):
            return value
    elif ty == "number":
        if isinstance(value, bool):
            raise CodecError("expected a number, got a bool")
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                f = float(value)
            except ValueError as exc:
                raise CodecError(f"expected a number, got {value!r}") from exc
            return int(f) if f.is_integer() and "." not in value and "e" not in value else f
    elif ty == "bool":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
    raise CodecError(f"expected {ty}, got {value!r}")


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
