"""tools/refresh_provider_schemas.py on a small synthetic binding package shaped like the
cdktn wheels (generated JavaScript + jsii assembly inside a jsii tarball)."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]

RESOURCE_JS = """"use strict";
function thingRuleToTerraform(struct) {
}
function thingRuleToHclTerraform(struct) {
    const attrs = {
        age: {
            value: cdktn.numberToHclTerraform(struct.age),
            isBlock: false,
            type: "simple",
            storageClassType: "number",
        },
    };
}
class ThingRuleOutputReference extends cdktn.ComplexObject {
    // age - computed: false, optional: true, required: false
    get age() {
        return this.getNumberAttribute('age');
    }
    // state - computed: true, optional: false, required: false
    get state() {
        return this.getStringAttribute('state');
    }
}
class ThingStatusOutputReference extends cdktn.ComplexObject {
    // phase - computed: true, optional: false, required: false
    get phase() {
        return this.getStringAttribute('phase');
    }
}
class ThingStatusList extends cdktn.ComplexList {
}
class Thing extends cdktn.TerraformResource {
    static tfResourceType = "acme_thing";
    // name - computed: false, optional: false, required: true
    get name() {
        return this.getStringAttribute('name');
    }
    // labels - computed: false, optional: true, required: false
    get labels() {
        return this.getStringMapAttribute('labels');
    }
    // secret_wo - computed: false, optional: true, required: false
    get secretWo() {
        return this.getStringAttribute('secret_wo');
    }
    // tags - computed: true, optional: true, required: false
    get tags() {
        return cdktn.Fn.tolist(this.getListAttribute('tags'));
    }
    // self_link - computed: true, optional: false, required: false
    get selfLink() {
        return this.getStringAttribute('self_link');
    }
    // status - computed: true, optional: false, required: false
    _status = new ThingStatusList(this, "status", false);
    get status() {
        return this._status;
    }
    // rule - computed: false, optional: false, required: true
    _rule = new ThingRuleOutputReference(this, "rule");
    synthesizeHclAttributes() {
        const attrs = {
            name: {
                value: cdktn.stringToHclTerraform(this._name),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
            labels: {
                value: cdktn.hashMapperHcl(cdktn.stringToHclTerraform)(this._labels),
                isBlock: false,
                type: "map",
                storageClassType: "stringMap",
            },
            secret_wo: {
                value: this.markWriteOnlyAttribute(cdktn.stringToHclTerraform(this._secretWo)),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
            tags: {
                value: cdktn.listMapperHcl(cdktn.stringToHclTerraform, false)(this._tags),
                isBlock: false,
                type: "set",
                storageClassType: "stringList",
            },
            rule: {
                value: thingRuleToHclTerraform(this._rule.internalValue),
                isBlock: true,
                type: "list",
                storageClassType: "ThingRuleList",
            },
        };
    }
}
exports.Thing = Thing;
"""


PROVIDER_JS = """"use strict";
class AcmeProvider extends cdktn.TerraformProvider {
    static tfResourceType = "acme";
    synthesizeHclAttributes() {
        const attrs = {
            project: {
                value: cdktn.stringToHclTerraform(this._project),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
            alias: {
                value: cdktn.stringToHclTerraform(this._alias),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
        };
    }
}
"""

DOCS = "https://registry.terraform.io/providers/acme/acme/1.0.0/docs"


def _prop(
    name: str, anchor: str, optional: bool, page: str = "resources/thing"
) -> dict[str, object]:
    link = f"{{@link {DOCS}/{page}#{anchor} Thing#{anchor}}}"
    return {
        "name": name,
        "optional": optional,
        "docs": {"remarks": f"Docs at Terraform Registry: {link}"},
    }


ASSEMBLY = {
    "name": "@cdktn/provider-acme",
    "version": "1.0.0",
    "types": {
        "@cdktn/provider-acme.thing.ThingConfig": {
            "kind": "interface",
            "datatype": True,
            "properties": [
                _prop("name", "name", False),
                _prop("labels", "labels", True),
                _prop("secretWo", "secret_wo", True),
                _prop("tags", "tags", True),
                _prop("rule", "rule", False),
            ],
        },
        "@cdktn/provider-acme.provider.AcmeProviderConfig": {
            "kind": "interface",
            "datatype": True,
            "properties": [
                _prop("project", "project", True, "index"),
                _prop("alias", "alias", True, "index"),
            ],
        },
        "@cdktn/provider-acme.thing.ThingRule": {
            "kind": "interface",
            "datatype": True,
            "properties": [_prop("age", "age", True)],
        },
    },
}


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "refresh_provider_schemas", ROOT / "tools" / "refresh_provider_schemas.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _wheel(tmp_path: Path, js: str, assembly: dict[str, object]) -> Path:
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tar:
        for name, data in (
            ("package/.jsii", json.dumps(assembly).encode()),
            ("package/lib/thing/index.js", js.encode()),
            ("package/lib/provider/index.js", PROVIDER_JS.encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    wheel = tmp_path / "cdktn_provider_acme-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("cdktn_provider_acme/_jsii/provider-acme@1.0.0.jsii.tgz", tgz.getvalue())
    return wheel


def test_extracts_names_flags_types_and_blocks(tool: ModuleType, tmp_path: Path) -> None:
    schema = tool.extract(tool.read_wheel(_wheel(tmp_path, RESOURCE_JS, ASSEMBLY)))
    assert schema.problems == []
    assert schema.provider == {"attrs": {"project": ["string", "o"]}}  # alias is meta
    thing = schema.types["acme_thing"]
    assert thing["attrs"] == {
        "labels": [["map", "string"], "o"],
        "name": ["string", "r"],
        "secret_wo": ["string", "ow"],
        "self_link": ["string", "c"],
        "status": [["list", ["object", {"phase": "string"}]], "c"],
        "tags": [["set", "string"], "oc"],
    }
    # a direct fn(...) call (no listMapperHcl) is a list block with max_items 1; required -> min 1
    nesting, min_items, max_items, rule = thing["blocks"]["rule"]
    assert (nesting, min_items, max_items) == ("list", 1, 1)
    assert rule["attrs"] == {"age": ["number", "o"], "state": ["string", "c"]}


def test_cross_check_reports_disagreements(tool: ModuleType, tmp_path: Path) -> None:
    broken = json.loads(json.dumps(ASSEMBLY))
    props = broken["types"]["@cdktn/provider-acme.thing.ThingConfig"]["properties"]
    props[0]["optional"] = True  # jsii says optional, the JS says required
    props.append(_prop("extra", "extra", True))
    schema = tool.extract(tool.read_wheel(_wheel(tmp_path, RESOURCE_JS, broken)))
    assert any("name: required=True but jsii optional=True" in p for p in schema.problems)
    assert any("'extra' only in the jsii assembly" in p for p in schema.problems)


def test_scan_finds_resource_data_and_ephemeral_types(tool: ModuleType, tmp_path: Path) -> None:
    tf = tmp_path / "main.tf"
    tf.write_text(
        'resource "google_storage_bucket" "b" {}\n'
        'data "google_project" "p" {}\n'
        'ephemeral "google_service_account_access_token" "t" {}\n'
    )
    assert tool.scan_types([tf]) == {
        "google_storage_bucket",
        "data.google_project",
        "ephemeral.google_service_account_access_token",
    }
