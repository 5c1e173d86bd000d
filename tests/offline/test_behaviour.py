"""The providers' behaviour data (generator/offline/schemas/behaviour.json.gz) and how the
stand-ins apply it: replacements (`requires_replace`) and value checks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from generator.offline import behaviour, codec, schema
from generator.offline.behaviour import MapKey, Prior, TypeBehaviour
from generator.offline.proto import tfplugin6_pb2 as pb
from generator.offline.provider import StandInProvider, write_private

UNKNOWN = codec.UNKNOWN


def resource_types(ps: schema.ProviderSchema) -> list[str]:
    return sorted(t for t in ps.types if "." not in t)


def test_every_snapshot_resource_type_has_behaviour() -> None:
    """Every resource type the schema snapshot keeps (the templates' and modules' types plus
    EXTRA_TYPES) has data extracted from its provider's source."""
    missing = [
        f"{ps.name}: {t}"
        for ps in schema.providers()
        for t in resource_types(ps)
        if behaviour.for_type(ps.name, t) is None
    ]
    assert not missing, (
        "no behaviour data for these resource types: run tools/refresh_provider_behaviour.py "
        "with the provider checkouts\n  " + "\n  ".join(missing)
    )


def test_every_path_of_the_data_is_in_the_schema() -> None:
    for ps in schema.providers():
        for t in resource_types(ps):
            tb = behaviour.for_type(ps.name, t)
            assert tb is not None
            paths = list(tb.force_new) + [tuple(c["path"]) for c in tb.checks]
            for path in paths:
                assert _resolves(behaviour.block_shape(ps.resource(t)), path), (t, path)


def _resolves(shape: behaviour.Shape | None, path: tuple[str, ...]) -> bool:
    for step in path:
        if shape is None:
            return False
        if step == "*":
            coll = behaviour.collection(shape)
            shape = coll[1] if coll else None
        else:
            shape = behaviour.child(shape, step)
    return shape is not None


def test_provenance_names_the_source_read() -> None:
    data = behaviour.load()
    assert data["generated_by"] == "tools/refresh_provider_behaviour.py"
    for address, p in data["providers"].items():
        src = p["source"]
        assert src["repo"].startswith("https://github.com/"), address
        assert re.fullmatch(r"[0-9a-f]{40}", src["commit"]), address
        assert src["commit_date"][:2] == "20"
        assert p["version"] == src["wanted_tag"].lstrip("v")
        if src["tag"] != src["wanted_tag"]:
            assert src["note"], f"{address}: read at another commit than the tag, without a note"
        assert p["counts"]["types"] == len(p["types"]) and not p["missing_types"]


def test_the_protected_types_know_their_identity_attributes() -> None:
    """What issue 16 is about: renaming these replaces them (read from the source, checked
    here against what the provider documentation says)."""
    expected = {
        "google_storage_bucket": {("name",), ("location",), ("project",)},
        "google_bigquery_dataset": {("dataset_id",), ("location",), ("project",)},
        "google_kms_crypto_key": {("name",), ("key_ring",),
                                  ("version_template", "*", "protection_level")},
        "google_kms_key_ring": {("name",), ("location",), ("project",)},
        "google_project": {("project_id",)},
        "google_service_account": {("account_id",), ("project",)},
    }
    for t, paths in expected.items():
        tb = behaviour.for_type("google", t)
        assert tb is not None and paths <= set(tb.force_new), t
    bucket = behaviour.for_type("google", "google_storage_bucket")
    assert bucket is not None and ("versioning",) not in bucket.force_new


# ------------------------------------------------------------------------------ replacement

BLOCK: dict[str, Any] = {
    "attrs": {
        "name": ["string", "r"],
        "labels": [["map", "string"], "o"],
        "region": ["string", "oc"],
        "id": ["string", "c"],
    },
    "blocks": {
        "rule": ["list", 0, 0, {"attrs": {"kind": ["string", "r"], "note": ["string", "o"]}}],
        "tag": ["set", 0, 0, {"attrs": {"key": ["string", "r"], "id": ["string", "c"]}}],
    },
}
TB = TypeBehaviour(
    force_new=(("name",), ("rule", "*", "kind"), ("tag", "*", "key"), ("labels", "*")),
    checks=(),
    origin="test",
)


def obj(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "a", "labels": None, "region": "r1", "id": "x",
                            "rule": [], "tag": []}
    return {**base, **kw}


def replace(prior: Any, planned: Any, config: Any = None, **kw: Any) -> list[Any]:
    return behaviour.requires_replace(TB, BLOCK, Prior(prior, **kw), planned,
                                      planned if config is None else config)


