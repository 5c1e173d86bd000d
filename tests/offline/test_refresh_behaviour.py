"""tools/refresh_provider_behaviour.py: reading force-new paths and value checks from Go source.

A miniature provider in tests/offline/fixtures/goprovider uses the shapes the real providers
use (magic-modules and handwritten SDKv2 schemas, helper validators, MergeSchemas, CustomizeDiff,
a plugin-framework resource). The committed data's freshness against the real providers'
source is checked when their checkouts are named in MLOPSGEN_PROVIDER_CHECKOUTS
("google=PATH,google-beta=PATH,github=PATH", work trees or git directories).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "goprovider"
sys.path.insert(0, str(ROOT / "tools"))

import refresh_provider_behaviour as tool  # noqa: E402
from provider_behaviour import extract  # noqa: E402
from provider_behaviour.goparse import parse_file  # noqa: E402
from provider_behaviour.source import GitTree, WorkTree  # noqa: E402

MODULE = "github.com/acme/terraform-provider-acme"


def read(type_name: str) -> extract.Behaviour:
    ev = extract.new_evaluator(WorkTree(FIXTURE), MODULE)
    [(name, value, kind)] = list(extract.google_registrations(ev, "acme", {type_name}))
    assert name == type_name
    b = extract.Behaviour()
    if kind == "framework":
        extract.read_fw_schema(value, b)
    else:
        extract.read_sdk_resource(value, b)
    return b


def checks(b: extract.Behaviour) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for c in b.checks:
        body = {k: v for k, v in c.items() if k not in ("path", "via")}
        out.setdefault(".".join(c["path"]), []).append(body)
    return out


def test_force_new_paths_of_an_sdk_resource() -> None:
    b = read("acme_thing")
    assert sorted(b.force_new) == [["name"], ["project"], ["rule", "*", "kind"], ["zone"]]
    # a CustomizeDiff's replacement that depends on its logic is listed, not planned
    assert sorted((c["path"], c["via"]) for c in b.conditional) == [
        (["rule"], "CustomizeDiff thingDiff"),
        (["size"], "customdiff.ForceNewIfChange(isShrink)"),
    ]
    assert b.source.endswith("acme/services/thing/resource_acme_thing.go")


def test_value_checks_of_an_sdk_resource() -> None:
    got = checks(read("acme_thing"))
    assert got["rule.*.kind"] == [{"enum": ["A", "B"], "ignore_case": False}]
    assert got["rule.*.note"] == [{"pattern": "^[a-z ]+$", "negate": False, "unless": [""]}]
    assert got["name"] == [
        {"length": [6, 30], "unit": "bytes"},
        {"pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$", "negate": False},
    ]
    assert got["id_prefix"] == [{"pattern": "^[a-z]+$", "negate": False}]
    assert got["size"] == [{"range": [1, 10]}]
    assert got["tags.*"] == [{"length": [1, 63], "unit": "bytes"}]
    assert {c["via"] for c in read("acme_thing").checks if c["path"] == ["rule", "*", "kind"]} \
        == {"verify.ValidateEnum"}


def test_what_cannot_be_read_is_said() -> None:
    b = read("acme_thing")
    assert [(n["path"], n["what"]) for n in b.not_read] == [
        (["json"], "validation.StringIsJSON: validation.StringIsJSON")
    ]


def test_a_framework_resource() -> None:
    b = read("acme_note")
    assert b.force_new == [["topic"]]
    got = checks(b)
    assert got["topic"] == [{"length": [3, 255], "unit": "runes"}]
    assert got["format"] == [{"enum": ["JSON", "NONE"], "ignore_case": False}]
    assert got["retry.*.count"] == [{"range": [0, 5]}]


def test_the_parser_reads_go_it_has_not_seen() -> None:
    text = (
        "package p\n\nimport (\n\tf \"fmt\"\n)\n\n"
        "type T struct{ a int }\n\n"
        "func (t *T) M() interface{} { return nil }\n\n"
        "func G[K comparable](m map[K]int) (n int, err error) {\n"
        "\tswitch x := any(m).(type) {\n\tcase map[K]int:\n\t\tn = len(x)\n\tdefault:\n\t}\n"
        "\tfor k := range m {\n\t\t_ = k\n\t}\n"
        "\tif v, ok := m[*new(K)]; ok && v > 0 {\n\t\treturn v, nil\n"
        "\t} else {\n\t\tf.Println()\n\t}\n"
        "\treturn n, err\n}\n"
    )
    f = parse_file(PurePosixPath("p.go"), text)
    assert [d.name for d in f.funcs] == ["M", "G"]
    assert f.funcs[0].recv == "T" and f.funcs[1].params == ["m"]
    assert f.imports == {"f": "fmt"}
    assert len(f.body(f.funcs[1]).stmts) == 4


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_a_git_directory_is_read_at_the_release_tag(tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(FIXTURE, work)
    _git("init", "-q", cwd=work)
    _git("add", "-A", cwd=work)
    _git("commit", "-q", "-m", "one", cwd=work)
    _git("tag", "v6.13.0", cwd=work)
    (work / "acme" / "services" / "thing" / "resource_acme_thing.go").write_text("package x\n")
    _git("commit", "-q", "-am", "two", cwd=work)
    bare = tmp_path / "mirror.git"
    _git("clone", "-q", "--bare", str(work), str(bare), cwd=tmp_path)
    github = next(p for p in tool.PROVIDERS if p.name == "github")
    source, prov = tool.open_source(github, bare, None)
    assert isinstance(source, GitTree)
    assert prov["tag"] == "v6.13.0" and prov["commit"] == _git("rev-parse", "v6.13.0", cwd=work)
    assert "ForceNew" in source.read(PurePosixPath("acme/services/thing/resource_acme_thing.go"))
    source.close()
    # without the tag and with no fallback commit the tool says what to do
    _git("tag", "-d", "v6.13.0", cwd=bare)
    with pytest.raises(tool.RefreshError, match="--github-rev"):
        tool.open_source(github, bare, None)
    source, prov = tool.open_source(github, bare, "HEAD")
    assert prov["tag"] == "" and "--github-rev" in prov["note"]


def test_snapshot_paths_and_drift() -> None:
    block = {"attrs": {"name": ["string", "r"], "id": ["string", "c"],
                       "tags": [["set", "string"], "o"]},
             "blocks": {"rule": ["list", 0, 0, {"attrs": {"kind": ["string", "r"]}}]}}
    known = tool.snapshot_paths(block)
    assert known == {("name",), ("id",), ("tags",), ("tags", "*"), ("rule",),
                     ("rule", "*", "kind")}
    b = extract.Behaviour(force_new=[["name"], ["gone"]],
                          paths={("name",), ("gone",), ("rule",), ("rule", "*", "kind")})
    entry, dropped = tool.type_entry(b, known)
    assert entry["force_new"] == [["name"]] and dropped == ["gone"]
    assert tool.drift(b, known) == (["tags"], ["gone"])


def _checkouts() -> dict[str, str]:
    raw = os.environ.get("MLOPSGEN_PROVIDER_CHECKOUTS", "")
    return dict(item.split("=", 1) for item in raw.split(",") if "=" in item)


@pytest.mark.slow
@pytest.mark.skipif(
    set(_checkouts()) != {"google", "google-beta", "github"},
    reason="set MLOPSGEN_PROVIDER_CHECKOUTS=google=PATH,google-beta=PATH,github=PATH",
)
def test_the_committed_data_is_what_the_checkouts_give() -> None:
    paths = _checkouts()
    args = [a for name in ("google", "google-beta", "github") for a in (f"--{name}", paths[name])]
    assert tool.main([*args, "--check"]) == 0
