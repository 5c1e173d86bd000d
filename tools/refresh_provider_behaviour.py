#!/usr/bin/env python3
"""Regenerate the offline providers' behaviour data from the providers' own Go source.

    python tools/refresh_provider_behaviour.py --google PATH --google-beta PATH --github PATH
    python tools/refresh_provider_behaviour.py ... --check     # exit 1 if the data is stale

Each PATH is a checkout of the provider's repository: a work tree (read as it is on disk) or a
git directory, bare or not (read at the release tag the schema snapshot is for, or at the
fallback commit below when the tag is not there; `--google-rev` etc. choose another). The
result, `generator/offline/schemas/behaviour.json.gz`, holds for every resource type of the
schema snapshot (`generator/offline/schemas/providers.json.gz`: the types the templates and
modules use, see tools/refresh_provider_schemas.py):

* `force_new`: attribute paths whose change replaces the resource (SDKv2 `ForceNew: true`,
  which magic-modules generates for `immutable` fields; plugin-framework `RequiresReplace()`;
  a CustomizeDiff `d.ForceNew(k)` directly under `if d.HasChange(k)`);
* `checks`: value constraints Terraform cannot see in the schema (enums, regexps, lengths,
  number ranges; tools/provider_behaviour/validators.py says how they are read);
* `conditional`: replacements that depend on a CustomizeDiff function's logic (listed, not
  planned offline);
* `not_read`: validators and schema parts the reader could not follow, with why;
* `id_format`: the template a magic-modules Create function builds the id from (the
  stand-in's apply makes ids of that form, which modules check); `id_shortens` where it is
  built with ReplaceVarsForId (each value's last path segment) instead of ReplaceVars (values
  as they are: a crypto key's id holds its key ring's whole id).

Paths use "*" for every element of a list, set or map. Paths the 8.7.0 / 6.13.0 schema
snapshot does not have (the source is older or newer than the snapshot) are dropped and
counted under `drift` with the attributes each side lacks, so the distance between the source
used and the snapshot is in the data.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tools"), str(REPO)]

from provider_behaviour.extract import (  # noqa: E402
    Behaviour,
    github_registrations,
    google_registrations,
    new_evaluator,
    read_fw_schema,
    read_sdk_resource,
)
from provider_behaviour.source import GitTree, Source, SourceError, WorkTree, is_git_dir  # noqa: E402

from generator.offline import behaviour as offline_behaviour  # noqa: E402
from generator.offline import schema as offline_schema  # noqa: E402

OUT = REPO / "generator" / "offline" / "schemas" / "behaviour.json.gz"
TOOL_VERSION = 2


@dataclass(frozen=True)
class Provider:
    option: str  # command-line option
    name: str  # local provider name in the schema snapshot
    repo: str
    module: str  # go.mod module path
    root: str  # the provider package's directory
    tag: str  # the release the schema snapshot is for
    fallback: str  # commit to read when a git directory lacks the tag
    fallback_note: str


PROVIDERS: list[Provider] = [
    Provider(
        "google", "google", "https://github.com/hashicorp/terraform-provider-google",
        "github.com/hashicorp/terraform-provider-google", "google", "v8.7.0",
        "e03b7622a26cf4e878f90bdccaca6aa3d03a7999",
        "the mirror read has no v8.x tag; this is the head of its release-8.0.0 branch (and of "
        "main) on 2026-08-21, before 8.0.0 was tagged: seven minor releases before 8.7.0. "
        "`drift` lists what the 8.7.0 schema has that this source lacks, and the reverse.",
    ),
    Provider(
        "google-beta", "google-beta", "https://github.com/hashicorp/terraform-provider-google-beta",
        "github.com/hashicorp/terraform-provider-google-beta", "google-beta", "v8.7.0",
        "93c65b2d60fea598528f2769b5b09de856f8cb8c",
        "the mirror read has no v8.x tag; this is the head of its release-8.0.0 branch (and of "
        "main) on 2026-08-21, before 8.0.0 was tagged: seven minor releases before 8.7.0. "
        "`drift` lists what the 8.7.0 schema has that this source lacks, and the reverse.",
    ),
    Provider(
        "github", "github", "https://github.com/integrations/terraform-provider-github",
        "github.com/integrations/terraform-provider-github/v6", "github", "v6.13.0",
        "", "",
    ),
]


class RefreshError(RuntimeError):
    """The checkouts cannot give the data."""


# ------------------------------------------------------------------------------ sources


def git_out(args: list[str]) -> str:
    result = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else ""


def open_source(p: Provider, path: Path, rev: str | None) -> tuple[Source, dict[str, Any]]:
    """The checkout and its provenance (repo, tag or commit, commit date, notes)."""
    if not path.exists():
        raise RefreshError(f"--{p.option} {path}: no such file or directory")
    if is_git_dir(path):
        return _git_source(p, path, rev)
    prov: dict[str, Any] = {"repo": p.repo, "wanted_tag": p.tag, "read_from": "work tree"}
    if (path / ".git").exists():
        head = git_out(["-C", str(path), "rev-parse", "HEAD"])
        prov["commit"] = head
        prov["commit_date"] = git_out(["-C", str(path), "log", "-1", "--format=%cI", "HEAD"])
        prov["tag"] = git_out(["-C", str(path), "describe", "--tags", "--exact-match", "HEAD"])
        dirty = git_out(["-C", str(path), "status", "--porcelain", "--untracked-files=no"])
        if dirty:
            prov["note"] = "the work tree had uncommitted changes"
    return WorkTree(path), prov


def _git_source(p: Provider, git_dir: Path, rev: str | None) -> tuple[Source, dict[str, Any]]:
    has_tag = bool(git_out(["--git-dir", str(git_dir), "rev-parse", "-q", "--verify",
                            f"refs/tags/{p.tag}^{{commit}}"]))
    chosen = rev or (p.tag if has_tag else p.fallback)
    if not chosen:
        raise RefreshError(f"--{p.option} {git_dir}: the tag {p.tag} is not there; "
                           f"fetch it or pass --{p.option}-rev")
    commit = git_out(["--git-dir", str(git_dir), "rev-parse", f"{chosen}^{{commit}}"])
    if not commit:
        raise RefreshError(f"--{p.option} {git_dir}: no commit {chosen}")
    prov: dict[str, Any] = {
        "repo": p.repo,
        "wanted_tag": p.tag,
        "read_from": "git",
        "commit": commit,
        "commit_date": git_out(["--git-dir", str(git_dir), "log", "-1", "--format=%cI", commit]),
        "tag": p.tag if chosen == p.tag else "",
    }
    if chosen == p.fallback and not rev:
        prov["note"] = p.fallback_note
    elif rev:
        prov["note"] = f"read at {rev} (chosen with --{p.option}-rev)"
    return GitTree(git_dir, commit), prov


# ------------------------------------------------------------------------------ extraction


def extract_provider(p: Provider, source: Source, wanted: set[str]) -> dict[str, Behaviour]:
    ev = new_evaluator(source, p.module)
    if p.name == "github":
        regs = github_registrations(ev, f"{p.module}/{p.root}", wanted)
    else:
        regs = google_registrations(ev, p.root, wanted)
    found: dict[str, Behaviour] = {}
    for type_name, value, kind in regs:
        b = Behaviour()
        if kind == "framework":
            read_fw_schema(value, b)
        else:
            read_sdk_resource(value, b)
        found[type_name] = b
    for problem in ev.problems:
        print(f"warning: {p.name}: {problem}", file=sys.stderr)
    return found


def snapshot_paths(block: dict[str, Any], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every attribute path of a schema snapshot block ("*" for collection elements)."""
    out: set[tuple[str, ...]] = set()
    for name, (ty, _flags) in offline_schema.attrs(block).items():
        path = (*prefix, name)
        out.add(path)
        out |= _type_paths(ty, path)
    for name, (nesting, _min, _max, inner) in offline_schema.blocks(block).items():
        path = (*prefix, name)
        out.add(path)
        out |= snapshot_paths(inner, path if nesting == "single" else (*path, "*"))
    return out