def test_a_changed_force_new_attribute_requires_replacement() -> None:
    assert replace(obj(), obj(name="b")) == [("name",)]
    assert replace(obj(), obj(region="r2")) == []  # not force-new
    assert replace(None, obj(name="b")) == []  # a create replaces nothing


def test_list_block_paths_carry_indices_and_set_paths_stop_at_the_set() -> None:
    prior = obj(rule=[{"kind": "a", "note": None}, {"kind": "b", "note": None}],
                tag=[{"key": "k1", "id": "1"}])
    planned = obj(rule=[{"kind": "a", "note": "x"}, {"kind": "c", "note": None}],
                  tag=[{"key": "k2", "id": "1"}])
    assert replace(prior, planned) == [("rule", 1, "kind"), ("tag",)]
    # a new list element with a force-new value replaces too, as the SDK plans it
    assert replace(obj(), obj(rule=[{"kind": "a", "note": None}])) == [("rule", 0, "kind")]
    # the same set in another order is no change
    two = [{"key": "k1", "id": "1"}, {"key": "k2", "id": "2"}]
    assert replace(obj(tag=two), obj(tag=list(reversed(two)))) == []


def test_map_elements_are_element_key_strings() -> None:
    assert replace(obj(labels={"a": "1"}), obj(labels={"a": "2"})) == [("labels", MapKey("a"))]


def test_unknowns_replace_only_when_the_configuration_is_unknown() -> None:
    planned = obj(name=UNKNOWN)
    # unknown in the configuration (another resource's new id): "forces replacement"
    assert replace(obj(), planned, planned) == [("name",)]
    # unknown only in the plan (the stand-in's own computed marking): no evidence
    assert replace(obj(), planned, obj()) == []


def test_values_the_stand_in_invented_or_could_not_read_are_no_evidence() -> None:
    assert replace(obj(), obj(name="b"), invented=(("name",),)) == []
    prior = obj(tag=[{"key": "k", "id": "made-up"}])
    planned = obj(tag=[{"key": "k", "id": "other"}])
    assert replace(prior, planned) == [("tag",)]
    assert replace(prior, planned, invented=(("tag", 0, "id"),)) == []
    # an imported object's nulls are unread values, not empty ones
    assert replace(obj(name=None), obj(name="b"), imported=True) == []
    assert replace(obj(name="a"), obj(name="b"), imported=True) == [("name",)]


def test_plan_resource_change_answers_requires_replace_as_tfplugin6_steps() -> None:
    provider = StandInProvider("google")
    block = schema.provider_schema("google").resource("google_kms_crypto_key")
    ty = schema.implied_type(block)
    prior = codec.conform({
        "name": "k", "key_ring": "projects/p/locations/l/keyRings/r", "id": "x",
        "version_template": [{"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
                              "protection_level": "SOFTWARE"}],
    }, ty)
    planned = dict(prior, version_template=[dict(prior["version_template"][0],
                                                 protection_level="HSM")])
    request = pb.PlanResourceChange.Request(
        type_name="google_kms_crypto_key",
        prior_state=pb.DynamicValue(msgpack=codec.encode(prior)),
        proposed_new_state=pb.DynamicValue(msgpack=codec.encode(planned)),
        config=pb.DynamicValue(msgpack=codec.encode(planned)),
        prior_private=write_private({"invented": [["id"]]}),
    )
    resp = provider.PlanResourceChange(request, None)  # type: ignore[arg-type]
    [path] = resp.requires_replace
    assert [s.WhichOneof("selector") for s in path.steps] == [
        "attribute_name", "element_key_int", "attribute_name"]
    assert (path.steps[0].attribute_name, path.steps[1].element_key_int,
            path.steps[2].attribute_name) == ("version_template", 0, "protection_level")


# ------------------------------------------------------------------------------ checks


def findings(check: dict[str, Any], value: Any, block: Any = None) -> list[str]:
    block = block or {"attrs": {"v": ["string", "o"]}}
    tb = TypeBehaviour((), ({"path": ["v"], "via": "test", **check},), "test")
    return [f.summary for f in behaviour.check_config(tb, block, {"v": value})]


