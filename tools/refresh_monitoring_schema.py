#!/usr/bin/env python3
"""Regenerate the Cloud Monitoring dashboard schema snapshot from Google's discovery document.

Source (ground truth): the Cloud Monitoring API v1 discovery document that
google-api-python-client ships as `googleapiclient/discovery_cache/documents/monitoring.v1.json`
(the version pinned in pyproject.toml's `test` extra, so CI's `--check` reads a fixed document).
A `google_monitoring_dashboard`'s `dashboard_json` is the API's `Dashboard` resource; the
snapshot keeps `Dashboard` and every schema it reaches through fields a client may set, converted
exactly as tools/refresh_cloudbuild_schema.py converts the Cloud Build `Build` resource (the
conversion, the file format and the diff are that tool's; only the document and the root differ).

Provenance (discovery id, revision, version, the google-api-python-client release, date) is in
the snapshot's `provenance` key; see generator/monitoring/PROVENANCE.md. Usage:

    python tools/refresh_monitoring_schema.py                   # read the installed package
    python tools/refresh_monitoring_schema.py --discovery FILE  # read this document instead
    python tools/refresh_monitoring_schema.py --check           # exit 1 (with a diff summary)
                                                                # if the snapshot is stale
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "generator" / "monitoring" / "dashboard_schema.json"
DOCUMENT = "googleapiclient/discovery_cache/documents/monitoring.v1.json"
DISCOVERY_ID = "monitoring:v1"
ROOT_SCHEMA = "Dashboard"
FORMAT = 1


def _base() -> ModuleType:
    """tools/refresh_cloudbuild_schema.py: the one conversion of discovery schemas."""
    path = Path(__file__).resolve().parent / "refresh_cloudbuild_schema.py"
    spec = importlib.util.spec_from_file_location("refresh_cloudbuild_schema", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


BASE = _base()
SchemaError: type[Exception] = BASE.SchemaError


def installed_document() -> tuple[Path, str]:
    """The document inside the installed google-api-python-client, and that package's version."""
    try:
        dist = importlib.metadata.distribution(BASE.DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise SchemaError(
            f"{BASE.DISTRIBUTION} is not installed: pip install -e '.[test]' (it pins the version "
            "the snapshot is checked against), or pass --discovery FILE"
        ) from None
    path = Path(str(dist.locate_file(DOCUMENT)))
    if not path.is_file():
        raise SchemaError(f"{BASE.DISTRIBUTION} {dist.version} has no {DOCUMENT}")
    return path, dist.version


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
        fields = {f: BASE.convert_field(p, f"{name}.{f}") for f, p in sorted(props.items())}
        out[name] = fields
        todo += [ref for field in fields.values() for ref in BASE.refs_of(field)]
    return dict(sorted(out.items()))


def build_snapshot(document: Mapping[str, Any], package_version: str, date: str) -> dict[str, Any]:
    if document.get("id") != DISCOVERY_ID:
        raise SchemaError(
            f"not the Cloud Monitoring v1 discovery document: id {document.get('id')!r}"
        )
    return {
        "format": FORMAT,
        "provenance": {
            "google_api_python_client": package_version,
            "document": DOCUMENT,
            "discovery_id": document["id"],
            "revision": document.get("revision", ""),
            "version": document.get("version", ""),
            "generated": date,
            "generated_by": "tools/refresh_monitoring_schema.py",
            "root": ROOT_SCHEMA,
        },
        "schemas": extract(document),
    }


def check(out: Path, snapshot: Mapping[str, Any]) -> int:
    try:
        current = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{out}: cannot read the snapshot ({exc}): run {sys.argv[0]}", file=sys.stderr)
        return 1
    differences: list[str] = BASE.diff_summary(current, snapshot)
    if differences:
        print(f"{out} differs from the discovery document:", file=sys.stderr)
        for line in differences:
            print(f"  {line}", file=sys.stderr)
        print("refresh it: python tools/refresh_monitoring_schema.py", file=sys.stderr)
        return 1
    print(f"{out} is up to date (discovery revision {snapshot['provenance']['revision']})")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--discovery", type=Path, help="read this discovery document instead")
    ap.add_argument("--out", type=Path, default=SNAPSHOT)
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    args = ap.parse_args(argv)
    try:
        if args.discovery is not None:
            path, version = args.discovery, "unknown (--discovery)"
        else:
            path, version = installed_document()
        document = json.loads(path.read_text(encoding="utf-8"))
        today = datetime.datetime.now(datetime.UTC).date().isoformat()
        snapshot = build_snapshot(document, version, today)
    except (SchemaError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        return check(args.out, snapshot)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text: str = BASE.encode(snapshot)
    args.out.write_text(text, encoding="utf-8")
    print(
        f"wrote {args.out} ({len(text)} bytes, {len(snapshot['schemas'])} schemas, "
        f"discovery revision {snapshot['provenance']['revision']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