def _type_paths(ty: Any, path: tuple[str, ...]) -> set[tuple[str, ...]]:
    if not isinstance(ty, list):
        return set()
    if ty[0] in ("list", "set", "map"):
        return {(*path, "*")} | _type_paths(ty[1], (*path, "*"))
    if ty[0] == "object":
        out: set[tuple[str, ...]] = set()
        for name, inner in ty[1].items():
            out |= {(*path, name)} | _type_paths(inner, (*path, name))
        return out
    return set()


IMPLICIT = frozenset({"id", "timeouts"})  # the SDK adds these outside the Schema map


def type_entry(b: Behaviour, known: set[tuple[str, ...]]) -> tuple[dict[str, Any], list[str]]:
    """The data of one type, keeping paths the snapshot has; returns the dropped ones too."""
    dropped: list[str] = []

    def keep(path: list[str]) -> bool:
        if tuple(path) in known:
            return True
        dropped.append(".".join(path))
        return False

    checks = [_compiled(c) for c in b.checks if keep(c["path"])]
    entry: dict[str, Any] = {
        "source": b.source,
        "force_new": sorted({tuple(p) for p in b.force_new if keep(p)}),
        "checks": sorted([c for c in checks if c], key=_key),
        "conditional": sorted(_unique(c for c in b.conditional if keep(c["path"])), key=_key),
        "not_read": sorted(_unique(b.not_read), key=_key),
    }
    if b.id_format:
        entry["id_format"] = b.id_format
        if b.id_shortens:
            entry["id_shortens"] = True
    entry["not_read"] += sorted((_unchecked(c) for c in checks if "not_read" in c), key=_key)
    entry["checks"] = [c for c in entry["checks"] if "not_read" not in c]
    entry["force_new"] = [list(p) for p in entry["force_new"]]
    return entry, dropped


