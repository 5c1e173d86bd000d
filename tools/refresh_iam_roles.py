#!/usr/bin/env python3
"""Refresh the IAM roles snapshot (generator/iam/roles.json.gz) from Google's IAM API, or a file.

Source (ground truth): the IAM API's `roles.list` with `view=FULL`
(`GET https://iam.googleapis.com/v1/roles?view=FULL`, paged by `pageToken`): every predefined
role with its `title`, `stage` (GA, BETA, ALPHA, DEPRECATED, ...) and `includedPermissions`.
Credentials are Application Default Credentials (google-auth: `gcloud auth
application-default login`, GOOGLE_APPLICATION_CREDENTIALS, or the metadata server); any
identity may list predefined roles. Without credentials, `--from-file` reads a snapshot of the
same shape, or a saved `roles.list` response (`{"roles": [...]}`, one page or a list of pages).

    python tools/refresh_iam_roles.py                       # read the IAM API, write the snapshot
    python tools/refresh_iam_roles.py --from-file FILE      # read a file (.json or .json.gz)
    python tools/refresh_iam_roles.py --check [...]         # compare; exit 1 with a summary
    python tools/refresh_iam_roles.py --endpoint URL        # another IAM endpoint (a stand-in)

The snapshot is gzip (no timestamp) of canonical JSON, so equal content is equal bytes;
generator/iam/PROVENANCE.md says where the shipped one came from.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "generator" / "iam" / "roles.json.gz"
ENDPOINT = "https://iam.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
PAGE_SIZE = 1000
MAX_PAGES = 200


class RefreshError(RuntimeError):
    """The source could not be read; the message says what to do."""


def role_entry(role: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(name, snapshot entry) of one role as the IAM API returns it."""
    name = str(role.get("name", ""))
    if not name.startswith("roles/"):
        raise RefreshError(f"not a predefined role name: {name!r}")
    return name, {
        "title": str(role.get("title", "")),
        "stage": str(role.get("stage", "GA")),
        "includedPermissions": sorted({str(p) for p in role.get("includedPermissions") or []}),
    }


def from_pages(pages: list[Mapping[str, Any]], source: str) -> dict[str, Any]:
    roles: dict[str, Any] = {}
    for page in pages:
        for role in page.get("roles") or []:
            name, entry = role_entry(role)
            roles[name] = entry
    if not roles:
        raise RefreshError(f"{source}: no roles")
    return {"source": source, "roles": dict(sorted(roles.items()))}


def normalize(snapshot: Mapping[str, Any], source: str) -> dict[str, Any]:
    """A snapshot-shaped document ({"roles": {name: {...}}}) in canonical form."""
    roles = snapshot.get("roles")
    if not isinstance(roles, Mapping):
        raise RefreshError(f"{source}: expected a 'roles' mapping")
    out = {name: role_entry({**body, "name": name})[1] for name, body in roles.items()}
    return {"source": str(snapshot.get("source") or source), "roles": dict(sorted(out.items()))}


def read_file(path: Path) -> dict[str, Any]:
    """A snapshot or saved roles.list response(s) from a .json or .json.gz file."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        data = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise RefreshError(f"cannot read {path}: {exc}") from exc
    if isinstance(data, list):
        return from_pages(data, f"roles.list response pages in {path.name}")
    if isinstance(data, Mapping) and isinstance(data.get("roles"), list):
        return from_pages([data], f"a roles.list response in {path.name}")
    if isinstance(data, Mapping):
        return normalize(data, path.name)
    raise RefreshError(f"{path}: neither a snapshot nor a roles.list response")


def _session() -> Any:
    try:
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError
        from google.auth.transport.requests import AuthorizedSession
    except ImportError as exc:
        raise RefreshError("google-auth and requests are needed to read the IAM API "
                           "(pip install google-auth requests), or use --from-file") from exc
    try:
        credentials, _project = google.auth.default(scopes=[SCOPE])
    except DefaultCredentialsError as exc:
        raise RefreshError("no Application Default Credentials: run `gcloud auth "
                           "application-default login`, or use --from-file FILE") from exc
    session_class: Any = AuthorizedSession  # google-auth ships no types for it
    return session_class(credentials)


def pages(session: Any, endpoint: str) -> Iterator[dict[str, Any]]:
    """Every page of roles.list (view=FULL)."""
    token = ""
    for _ in range(MAX_PAGES):
        params = {"view": "FULL", "pageSize": str(PAGE_SIZE)}
        if token:
            params["pageToken"] = token
        response = session.get(f"{endpoint.rstrip('/')}/v1/roles", params=params, timeout=60)
        if response.status_code != 200:
            raise RefreshError(f"IAM API roles.list answered {response.status_code}: "
                               f"{response.text[:300]}")
        page = response.json()
        yield page
        token = str(page.get("nextPageToken") or "")
        if not token:
            return
    raise RefreshError(f"roles.list did not end after {MAX_PAGES} pages")


def from_api(endpoint: str) -> dict[str, Any]:
    date = datetime.date.today().isoformat()
    return from_pages(list(pages(_session(), endpoint)),
                      f"IAM API roles.list view=FULL ({endpoint}), {date}")


def encode(snapshot: Mapping[str, Any]) -> bytes:
    text = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode("utf-8"), mtime=0)


def diff_summary(old: Mapping[str, Any], new: Mapping[str, Any], limit: int = 30) -> list[str]:
    """What differs between two snapshots' roles (not their source line)."""
    a, b = old.get("roles") or {}, new.get("roles") or {}
    lines = [f"+ {n} (new role)" for n in sorted(set(b) - set(a))]
    lines += [f"- {n} (no longer listed)" for n in sorted(set(a) - set(b))]
    for name in sorted(set(a) & set(b)):
        lines += _role_diff(name, a[name], b[name])
    if len(lines) > limit:
        lines = [*lines[:limit], f"... {len(lines) - limit} more"]
    return lines


def _role_diff(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    if old.get("stage") != new.get("stage"):
        out.append(f"~ {name}: stage {old.get('stage')} -> {new.get('stage')}")
    before, after = set(old.get("includedPermissions") or ()), set(
        new.get("includedPermissions") or ())
    if before != after:
        out.append(f"~ {name}: +{len(after - before)} -{len(before - after)} permissions")
    return out


def check(out: Path, snapshot: Mapping[str, Any]) -> int:
    try:
        current = json.loads(gzip.decompress(out.read_bytes()))
    except (OSError, ValueError) as exc:
        print(f"{out}: cannot read the snapshot ({exc}); run without --check", file=sys.stderr)
        return 1
    changes = diff_summary(current, snapshot)
    if not changes:
        print(f"{out.name} is current ({len(snapshot['roles'])} roles)")
        return 0
    print(f"{out.name} is stale: {len(changes)} difference(s) with the source; run "
          "tools/refresh_iam_roles.py (same source options) to refresh:", file=sys.stderr)
    for line in changes:
        print(f"  {line}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--from-file", type=Path, help="read this snapshot or roles.list response")
    ap.add_argument("--endpoint", default=ENDPOINT, help=f"IAM API endpoint ({ENDPOINT})")
    ap.add_argument("--out", type=Path, default=SNAPSHOT)
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    args = ap.parse_args(argv)
    try:
        snapshot = read_file(args.from_file) if args.from_file else from_api(args.endpoint)
    except RefreshError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        return check(args.out, snapshot)
    args.out.write_bytes(encode(snapshot))
    print(f"wrote {args.out} ({len(snapshot['roles'])} roles)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
