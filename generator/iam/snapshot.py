"""Google Cloud's predefined IAM roles and their permissions, from the snapshot in the package.

`roles.json.gz` is a copy of what the IAM API's `roles.list` (view=FULL) returns, shaped
`{"source": "...", "roles": {"roles/<id>": {"title", "stage", "includedPermissions"}}}`
(PROVENANCE.md says where it came from; `tools/refresh_iam_roles.py` refreshes it). Custom
roles (`projects/<p>/roles/<r>`, `organizations/<o>/roles/<r>`) are not predefined: a role the
snapshot lacks is unknown unless the plans define it (see `Roles.with_custom`).
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).resolve().parent / "roles.json.gz"
DEPRECATED = "DEPRECATED"


class SnapshotError(ValueError):
    """The roles snapshot is missing or malformed."""


@dataclass(frozen=True)
class Role:
    name: str
    title: str
    stage: str
    permissions: frozenset[str]

    @property
    def deprecated(self) -> bool:
        return self.stage == DEPRECATED


@dataclass(frozen=True)
class Roles:
    """Role name -> Role, with the reverse index (permission -> roles) built on first use."""

    source: str
    by_name: Mapping[str, Role]
    _index: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def get(self, name: str) -> Role | None:
        return self.by_name.get(name)

    def permissions(self, name: str) -> frozenset[str]:
        role = self.by_name.get(name)
        return role.permissions if role else frozenset()

    def with_custom(self, custom: Iterable[Role]) -> Roles:
        """These roles plus custom roles (defined by the plans being checked)."""
        extra = list(custom)
        if not extra:
            return self
        merged = dict(self.by_name)
        merged.update({r.name: r for r in extra})
        index = {p: list(names) for p, names in self._built().items()}
        for role in extra:
            for p in role.permissions:
                index.setdefault(p, []).append(role.name)
        out = Roles(self.source, merged)
        out._index.update({p: tuple(sorted(names, key=out._rank)) for p, names in index.items()})
        return out

    def _rank(self, name: str) -> tuple[int, str]:
        return len(self.by_name[name].permissions), name

    def _built(self) -> dict[str, tuple[str, ...]]:
        if not self._index:
            index: dict[str, list[str]] = {}
            for role in self.by_name.values():
                if not role.deprecated:
                    for p in role.permissions:
                        index.setdefault(p, []).append(role.name)
            self._index.update({p: tuple(sorted(names, key=self._rank))
                                for p, names in index.items()})
        return self._index

    def granting(self, permission: str) -> tuple[str, ...]:
        """Non-deprecated roles that include `permission`, smallest first (then by name)."""
        return self._built().get(permission, ())


def parse(data: Any, source_name: str = "snapshot") -> Roles:
    """Roles from the snapshot's JSON document; SnapshotError says what is wrong."""
    if not isinstance(data, Mapping) or not isinstance(data.get("roles"), Mapping):
        raise SnapshotError(f"{source_name}: expected an object with a 'roles' mapping")
    out: dict[str, Role] = {}
    for name, body in data["roles"].items():
        if not isinstance(body, Mapping) or not str(name).startswith("roles/"):
            raise SnapshotError(f"{source_name}: malformed role entry {name!r}")
        perms = body.get("includedPermissions") or []
        if not isinstance(perms, list) or not all(isinstance(p, str) for p in perms):
            raise SnapshotError(f"{source_name}: {name}: includedPermissions must be strings")
        out[str(name)] = Role(str(name), str(body.get("title", "")), str(body.get("stage", "")),
                              frozenset(perms))
    return Roles(str(data.get("source", "")), out)


def load(path: Path = SNAPSHOT) -> Roles:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"cannot read the IAM roles snapshot {path}: {exc}") from exc
    return parse(data, path.name)


@functools.lru_cache(maxsize=1)
def default() -> Roles:
    """The package's snapshot (loaded once per process)."""
    return load()