def _compiled(check: dict[str, Any]) -> dict[str, Any]:
    """A check whose Go regexp Python cannot run becomes a not_read entry."""
    patterns = [check["pattern"]] if "pattern" in check else []
    patterns += [a["pattern"] for alt in check.get("any", ()) for a in alt if "pattern" in a]
    for pattern in patterns:
        try:
            offline_behaviour.python_regex(pattern)
        except offline_behaviour.RegexError as error:
            return {**check, "not_read": f"{check.get('via', '')}: {error}"}
    return check


def _unchecked(check: dict[str, Any]) -> dict[str, Any]:
    return {"path": check["path"], "what": check["not_read"]}


def _key(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True)


def _unique(items: Any) -> list[dict[str, Any]]:
    return list({_key(i): i for i in items}.values())


def drift(b: Behaviour, known: set[tuple[str, ...]]) -> tuple[list[str], list[str]]:
    """(attributes only the snapshot has, attributes only the source has), elements left out."""
    source = {p for p in b.paths if p[-1] != "*" and p[0] not in IMPLICIT}
    snap = {p for p in known if p[-1] != "*" and p[0] not in IMPLICIT}
    return (sorted(".".join(p) for p in snap - source),
            sorted(".".join(p) for p in source - snap))


def provider_data(p: Provider, source: Source, prov: dict[str, Any]) -> dict[str, Any]:
    ps = offline_schema.provider_schema(p.name)
    wanted = {t for t in ps.types if "." not in t}
    found = extract_provider(p, source, wanted)
    types: dict[str, Any] = {}
    drifts: dict[str, Any] = {}
    for type_name in sorted(found):
        known = snapshot_paths(ps.types[type_name])
        entry, dropped = type_entry(found[type_name], known)
        types[type_name] = entry
        snapshot_only, source_only = drift(found[type_name], known)
        if snapshot_only or source_only or dropped:
            drifts[type_name] = {"snapshot_only": snapshot_only, "source_only": source_only,
                                 "dropped": sorted(set(dropped))}
    return {
        "name": p.name,
        "version": ps.version,
        "source": prov,
        "missing_types": sorted(wanted - set(found)),
        "counts": counts(types, drifts),
        "drift": drifts,
        "types": types,
    }


def counts(types: dict[str, Any], drifts: dict[str, Any]) -> dict[str, int]:
    return {
        "types": len(types),
        "force_new": sum(len(t["force_new"]) for t in types.values()),
        "checks": sum(len(t["checks"]) for t in types.values()),
        "conditional": sum(len(t["conditional"]) for t in types.values()),
        "not_read": sum(len(t["not_read"]) for t in types.values()),
        "snapshot_only_attributes": sum(len(d["snapshot_only"]) for d in drifts.values()),
        "source_only_attributes": sum(len(d["source_only"]) for d in drifts.values()),
        "dropped_paths": sum(len(d["dropped"]) for d in drifts.values()),
    }


# ------------------------------------------------------------------------------ main


def build(args: argparse.Namespace) -> dict[str, Any]:
    providers: dict[str, Any] = {}
    for p in PROVIDERS:
        path = getattr(args, p.option.replace("-", "_"))
        rev = getattr(args, f"{p.option.replace('-', '_')}_rev")
        source, prov = open_source(p, Path(path), rev)
        try:
            data = provider_data(p, source, prov)
        finally:
            if isinstance(source, GitTree):
                source.close()
        providers[offline_schema.ADDRESSES[p.name]] = data
    return {
        "format": 1,
        "generated_by": "tools/refresh_provider_behaviour.py",
        "tool_version": TOOL_VERSION,
        "providers": providers,
    }


def encode(data: dict[str, Any]) -> bytes:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return gzip.compress(raw, compresslevel=9, mtime=0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    for p in PROVIDERS:
        ap.add_argument(f"--{p.option}", required=True, metavar="PATH",
                        help=f"checkout of {p.repo} (work tree or git directory)")
        ap.add_argument(f"--{p.option}-rev", metavar="REV",
                        help=f"commit or tag to read in a git directory (default {p.tag})")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        data = build(args)
    except (RefreshError, SourceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    blob = encode(data)
    missing = {a: d["missing_types"] for a, d in data["providers"].items() if d["missing_types"]}
    for address, names in missing.items():
        print(f"warning: {address}: no source found for {', '.join(names)}", file=sys.stderr)
    if args.check:
        if not args.out.exists() or gzip.decompress(args.out.read_bytes()) != gzip.decompress(blob):
            print(f"{args.out} is stale: run tools/refresh_provider_behaviour.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.write_bytes(blob)
    for address, d in data["providers"].items():
        print(f"{address}: {json.dumps(d['counts'])}")
    print(f"wrote {args.out} ({len(blob)} bytes)")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
