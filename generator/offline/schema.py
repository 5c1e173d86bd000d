"""The committed provider schema snapshot and its tfplugin6 form.

Snapshot format (written by `tools/refresh_provider_schemas.py`, gzip JSON):

    {"format": 1, "providers": {ADDRESS: {"name", "version", "package", "provider": BLOCK,
                                          "types": {TYPE: BLOCK}, "all_types": [TYPE, ...]}}}
    TYPE  = "google_x" (resource) | "data.google_x" | "ephemeral.google_x"
    BLOCK = {"attrs": {NAME: [CTY_TYPE, FLAGS]}, "blocks": {NAME: [NESTING, MIN, MAX, BLOCK]}}
    FLAGS = "r" required | "o" optional | "oc" optional+computed | "c" computed only,
            followed by "w" for a write-only argument
    NESTING = "list" | "set" | "single"; MAX 0 means unlimited
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.offline import codec
from generator.offline.proto import tfplugin6_pb2 as pb

SNAPSHOT = Path(__file__).with_name("schemas") / "providers.json.gz"

# local provider name -> registry address
ADDRESSES: dict[str, str] = {
    "google": "registry.terraform.io/hashicorp/google",
    "google-beta": "registry.terraform.io/hashicorp/google-beta",
    "github": "registry.terraform.io/integrations/github",
}

Block = dict[str, Any]


class SnapshotError(RuntimeError):
    """The schema snapshot is missing, unreadable or lacks a provider."""


@dataclass(frozen=True)
class ProviderSchema:
    address: str
    name: str
    version: str
    package: str
    provider: Block
    types: dict[str, Block]
    all_types: frozenset[str]

    @property
    def source(self) -> str:
        """`hashicorp/google` style source address."""
        return self.address.split("/", 1)[1]

    def resource(self, type_name: str) -> Block:
        return self._get(type_name)

    def data_source(self, type_name: str) -> Block:
        return self._get(f"data.{type_name}")

    def ephemeral(self, type_name: str) -> Block:
        return self._get(f"ephemeral.{type_name}")

    def _get(self, key: str) -> Block:
        try:
            return self.types[key]
        except KeyError:
            raise SnapshotError(f"{self.address}: no schema for {key}") from None


@functools.cache
def snapshot_bytes() -> bytes:
    try:
        return SNAPSHOT.read_bytes()
    except OSError as exc:
        raise SnapshotError(f"cannot read the provider schema snapshot {SNAPSHOT}: {exc}") from exc


@functools.cache
def load_snapshot() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gzip.decompress(snapshot_bytes()))
    if data.get("format") != 1:
        raise SnapshotError(f"{SNAPSHOT}: unsupported snapshot format {data.get('format')!r}")
    return data


@functools.cache
def provider_schema(name: str) -> ProviderSchema:
    address = ADDRESSES.get(name, name)
    try:
        p = load_snapshot()["providers"][address]
    except KeyError:
        raise SnapshotError(f"the schema snapshot has no provider {address}") from None
    return ProviderSchema(
        address=address,
        name=p["name"],
        version=p["version"],
        package=p["package"],
        provider=p["provider"],
        types=p["types"],
        all_types=frozenset(p["all_types"]),
    )


def providers() -> list[ProviderSchema]:
    return [provider_schema(address) for address in load_snapshot()["providers"]]


# ---------------------------------------------------------------------------------------------
# block helpers


def attrs(block: Block) -> dict[str, list[Any]]:
    result: dict[str, list[Any]] = block.get("attrs", {})
    return result


def blocks(block: Block) -> dict[str, list[Any]]:
    result: dict[str, list[Any]] = block.get("blocks", {})
    return result


def implied_type(block: Block) -> list[Any]:
    """The cty object type of a block's value (what state and plans carry)."""
    fields: dict[str, Any] = {name: a[0] for name, a in attrs(block).items()}
    for name, (nesting, _min, _max, inner) in blocks(block).items():
        t = implied_type(inner)
        fields[name] = t if nesting == "single" else [nesting, t]
    return ["object", fields]


# ---------------------------------------------------------------------------------------------
# tfplugin6 schema messages

_NESTING = {
    "single": pb.Schema.NestedBlock.SINGLE,
    "list": pb.Schema.NestedBlock.LIST,
    "set": pb.Schema.NestedBlock.SET,
}


def block_message(block: Block) -> pb.Schema.Block:
    msg = pb.Schema.Block()
    for name, (ty, flags) in sorted(attrs(block).items()):
        msg.attributes.append(
            pb.Schema.Attribute(
                name=name,
                type=codec.type_json(ty),
                required=flags.startswith("r"),
                optional=flags.startswith("o"),
                computed="c" in flags,
                write_only="w" in flags,
            )
        )
    for name, (nesting, min_items, max_items, inner) in sorted(blocks(block).items()):
        msg.block_types.append(
            pb.Schema.NestedBlock(
                type_name=name,
                block=block_message(inner),
                nesting=_NESTING[nesting],
                min_items=min_items,
                max_items=max_items,
            )
        )
    return msg


def schema_message(block: Block) -> pb.Schema:
    return pb.Schema(version=0, block=block_message(block))


def build_schema_response(ps: ProviderSchema) -> pb.GetProviderSchema.Response:
    resp = pb.GetProviderSchema.Response(
        provider=schema_message(ps.provider),
        server_capabilities=pb.ServerCapabilities(get_provider_schema_optional=True),
    )
    for key, block in ps.types.items():
        kind, _, type_name = key.rpartition(".")
        target = {
            "": resp.resource_schemas,
            "data": resp.data_source_schemas,
            "ephemeral": resp.ephemeral_resource_schemas,
        }[kind]
        target[type_name].CopyFrom(schema_message(block))
    return resp


def cache_dir() -> Path:
    """Where serialized schema responses are cached (MLOPSGEN_OFFLINE_CACHE overrides)."""
    explicit = os.environ.get("MLOPSGEN_OFFLINE_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlopsgen" / "offline"


def schema_response_bytes(name: str) -> bytes:
    """Serialized GetProviderSchema.Response, cached on disk per snapshot content."""
    ps = provider_schema(name)
    digest = hashlib.sha256(snapshot_bytes()).hexdigest()[:16]
    path = cache_dir() / f"{ps.name}-{ps.version}-{digest}.pb"
    try:
        return path.read_bytes()
    except OSError:
        pass
    data = build_schema_response(ps).SerializeToString()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".schema-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs speed
    return data
