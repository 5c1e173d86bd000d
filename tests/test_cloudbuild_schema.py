"""The Cloud Build schema snapshot: generated from the discovery document, current, and what the
checks rely on is in it."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from generator.cloudbuild import logs, schema, structure

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "refresh_cloudbuild_schema.py"
SNAPSHOT = ROOT / "generator" / "cloudbuild" / "build_schema.json"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("refresh_cloudbuild_schema", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _doc(**schemas: Any) -> dict[str, Any]:
    """A small discovery document shaped like Google's."""
    return {"id": "cloudbuild:v1", "revision": "20990101", "version": "v1", "schemas": schemas}


# a discovery document in miniature: every shape the tool converts
MINI = _doc(
    Build={
        "id": "Build",
        "type": "object",
        "properties": {
            "steps": {
                "description": "Required. The operations.",
                "type": "array",
                "items": {"$ref": "BuildStep"},
            },
            "timeout": {"type": "string", "format": "google-duration"},
            "substitutions": {"type": "object", "additionalProperties": {"type": "string"}},
            "status": {"type": "string", "readOnly": True, "enum": ["A"]},
            "results": {"$ref": "Results", "description": "Output only. Results."},
            "options": {"$ref": "BuildOptions"},
        },
    },
    BuildStep={
        "type": "object",
        "properties": {
            "allowExitCodes": {"type": "array", "items": {"type": "integer", "format": "int32"}},
            "allowFailure": {"type": "boolean"},
        },
    },
    BuildOptions={
        "type": "object",
        "properties": {
            "diskSizeGb": {"type": "string", "format": "int64"},
            "logging": {
                "type": "string",
                "enum": ["A", "OLD"],
                "enumDeprecated": [False, True],
                "enumDescriptions": ["New.", "Same as A. Do not use."],
            },
            "workerPool": {
                "type": "string",
                "deprecated": True,
                "description": "This field deprecated; please use `pool.name` instead.",
            },
        },
    },
    Results={"type": "object", "properties": {"x": {"type": "string"}}},  # output-only: dropped
    Unrelated={"type": "object", "properties": {}},
)


def test_converts_types_flags_and_closure(tool: ModuleType) -> None:
    snap = tool.build_snapshot(MINI, "9.9.9", "2099-01-02")
    assert snap["provenance"] == {
        "google_api_python_client": "9.9.9",
        "document": "googleapiclient/discovery_cache/documents/cloudbuild.v1.json",
        "discovery_id": "cloudbuild:v1",
        "revision": "20990101",
        "version": "v1",
        "generated": "2099-01-02",
        "generated_by": "tools/refresh_cloudbuild_schema.py",
        "root": "Build",
    }
    assert snap["schemas"] == {
        "Build": {
            "options": {"type": "object", "ref": "BuildOptions"},
            "results": {"output_only": True},
            "status": {"output_only": True},
            "steps": {
                "type": "array",
                "items": {"type": "object", "ref": "BuildStep"},
                "required": True,
            },
            "substitutions": {"type": "map", "values": {"type": "string"}},
            "timeout": {"type": "duration"},
        },
        "BuildOptions": {
            "diskSizeGb": {"type": "int64"},
            "logging": {
                "type": "enum",
                "values": ["A", "OLD"],
                "deprecated_values": {"OLD": "Same as A."},
            },
            "workerPool": {
                "type": "string",
                "deprecated": "This field deprecated; please use `pool.name` instead.",
            },
        },
        "BuildStep": {
            "allowExitCodes": {"type": "array", "items": {"type": "int32"}},
            "allowFailure": {"type": "bool"},
        },
    }
    # the loader reads what the tool writes
    loaded = schema.parse(json.loads(tool.encode(snap)))
    logging = loaded["BuildOptions"].fields["logging"].type
    assert logging is not None and logging.deprecated_values == {"OLD": "Same as A."}
    assert loaded.root.field("steps") == loaded.root.fields["steps"]
    assert (
        loaded["BuildOptions"].field("disk_size_gb") is loaded["BuildOptions"].fields["diskSizeGb"]
    )


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ({"type": "string", "format": "uuid"}, "unsupported type 'string' with format 'uuid'"),
        ({"type": "unicorn"}, "unsupported type 'unicorn'"),
        ({"$ref": "Nowhere"}, "schema 'Nowhere' is referenced but not defined"),
        ({"type": "string", "enum": ["A", "B"], "enumDeprecated": [True]}, "differ in length"),
    ],
)
def test_unknown_shapes_stop_the_tool(
    tool: ModuleType, prop: dict[str, Any], expected: str
) -> None:
    doc = _doc(Build={"type": "object", "properties": {"f": prop}})
    with pytest.raises(tool.SchemaError, match=expected):
        tool.build_snapshot(doc, "1", "d")


