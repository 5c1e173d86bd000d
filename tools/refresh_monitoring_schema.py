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

import importlib.util
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
MONITORING = BASE.Source(SNAPSHOT, DOCUMENT, DISCOVERY_ID, ROOT_SCHEMA, "Cloud Monitoring v1",
                         "tools/refresh_monitoring_schema.py")


def installed_document() -> tuple[Path, str]:
    """The document inside the installed google-api-python-client, and that package's version."""
    found: tuple[Path, str] = BASE.installed_document(MONITORING)
    return found


def build_snapshot(document: Mapping[str, Any], package_version: str, date: str) -> dict[str, Any]:
    snapshot: dict[str, Any] = BASE.build_snapshot(document, package_version, date, MONITORING)
    return snapshot


def check(out: Path, snapshot: Mapping[str, Any]) -> int:
    code: int = BASE.check(out, snapshot, MONITORING)
    return code


def main(argv: list[str] | None = None) -> int:
    code: int = BASE.main(argv, MONITORING, (__doc__ or "").split("\n\n")[0])
    return code


if __name__ == "__main__":
    sys.exit(main())