@pytest.mark.parametrize(("check", "good", "bad", "message"), [
    ({"enum": ["LIVE", "ANY"], "ignore_case": False}, "LIVE", "live",
     'to be one of ["LIVE" "ANY"], got "live"'),
    ({"enum": ["LIVE"], "ignore_case": True}, "live", "dead", "to be one of"),
    ({"pattern": "^[a-z]+$", "negate": False}, "abc", "abc\n", "to match the regular"),
    ({"pattern": "^deleted", "negate": True}, "user:x", "deleted:user:x", "not to match"),
    ({"prefix": "gcp-", "negate": True}, "pool", "gcp-pool", 'not to start with "gcp-"'),
    ({"length": [2, 3], "unit": "bytes"}, "ab", "abcd", "length in the range (2 - 3)"),
    ({"length": [None, 2], "unit": "runes"}, "éé", "ééé", "length at most 2"),
    ({"range": [3600000, None]}, 3600000, 60000, "to be at least 3600000, got 60000"),
    ({"range": [0, 10]}, "7", 11, "in the range (0 - 10)"),
    ({"any": [[{"enum": ["a"], "ignore_case": False}],
              [{"pattern": "^x", "negate": False}]]}, "xy", "b", "; or "),
])
def test_checks(check: dict[str, Any], good: Any, bad: Any, message: str) -> None:
    assert findings(check, good) == []
    [summary] = findings(check, bad)
    assert summary.startswith("expected v ") and message in summary, summary


def test_unknown_null_exempt_and_made_up_values_pass() -> None:
    check = {"enum": ["A"], "ignore_case": False, "unless": [""]}
    assert findings(check, None) == findings(check, UNKNOWN) == findings(check, "") == []
    assert findings(check, f"{behaviour.FAKE_PREFIX}0123abcd") == []
    assert findings(check, "B") != []


def test_checks_reach_into_blocks_lists_and_maps_with_their_paths() -> None:
    block = {"attrs": {"m": [["map", "string"], "o"], "l": [["list", "string"], "o"]},
             "blocks": {"b": ["list", 0, 0, {"attrs": {"x": ["number", "o"]}}],
                        "s": ["set", 0, 0, {"attrs": {"x": ["number", "o"]}}]}}
    checks = tuple({"path": p, "range": [0, 1], "via": "t"}
                   for p in (["m", "*"], ["l", "*"], ["b", "*", "x"], ["s", "*", "x"]))
    tb = TypeBehaviour((), checks, "test")
    config = {"m": {"k": "5"}, "l": ["0", "9"], "b": [{"x": 0}, {"x": 2}], "s": [{"x": 3}]}
    got = [f.path for f in behaviour.check_config(tb, block, config)]
    assert got == [("m", MapKey("k")), ("l", 1), ("b", 1, "x"), ("s", "x")]


# ------------------------------------------------------------------------------ Go regexps


@pytest.mark.parametrize(("go", "text", "matches"), [
    ("^abc$", "abc", True),
    ("^abc$", "abc\n", False),  # Go's $ is the end of the text
    ("(?m)^abc$", "abc\nx", True),
    (r"^a\z", "a", True),
    ("^[[:alpha:]]+$", "Ab", True),
    ("^[[:digit:]-]+$", "1-2", True),
    (r"^\x{41}$", "A", True),
    ("(?i)^abc$", "ABC", True),
    (r"^\w+$", "é", False),  # ASCII classes, as in Go
    ("^a(?i:b)c$", "aBc", True),
])
def test_go_regexps_run_with_go_meaning(go: str, text: str, matches: bool) -> None:
    assert bool(behaviour.python_regex(go).search(text)) is matches


@pytest.mark.parametrize("go", [r"\pL", r"^\p{Greek}$", "a(?i)b", "(?U)a+", "[[:graph:]]"])
def test_go_regexps_python_cannot_run_the_same_way_are_refused(go: str) -> None:
    with pytest.raises(behaviour.RegexError):
        behaviour.python_regex(go)


def test_ids_are_built_as_the_provider_builds_them() -> None:
    """ReplaceVars puts values in as they are (a crypto key's id holds its key ring's whole id,
    which other resources then reference); ReplaceVarsForId shortens each to its last segment."""
    key = behaviour.for_type("google", "google_kms_crypto_key")
    assert key is not None and key.id_format == "{{key_ring}}/cryptoKeys/{{name}}"
    assert not key.id_shortens
    ring = "projects/p-1/locations/europe-west4/keyRings/ring"
    assert behaviour.format_id(key.id_format, {"key_ring": ring, "name": "k"}, {}) == (
        f"{ring}/cryptoKeys/k"
    )
    repo = behaviour.for_type("google", "google_cloudbuildv2_repository")
    assert repo is not None and repo.id_shortens
    assert behaviour.format_id(
        repo.id_format,
        {"parent_connection": "projects/p/locations/l/connections/c", "name": "r",
         "location": "l"},
        {"project": "p"}, shorten=repo.id_shortens,
    ) == "projects/p/locations/l/connections/c/repositories/r"