def test_refuses_another_api(tool: ModuleType) -> None:
    with pytest.raises(tool.SchemaError, match="not the Cloud Build v1"):
        tool.build_snapshot({**MINI, "id": "storage:v1"}, "1", "d")


def test_check_reports_a_diff_summary(
    tool: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc_file = tmp_path / "cloudbuild.v1.json"
    doc_file.write_text(json.dumps(MINI))
    out = tmp_path / "snap.json"
    assert tool.main(["--discovery", str(doc_file), "--out", str(out)]) == 0
    assert tool.main(["--discovery", str(doc_file), "--out", str(out), "--check"]) == 0
    changed = copy.deepcopy(MINI)
    changed["revision"] = "20990202"
    props = changed["schemas"]["BuildOptions"]["properties"]
    props["logging"]["enum"].append("NEW")
    props["logging"]["enumDeprecated"].append(False)
    props["logging"]["enumDescriptions"].append("Newer.")
    del props["workerPool"]
    changed["schemas"]["BuildStep"]["properties"]["id"] = {"type": "string"}
    doc_file.write_text(json.dumps(changed))
    capsys.readouterr()
    assert tool.main(["--discovery", str(doc_file), "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert "provenance revision: '20990101' -> '20990202'" in err
    assert "BuildOptions.logging: " in err and '"NEW"' in err
    assert "BuildOptions.workerPool: removed" in err
    assert 'BuildStep.id: added {"type": "string"}' in err
    assert "refresh it: python tools/refresh_cloudbuild_schema.py" in err


def test_snapshot_is_current_with_the_installed_discovery_document() -> None:
    """What CI runs: the pinned google-api-python-client's document equals the snapshot."""
    run = subprocess.run(
        [sys.executable, str(TOOL), "--check"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "is up to date" in run.stdout


def test_pin_matches_the_snapshot() -> None:
    """pyproject's test extra pins the release the snapshot was taken from."""
    pinned = json.loads(SNAPSHOT.read_text())["provenance"]["google_api_python_client"]
    assert f'"google-api-python-client=={pinned}"' in (ROOT / "pyproject.toml").read_text()


# --- what the checks take for granted is in the snapshot ------------------------------------


def _field(schema_name: str, name: str) -> schema.Field:
    found = schema.load()[schema_name].fields.get(name)
    assert found is not None, f"{schema_name}.{name} is not in the snapshot"
    return found


def test_config_file_rules_name_real_fields() -> None:
    for schema_name, name in structure.NOT_IN_CONFIG_FILE:
        assert not _field(schema_name, name).output_only
    for schema_name, names in structure.CONFIG_FILE_REQUIRED.items():
        for name in names:
            assert not _field(schema_name, name).output_only


def test_logging_rule_names_real_values() -> None:
    logging = _field("BuildOptions", "logging").type
    behavior = _field("BuildOptions", "defaultLogsBucketBehavior").type
    assert logging is not None and behavior is not None
    assert set(logging.values) >= logs.LOGGING_WITHOUT_BUCKET
    assert logs.REGIONAL_BUCKET in behavior.values
    # STACKDRIVER_ONLY counts as CLOUD_LOGGING_ONLY because the document says so
    assert "same as CLOUD_LOGGING_ONLY" in logging.deprecated_values["STACKDRIVER_ONLY"]


def test_snapshot_has_what_the_issue_named() -> None:
    """The hand-typed schema had these wrong; the document decides."""
    machine = _field("BuildOptions", "machineType").type
    behavior = _field("BuildOptions", "defaultLogsBucketBehavior").type
    assert machine is not None and behavior is not None
    assert "E2_STANDARD_2" in machine.values and "E2_STANDARD_2" not in machine.deprecated_values
    assert {"N1_HIGHCPU_8", "N1_HIGHCPU_32"} <= set(machine.deprecated_values)
    assert "LEGACY_BUCKET" in behavior.deprecated_values
    assert _field("PoolOption", "workerRelease").output_only
    assert _field("Build", "steps").required and _field("BuildStep", "name").required


def test_parse_rejects_dangling_references() -> None:
    data = json.loads(SNAPSHOT.read_text())
    del data["schemas"]["BuildStep"]
    with pytest.raises(schema.SchemaSnapshotError, match="lacks the schemas \\['BuildStep'\\]"):
        schema.parse(data)
    with pytest.raises(schema.SchemaSnapshotError, match="malformed"):
        schema.parse({"schemas": {}})
