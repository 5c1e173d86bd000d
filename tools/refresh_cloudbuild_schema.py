#!/usr/bin/env python3
"""Regenerate the Cloud Build config-file schema snapshot from Google's discovery document.

Source (ground truth): the Cloud Build API v1 discovery document that google-api-python-client
ships as `googleapiclient/discovery_cache/documents/cloudbuild.v1.json` (the version pinned in
pyproject.toml's `test` extra, so CI's `--check` reads a fixed document). A build config file
(`cloudbuild/*.yaml`) is the API's `Build` resource; the snapshot keeps `Build` and every schema
it reaches through fields a client may set, with per field:

* its type: string, duration (`google-duration`), int64/uint64 (JSON strings), int32/uint32,
  number, bool, bytes (base64), timestamp, enum (values, and `deprecated_values` with the
  doc's description of each value `enumDeprecated` marks), array (`items`), map
  (`additionalProperties` -> `values`), object (`ref`: a schema name), any;
* `required`: the description starts with "Required.";
* `output_only`: `readOnly`, or the description starts with "Output only." (such fields keep no
  type: a config file must not set them);
* `deprecated`: the field is marked `deprecated`; the value is the first sentence of its
  description.

Provenance (discovery id, revision, version, the google-api-python-client release, date) is in
the snapshot's `provenance` key; see generator/cloudbuild/PROVENANCE.md. Usage:

    python tools/refresh_cloudbuild_schema.py                   # read the installed package
    python tools/refresh_cloudbuild_schema.py --discovery FILE  # read this document instead
    python tools/refresh_cloudbuild_schema.py --check           # exit 1 (with a diff summary)
                                                                # if the snapshot is stale
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "generator" / "cloudbuild" / "build_schema.json"
DISTRIBUTION = "google-api-python-client"
DOCUMENT = "googleapiclient/discovery_cache/documents/cloudbuild.v1.json"
ROOT_SCHEMA = "Build"
FORMAT = 1


@dataclass(frozen=True)
class Source:
    """One snapshot: which discovery document, which root resource, where it is written.
    tools/refresh_monitoring_schema.py describes its own and reuses everything below."""

    snapshot: Path
    document: str  # inside google-api-python-client's discovery cache
    discovery_id: str
    root: str
    title: str  # how errors name the document
    tool: str  # the script that refreshes it


CLOUD_BUILD = Source(SNAPSHOT, DOCUMENT, "cloudbuild:v1", ROOT_SCHEMA, "Cloud Build v1",
                     "tools/refresh_cloudbuild_schema.py")

_STRING_FORMATS: dict[str | None, str] = {
    None: "string",
    "google-duration": "duration",
    "int64": "int64",
    "uint64": "uint64",
    "byte": "bytes",
    "google-datetime": "timestamp",
    "date-time": "timestamp",
    "google-fieldmask": "string",
}
_INTEGER_FORMATS: dict[str | None, str] = {None: "int32", "int32": "int32", "uint32": "uint32"}
_SIMPLE: dict[str, dict[str | None, str]] = {
    "string": _STRING_FORMATS,
    "integer": _INTEGER_FORMATS,
    "number": {None: "number", "double": "number", "float": "number"},
    "boolean": {None: "bool"},
    "any": {None: "any"},
}
_OUTPUT_ONLY = re.compile(r"\s*(Output only|OUTPUT_ONLY)\b")
_REQUIRED = re.compile(r"\s*Required\b")


class SchemaError(Exception):
    """The discovery document has a shape this tool does not know: extend the tool."""


def installed_document(source: Source = CLOUD_BUILD) -> tuple[Path, str]:
    """The document inside the installed google-api-python-client, and that package's version."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise SchemaError(
            f"{DISTRIBUTION} is not installed: pip install -e '.[test]' (it pins the version "
            "the snapshot is checked against), or pass --discovery FILE"
        ) from None
    path = Path(str(dist.locate_file(source.document)))
    if not path.is_file():
        raise SchemaError(f"{DISTRIBUTION} {dist.version} has no {source.document}")
    return path, dist.version


