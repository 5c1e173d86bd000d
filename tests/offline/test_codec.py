"""The cty msgpack codec: unknowns pass through untouched, objects are complete, sets and
dynamic values keep their wire shapes."""

from __future__ import annotations

import json

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.offline import codec


def test_unknown_is_passed_through_byte_for_byte() -> None:
    refined = msgpack.ExtType(12, b"\x81\x01\xc3")  # cty's refined unknown (not null)
    raw = codec.encode({"a": codec.UNKNOWN, "b": [refined, "x"]})
    value = codec.decode(raw)
    assert codec.is_unknown(value["a"]) and codec.is_unknown(value["b"][0])
    assert value["b"][0] == refined
    assert codec.encode(value) == raw


def test_unrefined_unknown_matches_go_cty_encoding() -> None:
    # go-cty writes an unknown as fixext1, type 0, one zero byte: d4 00 00
    assert codec.encode(codec.UNKNOWN) == b"\xd4\x00\x00"


def test_conform_fills_every_object_attribute_and_drops_extras() -> None:
    ty = ["object", {"name": "string", "labels": ["map", "string"], "count": "number"}]
    assert codec.conform({"name": "x", "extra": 1}, ty) == {
        "name": "x",
        "labels": None,
        "count": None,
    }


def test_sets_and_lists_are_arrays() -> None:
    ty = ["object", {"s": ["set", "string"], "l": ["list", "number"]}]
    value = codec.conform({"s": ["a", "b"], "l": [1, 2.5]}, ty)
    assert codec.decode(codec.encode(value)) == {"s": ["a", "b"], "l": [1, 2.5]}


def test_dynamic_values_travel_as_type_and_value() -> None:
    dyn = codec.dynamic(["list", "string"], ["a"])
    assert json.loads(dyn[0]) == ["list", "string"] and dyn[1] == ["a"]
    decoded = codec.decode(codec.encode({"d": dyn}))
    assert isinstance(decoded["d"][0], bytes)  # the type stays msgpack bin, as go-cty writes it
    assert codec.conform(decoded["d"], "dynamic") == decoded["d"]


def test_dynamic_infers_a_type_for_plain_json() -> None:
    dyn = codec.conform({"a": [1, "x"]}, "dynamic")
    assert json.loads(dyn[0]) == ["object", {"a": ["tuple", ["number", "string"]]}]


def test_state_json_numbers_and_strings_convert() -> None:
    assert codec.conform("12", "number") == 12
    assert codec.conform("1.5", "number") == 1.5
    assert codec.conform(3, "string") == "3"
    assert codec.conform("true", "bool") is True


@pytest.mark.parametrize(
    ("value", "ty"),
    [("abc", "number"), ([1], "string"), ({"a": 1}, ["list", "string"]), (True, "number")],
)
def test_conform_rejects_values_of_the_wrong_type(value: object, ty: object) -> None:
    with pytest.raises(codec.CodecError):
        codec.conform(value, ty)


def test_type_json_is_compact() -> None:
    assert codec.type_json(["map", "string"]) == b'["map","string"]'


scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=8))
values = st.recursive(
    st.one_of(scalars, st.just(codec.UNKNOWN)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(values)
def test_round_trip(value: object) -> None:
    assert codec.decode(codec.encode(value)) == value
