"""Stand-in provider behaviour, as pure functions over decoded values plus a gRPC servicer.

Modelled on Terraform's `mock_provider` (terraform test): plans mark unset computed attributes
unknown, apply fills unknowns with deterministic fake values of the right type, data sources
return their config with computed attributes filled, and state passes through. Beyond that,
what the real providers' source says (`behaviour.py`): a plan answers `requires_replace` for
changed force-new attributes, and a resource config is checked against the providers' enum,
pattern, length and range validators; a computed-only attribute set in configuration is an
error too. The rest (unknown arguments, missing required ones, types, block counts) is checked
by Terraform core from the schema. What the stand-in invents (private data beside each object
lists it) is never evidence of a change or of an invalid value.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from generator.offline import behaviour, codec, schema
from generator.offline.behaviour import MapKey
from generator.offline.proto import tfplugin6_pb2 as pb
from generator.offline.proto import tfplugin6_pb2_grpc as pb_grpc
from generator.offline.schema import Block

FAKE_TIME = "1970-01-01T00:00:00Z"


# ---------------------------------------------------------------------------------------------
# diagnostics


@dataclass(frozen=True)
class Problem:
    """One provider-side finding, with the attribute path Terraform maps to a source range."""

    summary: str
    detail: str
    path: behaviour.Steps = ()

    def message(self) -> pb.Diagnostic:
        diag = pb.Diagnostic(severity=pb.Diagnostic.ERROR, summary=self.summary, detail=self.detail)
        if self.path:
            diag.attribute.CopyFrom(attribute_path(self.path))
        return diag


def attribute_path(path: behaviour.Steps) -> pb.AttributePath:
    """A path as tfplugin6 steps: names, list indices, map keys."""
    steps = []
    for step in path:
        if isinstance(step, int):
            steps.append(pb.AttributePath.Step(element_key_int=step))
        elif isinstance(step, MapKey):
            steps.append(pb.AttributePath.Step(element_key_string=step.key))
        else:
            steps.append(pb.AttributePath.Step(attribute_name=step))
    return pb.AttributePath(steps=steps)


def validate_config(block: Block, config: Any, path: behaviour.Steps = ()) -> list[Problem]:
    """Findings the real provider would report for a configuration value."""
    if not isinstance(config, dict):
        return []
    problems: list[Problem] = []
    for name, (_ty, flags) in schema.attrs(block).items():
        if flags.rstrip("w") == "c" and config.get(name) is not None:
            problems.append(
                Problem(
                    "Value for unconfigurable attribute",
                    f'Can\'t configure a value for "{name}": its value will be decided '
                    "automatically based on the result of applying this configuration.",
                    (*path, name),
                )
            )
    for name, (nesting, _min, _max, inner) in schema.blocks(block).items():
        value = config.get(name)
        if nesting == "single":
            problems += validate_config(inner, value, (*path, name))
        elif isinstance(value, list):
            for i, element in enumerate(value):
                problems += validate_config(inner, element, (*path, name, i))
    return problems


# ---------------------------------------------------------------------------------------------
# plan


def plan_object(block: Block, proposed: Any, config: Any) -> Any:
    """Planned new state: the proposed state with unset computed attributes unknown and
    write-only attributes null."""
    if proposed is None or codec.is_unknown(proposed) or not isinstance(proposed, dict):
        return proposed
    cfg = config if isinstance(config, dict) else {}
    out = dict(proposed)
    for name, (_ty, flags) in schema.attrs(block).items():
        if "w" in flags:
            out[name] = None
        elif "c" in flags and cfg.get(name) is None and out.get(name) is None:
            out[name] = codec.UNKNOWN
    for name, (nesting, _min, _max, inner) in schema.blocks(block).items():
        value = out.get(name)
        if nesting == "single":
            out[name] = plan_object(inner, value, cfg.get(name))
        elif isinstance(value, list):
            cfg_value = cfg.get(name)
            cfg_list: list[Any] = cfg_value if isinstance(cfg_value, list) else []
            by_index = nesting == "list"
            out[name] = [
                plan_object(inner, v, cfg_list[i] if by_index and i < len(cfg_list) else v)
                for i, v in enumerate(value)
            ]
    return out


# ---------------------------------------------------------------------------------------------
# fake values


@dataclass
class Faker:
    """Deterministic stand-ins for values only the cloud would know."""

    seed: str
    defaults: dict[str, str] = field(default_factory=dict)  # from the provider configuration
    id_format: str = ""  # the provider's id template for this type (behaviour data)
    id_shortens: bool = False  # built with ReplaceVarsForId (last path segments)

    def digest(self, path: str, n: int = 8) -> str:
        return hashlib.sha256(f"{self.seed}|{path}".encode()).hexdigest()[:n]

    def number(self, path: str) -> int:
        return int(self.digest(path, 12), 16) % 900_000_000_000 + 100_000_000_000

    def string(self, name: str, path: str, obj: dict[str, Any]) -> str:
        def known(key: str) -> str | None:
            v = obj.get(key)
            return v if isinstance(v, str) else None

        project = known("project") or self.defaults.get("project") or "offline-project"
        if name == "project":
            return project
        if name in ("region", "location", "zone") and self.defaults.get(name):
            return self.defaults[name]
        if name.endswith("email"):
            account = known("account_id") or f"{behaviour.FAKE_PREFIX}{self.digest(path)}"
            return f"{account}@{project}.iam.gserviceaccount.com"
        if name == "member":
            email = known("email")
            return f"serviceAccount:{email}" if email else f"serviceAccount:{self.digest(path)}"
        if name == "id" and path == ".id" and self.id_format:
            formatted = behaviour.format_id(self.id_format, obj, self.defaults,
                                            shorten=self.id_shortens)
            if formatted:
                return formatted
        return self.resource_name(name, obj, project) or self.other_string(name, path)

    @staticmethod
    def resource_name(name: str, obj: dict[str, Any], project: str) -> str | None:
        """The resource names modules check the form of (service accounts, secrets and their
        versions), when the object carries what they are built from."""
        if name not in ("id", "name"):
            return None
        values = {k: v for k, v in obj.items() if isinstance(v, str)}
        if "account_id" in obj and "email" in values:
            return f"projects/{project}/serviceAccounts/{values['email']}"
        if "secret" in values and "version" in values:
            return f"{values['secret']}/versions/{values['version']}"
        return None

    def other_string(self, name: str, path: str) -> str:
        if name == "number" or name.endswith("_number"):
            return str(self.number(path))
        if name.endswith(("_time", "_timestamp")) or name in ("updated", "created"):
            return FAKE_TIME
        if name.endswith(("self_link", "_url", "_uri")) or name in ("url", "uri"):
            return f"https://{behaviour.FAKE_HOST}/{self.digest(path)}"
        return f"{behaviour.FAKE_PREFIX}{self.digest(path)}"

    def value(self, name: str, ty: Any, path: str, obj: dict[str, Any]) -> Any:
        if ty == "string":
            return self.string(name, path, obj)
        if ty == "number":
            return self.number(path)
        if ty == "bool":
            return False
        if ty == "dynamic":
            return codec.dynamic("string", f"{behaviour.FAKE_PREFIX}{self.digest(path)}")
        kind = ty[0]
        if kind in ("list", "set", "tuple"):
            return []
        if kind == "map":
            return {}
        if kind == "object":
            inner: dict[str, Any] = {}
            for k, t in ty[1].items():
                inner[k] = self.value(k, t, f"{path}.{k}", inner)
            return inner
        raise codec.CodecError(f"unsupported type {ty!r}")


def _order(names: list[str]) -> list[str]:
    # fill the values other fake values are built from first (email before member, the parts
    # of an id or name before it)
    return sorted(names, key=lambda n: (n in ("member", "id", "name"), n))


def fill_unknowns(block: Block, value: Any, faker: Faker, path: str = "") -> Any:
    """Apply result: every unknown replaced by a fake known value of its type."""
    if value is None:
        return None
    if codec.is_unknown(value):
        return faker.value(path.rsplit(".", 1)[-1], schema.implied_type(block), path, {})
    out = dict(value)
    for name in _order(list(schema.attrs(block))):
        ty = schema.attrs(block)[name][0]
        v = out.get(name)
        if codec.is_unknown(v):
            out[name] = faker.value(name, ty, f"{path}.{name}", out)
        elif codec.contains_unknown(v):
            out[name] = _fill_in_collection(v, ty, faker, f"{path}.{name}")
    for name, (nesting, _min, _max, inner) in schema.blocks(block).items():
        v = out.get(name)
        if nesting == "single":
            out[name] = fill_unknowns(inner, v, faker, f"{path}.{name}")
        elif codec.is_unknown(v):
            out[name] = []
        elif isinstance(v, list):
            out[name] = [
                fill_unknowns(inner, e, faker, f"{path}.{name}[{i}]") for i, e in enumerate(v)
            ]
    return out


def _fill_in_collection(value: Any, ty: Any, faker: Faker, path: str) -> Any:
    if codec.is_unknown(value):
        return faker.value(path.rsplit(".", 1)[-1], ty, path, {})
    if isinstance(ty, list) and ty[0] in ("list", "set") and isinstance(value, list):
        return [_fill_in_collection(v, ty[1], faker, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(ty, list) and ty[0] == "map" and isinstance(value, dict):
        return {k: _fill_in_collection(v, ty[1], faker, f"{path}.{k}") for k, v in value.items()}
    if isinstance(ty, list) and ty[0] == "object" and isinstance(value, dict):
        return {
            k: _fill_in_collection(value.get(k), t, faker, f"{path}.{k}") for k, t in ty[1].items()
        }
    return value


def read_data(block: Block, config: Any, faker: Faker) -> Any:
    """Data source result: the config with every computed attribute it leaves unset filled."""
    planned = plan_object(block, config, config)
    return fill_unknowns(block, planned, faker)


def seed_for(type_name: str, *values: bytes) -> str:
    h = hashlib.sha256(type_name.encode())
    for v in values:
        h.update(v)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# private state: what the stand-in invented (kept by Terraform beside each object)

PRIVATE_KEY = "mlopsgen_offline"


def read_private(data: bytes) -> dict[str, Any]:
    try:
        info = json.loads(data) if data else {}
    except ValueError:
        return {}
    found = info.get(PRIVATE_KEY) if isinstance(info, dict) else None
    return found if isinstance(found, dict) else {}


def write_private(info: dict[str, Any]) -> bytes:
    return json.dumps({PRIVATE_KEY: info}, sort_keys=True, separators=(",", ":")).encode()


def known_prior(value: Any, private: bytes) -> behaviour.Prior:
    info = read_private(private)
    invented = tuple(behaviour.steps_from_json(p) for p in info.get("invented", ()))
    return behaviour.Prior(value, invented, bool(info.get("imported")))


def invented_paths(
    planned: Any, new_state: Any, config: Any, planned_private: bytes, real: set[str]
) -> list[list[Any]]:
    """Paths whose applied value the stand-in made up: unknowns it filled now (except values
    taken from the provider configuration), and earlier inventions the config still leaves
    unset."""
    def made_up(p: behaviour.Steps) -> bool:
        value = behaviour.value_at(new_state, p)
        return not (isinstance(value, str) and value in real)

    paths = [p for p in behaviour.unknown_paths(planned) if made_up(p)]
    earlier = known_prior(None, planned_private).invented
    paths += [p for p in earlier if behaviour.value_at(config, p) is None and p not in paths]
    return [behaviour.steps_json(p) for p in paths]


# ---------------------------------------------------------------------------------------------
# gRPC servicer


def _dyn(value: Any) -> pb.DynamicValue:
    return pb.DynamicValue(msgpack=codec.encode(value))


def _undyn(dv: pb.DynamicValue, ty: Any) -> Any:
    if dv.msgpack:
        return codec.decode(dv.msgpack)
    if dv.json:
        return codec.conform(json.loads(dv.json), ty)
    return None


class StandInProvider(pb_grpc.ProviderServicer):
    """tfplugin6 Provider service answering from the schema snapshot."""

    def __init__(self, name: str, on_stop: Callable[[], None] | None = None) -> None:
        self.ps = schema.provider_schema(name)
        self.defaults: dict[str, str] = {}
        self.on_stop = on_stop

    # -- helpers
    def _block(self, kind: str, type_name: str, context: grpc.ServicerContext) -> Block:
        key = type_name if kind == "resource" else f"{kind}.{type_name}"
        block = self.ps.types.get(key)
        if block is None:
            hint = (
                "the offline schema snapshot lacks it: add it to EXTRA_TYPES in "
                "tools/refresh_provider_schemas.py and refresh the snapshot"
                if key in self.ps.all_types
                else f"{self.ps.source} {self.ps.version} has no such type"
            )
            context.abort(grpc.StatusCode.NOT_FOUND, f"{key}: {hint}")
            raise AssertionError("unreachable")  # abort raises
        return block

    # -- information
    def GetMetadata(
        self, request: pb.GetMetadata.Request, context: grpc.ServicerContext
    ) -> pb.GetMetadata.Response:
        resp = pb.GetMetadata.Response(
            server_capabilities=pb.ServerCapabilities(get_provider_schema_optional=True)
        )
        for key in self.ps.types:
            kind, _, type_name = key.rpartition(".")
            if kind == "data":
                resp.data_sources.append(pb.GetMetadata.DataSourceMetadata(type_name=type_name))
            elif kind == "ephemeral":
                resp.ephemeral_resources.append(
                    pb.GetMetadata.EphemeralMetadata(type_name=type_name)
                )
            else:
                resp.resources.append(pb.GetMetadata.ResourceMetadata(type_name=type_name))
        return resp

    def GetProviderSchema(
        self, request: pb.GetProviderSchema.Request, context: grpc.ServicerContext
    ) -> pb.GetProviderSchema.Response:
        return pb.GetProviderSchema.Response.FromString(schema.schema_response_bytes(self.ps.name))

    def GetFunctions(
        self, request: pb.GetFunctions.Request, context: grpc.ServicerContext
    ) -> pb.GetFunctions.Response:
        return pb.GetFunctions.Response()

    def CallFunction(
        self, request: pb.CallFunction.Request, context: grpc.ServicerContext
    ) -> pb.CallFunction.Response:
        return pb.CallFunction.Response(
            error=pb.FunctionError(
                text=f"the offline stand-in for {self.ps.source} has no provider functions"
            )
        )

    # -- validation
    def _config_diagnostics(
        self, kind: str, type_name: str, config: pb.DynamicValue, context: grpc.ServicerContext
    ) -> list[pb.Diagnostic]:
        """What the schema says of a resource, data source or ephemeral resource config."""
        block = self._block(kind, type_name, context)
        value = _undyn(config, schema.implied_type(block))
        problems = validate_config(block, value)
        tb = behaviour.for_type(self.ps.name, type_name) if kind == "resource" else None
        if tb is not None:
            problems += [
                Problem(f.summary, f.detail, f.path)
                for f in behaviour.check_config(tb, block, value)
            ]
        return [p.message() for p in problems]

    def ValidateProviderConfig(
        self, request: pb.ValidateProviderConfig.Request, context: grpc.ServicerContext
    ) -> pb.ValidateProviderConfig.Response:
        return pb.ValidateProviderConfig.Response()

    def ValidateResourceConfig(
        self, request: pb.ValidateResourceConfig.Request, context: grpc.ServicerContext
    ) -> pb.ValidateResourceConfig.Response:
        return pb.ValidateResourceConfig.Response(
            diagnostics=self._config_diagnostics(
                "resource", request.type_name, request.config, context
            )
        )

    def ValidateDataResourceConfig(
        self, request: pb.ValidateDataResourceConfig.Request, context: grpc.ServicerContext
    ) -> pb.ValidateDataResourceConfig.Response:
        return pb.ValidateDataResourceConfig.Response(
            diagnostics=self._config_diagnostics(
                "data", request.type_name, request.config, context
            )
        )

    def ValidateEphemeralResourceConfig(
        self, request: pb.ValidateEphemeralResourceConfig.Request, context: grpc.ServicerContext
    ) -> pb.ValidateEphemeralResourceConfig.Response:
        return pb.ValidateEphemeralResourceConfig.Response(
            diagnostics=self._config_diagnostics(
                "ephemeral", request.type_name, request.config, context
            )
        )

    def ConfigureProvider(
        self, request: pb.ConfigureProvider.Request, context: grpc.ServicerContext
    ) -> pb.ConfigureProvider.Response:
        config = _undyn(request.config, schema.implied_type(self.ps.provider))
        if isinstance(config, dict):
            for key in ("project", "region", "zone"):
                if isinstance(config.get(key), str):
                    self.defaults[key] = config[key]
        return pb.ConfigureProvider.Response()

    # -- managed resources
    def UpgradeResourceState(
        self, request: pb.UpgradeResourceState.Request, context: grpc.ServicerContext
    ) -> pb.UpgradeResourceState.Response:
        block = self._block("resource", request.type_name, context)
        ty = schema.implied_type(block)
        raw = request.raw_state
        value = codec.conform(json.loads(raw.json), ty) if raw.json else None
        return pb.UpgradeResourceState.Response(upgraded_state=_dyn(value))

    def ReadResource(
        self, request: pb.ReadResource.Request, context: grpc.ServicerContext
    ) -> pb.ReadResource.Response:
        return pb.ReadResource.Response(
            new_state=request.current_state, private=getattr(request, "private", b"")
        )

    def PlanResourceChange(
        self, request: pb.PlanResourceChange.Request, context: grpc.ServicerContext
    ) -> pb.PlanResourceChange.Response:
        block = self._block("resource", request.type_name, context)
        ty = schema.implied_type(block)
        proposed = _undyn(request.proposed_new_state, ty)
        config = _undyn(request.config, ty)
        planned = plan_object(block, proposed, config)
        resp = pb.PlanResourceChange.Response(
            planned_state=_dyn(planned), planned_private=request.prior_private
        )
        tb = behaviour.for_type(self.ps.name, request.type_name)
        if tb is not None and tb.force_new:
            prior = known_prior(_undyn(request.prior_state, ty), request.prior_private)
            for path in behaviour.requires_replace(tb, block, prior, planned, config):
                resp.requires_replace.append(attribute_path(path))
        return resp

    def ApplyResourceChange(
        self, request: pb.ApplyResourceChange.Request, context: grpc.ServicerContext
    ) -> pb.ApplyResourceChange.Response:
        block = self._block("resource", request.type_name, context)
        ty = schema.implied_type(block)
        planned = _undyn(request.planned_state, ty)
        tb = behaviour.for_type(self.ps.name, request.type_name)
        faker = Faker(seed_for(request.type_name, request.config.msgpack), self.defaults,
                      tb.id_format if tb else "", bool(tb and tb.id_shortens))
        new_state = fill_unknowns(block, planned, faker)
        invented = invented_paths(
            planned, new_state, _undyn(request.config, ty), request.planned_private,
            set(self.defaults.values()),
        )
        return pb.ApplyResourceChange.Response(
            new_state=_dyn(new_state), private=write_private({"invented": invented})
        )

    def ImportResourceState(
        self, request: pb.ImportResourceState.Request, context: grpc.ServicerContext
    ) -> pb.ImportResourceState.Response:
        block = self._block("resource", request.type_name, context)
        ty = schema.implied_type(block)
        state = codec.conform({"id": request.id}, ty)
        return pb.ImportResourceState.Response(
            imported_resources=[
                pb.ImportResourceState.ImportedResource(
                    type_name=request.type_name,
                    state=_dyn(state),
                    private=write_private({"imported": True}),
                )
            ]
        )

    def MoveResourceState(
        self, request: pb.MoveResourceState.Request, context: grpc.ServicerContext
    ) -> pb.MoveResourceState.Response:
        problem = Problem(
            "Move not supported offline",
            f"The offline stand-in for {self.ps.source} cannot move state between types.",
        )
        return pb.MoveResourceState.Response(diagnostics=[problem.message()])

    def ReadDataSource(
        self, request: pb.ReadDataSource.Request, context: grpc.ServicerContext
    ) -> pb.ReadDataSource.Response:
        block = self._block("data", request.type_name, context)
        ty = schema.implied_type(block)
        config = _undyn(request.config, ty)
        faker = Faker(seed_for(request.type_name, request.config.msgpack), self.defaults)
        return pb.ReadDataSource.Response(state=_dyn(read_data(block, config, faker)))

    # -- ephemeral resources
    def OpenEphemeralResource(
        self, request: pb.OpenEphemeralResource.Request, context: grpc.ServicerContext
    ) -> pb.OpenEphemeralResource.Response:
        block = self._block("ephemeral", request.type_name, context)
        ty = schema.implied_type(block)
        config = _undyn(request.config, ty)
        faker = Faker(seed_for(request.type_name, request.config.msgpack), self.defaults)
        return pb.OpenEphemeralResource.Response(result=_dyn(read_data(block, config, faker)))

    def RenewEphemeralResource(
        self, request: pb.RenewEphemeralResource.Request, context: grpc.ServicerContext
    ) -> pb.RenewEphemeralResource.Response:
        return pb.RenewEphemeralResource.Response()

    def CloseEphemeralResource(
        self, request: pb.CloseEphemeralResource.Request, context: grpc.ServicerContext
    ) -> pb.CloseEphemeralResource.Response:
        return pb.CloseEphemeralResource.Response()

    def StopProvider(
        self, request: pb.StopProvider.Request, context: grpc.ServicerContext
    ) -> pb.StopProvider.Response:
        return pb.StopProvider.Response()


def log(message: str) -> None:
    """Plugin logs go to stderr, which Terraform folds into its own log (TF_LOG)."""
    print(f"[mlopsgen-offline] {message}", file=sys.stderr, flush=True)
