"""Version-gated migrations that copier runs during `copier update` / `mlopsgen update`.

A migration is a module in this directory named `v<MAJOR>_<MINOR>_<PATCH>__<what>.py` with

    SUMMARY = "one line for CHANGELOG.md"
    STAGE = "after"            # or "before": before copier renders the new version
    def migrate(repo: Path) -> list[str]:   # returns what it did, [] when nothing to do

`copier_entries()` turns the modules into copier's `_migrations` (generated into copier.yml by
`generator.copier_spec`). copier runs an entry only when an update crosses its version
(old < version <= new), with the client repo as working directory, through `run.py` and the
interpreter copier runs in. Every migration must be idempotent (a second run changes nothing)
and local (nothing touches the cloud). Stdlib only: the migration runs from the template
clone, not from an installed mlopsgen. Helpers for the usual moves are in `ops.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIGRATIONS_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^v(\d+)_(\d+)_(\d+)__([a-z0-9_]+)$")


@dataclass(frozen=True)
class MigrationInfo:
    name: str  # module name, e.g. v0_2_0__rename_trainer_dockerfile
    version: str  # PEP 440 tag, e.g. v0.2.0


def discover(directory: Path = MIGRATIONS_DIR) -> list[MigrationInfo]:
    """Migration modules in version order (then name order)."""
    found = []
    for path in directory.glob("v*__*.py"):
        match = _NAME.match(path.stem)
        if match:
            major, minor, patch, _ = match.groups()
            found.append((int(major), int(minor), int(patch), path.stem))
    return [
        MigrationInfo(name, f"v{major}.{minor}.{patch}")
        for major, minor, patch, name in sorted(found)
    ]


def _stage(directory: Path, name: str) -> str:
    text = (directory / f"{name}.py").read_text(encoding="utf-8")
    match = re.search(r'^STAGE\s*=\s*["\'](before|after)["\']', text, re.MULTILINE)
    return match.group(1) if match else "after"


def copier_entries(directory: Path = MIGRATIONS_DIR) -> list[dict[str, Any]]:
    """copier `_migrations` items (new format: version, command, when)."""
    return [
        {
            "version": info.version,
            "command": [
                "{{ _copier_python }}",
                "{{ _copier_conf.src_path }}/generator/migrations/run.py",
                info.name,
            ],
            "when": "{{ _stage == '" + _stage(directory, info.name) + "' }}",
        }
        for info in discover(directory)
    ]