def first_sentence(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    out = m.group(1) if m else text
    return out if len(out) <= limit else out[: limit - 3].rstrip() + "..."


def enum_type(prop: Mapping[str, Any], where: str) -> dict[str, Any]:
    values = list(prop["enum"])
    flags = list(prop.get("enumDeprecated", [False] * len(values)))
    descriptions = list(prop.get("enumDescriptions", [""] * len(values)))
    if len(flags) != len(values) or len(descriptions) != len(values):
        raise SchemaError(f"{where}: enum, enumDeprecated and enumDescriptions differ in length")
    out: dict[str, Any] = {"type": "enum", "values": values}
    deprecated = {
        v: first_sentence(d) for v, f, d in zip(values, flags, descriptions, strict=True) if f
    }
    if deprecated:
        out["deprecated_values"] = deprecated
    return out


def convert_type(prop: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The snapshot's type of one discovery property (or array item / map value)."""
    if "$ref" in prop:
        return {"type": "object", "ref": prop["$ref"]}
    kind = prop.get("type")
    fmt = prop.get("format")
    if kind == "array":
        return {"type": "array", "items": convert_type(prop["items"], f"{where}[]")}
    if kind == "object" and "additionalProperties" in prop:
        return {"type": "map", "values": convert_type(prop["additionalProperties"], f"{where}{{}}")}
    if kind == "string" and "enum" in prop:
        return enum_type(prop, where)
    simple = _SIMPLE.get(str(kind))
    if simple is None or fmt not in simple:
        raise SchemaError(f"{where}: unsupported type {kind!r} with format {fmt!r}")
    return {"type": simple[fmt]}


def convert_field(prop: Mapping[str, Any], where: str) -> dict[str, Any]:
    description = str(prop.get("description", ""))
    if prop.get("readOnly") or _OUTPUT_ONLY.match(description):
        return {"output_only": True}
    out = convert_type(prop, where)
    if _REQUIRED.match(description):
        out["required"] = True
    if prop.get("deprecated"):
        out["deprecated"] = first_sentence(description) or "deprecated"
    return out


def refs_of(field: Mapping[str, Any]) -> Iterator[str]:
    if "ref" in field:
        yield str(field["ref"])
    for key in ("items", "values"):
        if key in field:
            yield from refs_of(field[key])


def extract(document: Mapping[str, Any], root: str = ROOT_SCHEMA) -> dict[str, dict[str, Any]]:
    """`root` and every schema reachable from it through settable fields, converted."""
    schemas = document.get("schemas", {})
    out: dict[str, dict[str, Any]] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name in out:
            continue
        if name not in schemas:
            raise SchemaError(f"schema {name!r} is referenced but not defined")
        props = schemas[name].get("properties", {})
        fields = {f: convert_field(p, f"{name}.{f}") for f, p in sorted(props.items())}
        out[name] = fields
        todo += [ref for field in fields.values() for ref in refs_of(field)]
    return dict(sorted(out.items()))


def build_snapshot(document: Mapping[str, Any], package_version: str, date: str,
                   source: Source = CLOUD_BUILD) -> dict[str, Any]:
    if document.get("id") != source.discovery_id:
        raise SchemaError(
            f"not the {source.title} discovery document: id {document.get('id')!r}"
        )
    return {
        "format": FORMAT,
        "provenance": {
            "google_api_python_client": package_version,
            "document": source.document,
            "discovery_id": document["id"],
            "revision": document.get("revision", ""),
            "version": document.get("version", ""),
            "generated": date,
            "generated_by": source.tool,
            "root": source.root,
        },
        "schemas": extract(document, source.root),
    }


def encode(snapshot: Mapping[str, Any]) -> str:
    """One schema field per line: small, and diffs show what changed."""
    lines = ["{"]
    lines.append(f'  "format": {json.dumps(snapshot["format"])},')
    lines.append(f'  "provenance": {json.dumps(snapshot["provenance"], sort_keys=True)},')
    lines.append('  "schemas": {')
    names = list(snapshot["schemas"])
    for i, name in enumerate(names):
        fields = snapshot["schemas"][name]
        lines.append(f"    {json.dumps(name)}: {{")
        keys = list(fields)
        for j, key in enumerate(keys):
            comma = "," if j < len(keys) - 1 else ""
            lines.append(
                f"      {json.dumps(key)}: {json.dumps(fields[key], sort_keys=True)}{comma}"
            )
        lines.append("    }" + ("," if i < len(names) - 1 else ""))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def diff_summary(old: Mapping[str, Any], new: Mapping[str, Any], limit: int = 40) -> list[str]:
    """What differs between two snapshots, ignoring the generation date."""
    out: list[str] = []
    old_prov, new_prov = dict(old.get("provenance", {})), dict(new.get("provenance", {}))
    for key in ("discovery_id", "revision", "version", "root"):
        if old_prov.get(key) != new_prov.get(key):
            out.append(f"provenance {key}: {old_prov.get(key)!r} -> {new_prov.get(key)!r}")
    if old.get("format") != new.get("format"):
        out.append(f"format: {old.get('format')!r} -> {new.get('format')!r}")
    old_s, new_s = old.get("schemas", {}), new.get("schemas", {})
    for name in sorted(set(old_s) | set(new_s)):
        if name not in new_s:
            out.append(f"schema {name}: removed")
        elif name not in old_s:
            out.append(f"schema {name}: added ({len(new_s[name])} fields)")
        else:
            out += field_diff(name, old_s[name], new_s[name])
    if len(out) > limit:
        out = [*out[:limit], f"... and {len(out) - limit} more"]
    return out


def field_diff(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for field in sorted(set(old) | set(new)):
        if field not in new:
            out.append(f"{name}.{field}: removed")
        elif field not in old:
            out.append(f"{name}.{field}: added {json.dumps(new[field], sort_keys=True)}")
        elif old[field] != new[field]:
            out.append(
                f"{name}.{field}: {json.dumps(old[field], sort_keys=True)} -> "
                f"{json.dumps(new[field], sort_keys=True)}"
            )
    return out


def check(out: Path, snapshot: Mapping[str, Any], source: Source = CLOUD_BUILD) -> int:
    try:
        current = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{out}: cannot read the snapshot ({exc}): run {sys.argv[0]}", file=sys.stderr)
        return 1
    differences = diff_summary(current, snapshot)
    if differences:
        print(f"{out} differs from the discovery document:", file=sys.stderr)
        for line in differences:
            print(f"  {line}", file=sys.stderr)
        print(f"refresh it: python {source.tool}", file=sys.stderr)
        return 1
    old_version = current.get("provenance", {}).get("google_api_python_client")
    new_version = snapshot["provenance"]["google_api_python_client"]
    if old_version != new_version:
        print(
            f"note: the snapshot was taken from {DISTRIBUTION} {old_version}; {new_version} "
            "has the same schemas"
        )
    print(f"{out} is up to date (discovery revision {snapshot['provenance']['revision']})")
    return 0


def main(argv: list[str] | None = None, source: Source = CLOUD_BUILD,
         description: str | None = None) -> int:
    ap = argparse.ArgumentParser(description=description or (__doc__ or "").split("\n\n")[0])
    ap.add_argument("--discovery", type=Path, help="read this discovery document instead")
    ap.add_argument("--out", type=Path, default=source.snapshot)
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    args = ap.parse_args(argv)
    try:
        if args.discovery is not None:
            path, version = args.discovery, "unknown (--discovery)"
        else:
            path, version = installed_document(source)
        document = json.loads(path.read_text(encoding="utf-8"))
        today = datetime.datetime.now(datetime.UTC).date().isoformat()
        snapshot = build_snapshot(document, version, today, source)
    except (SchemaError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        return check(args.out, snapshot, source)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = encode(snapshot)
    args.out.write_text(text, encoding="utf-8")
    print(
        f"wrote {args.out} ({len(text)} bytes, {len(snapshot['schemas'])} schemas, "
        f"discovery revision {snapshot['provenance']['revision']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
