"""A build config file: read (YAML or JSON, snake_case keys accepted as gcloud does), checked for
what Cloud Build rejects at creation, and, once substituted, turned into typed steps.

Only the fields the runner models are typed; fields without a local meaning (logging,
machineType, tags, ...) are accepted and ignored, and fields whose effect the runner cannot
reproduce (volumes, KMS `secrets`, `artifacts`, inline secrets) raise NotModeled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.cloudbuild.schema import camel
from tests.cloudbuild_local.errors import InvalidBuild, NotModeled

DEFAULT_BUILD_TIMEOUT_S = 600.0  # Cloud Build's default: 10 minutes
MAX_TIMEOUT_S = 24 * 3600.0
START_STEP = "-"  # the waitFor id that means "start at once"
MUST_MATCH = "MUST_MATCH"
ALLOW_LOOSE = "ALLOW_LOOSE"

_DURATION = re.compile(r"^(\d+(?:\.\d{1,9})?)s$")
_NOT_MODELED_TOP = ("secrets", "artifacts", "dependencies")
_NOT_MODELED_IN = {"options": ("volumes",), "step": ("volumes",), "availableSecrets": ("inline",)}


@dataclass(frozen=True)
class SecretRef:
    """One `availableSecrets.secretManager` entry: a secret version exposed as env `env`."""

    version_name: str
    env: str


@dataclass(frozen=True)
class Step:
    index: int
    name: str
    id: str
    args: tuple[str, ...]
    env: tuple[str, ...]
    dir: str
    entrypoint: str | None
    script: str | None
    secret_env: tuple[str, ...]
    wait_for: tuple[str, ...]
    timeout_s: float | None
    allow_failure: bool
    allow_exit_codes: frozenset[int]
    automap: bool | None  # None: the build's option decides

    @property
    def label(self) -> str:
        """How Cloud Build's log names it: `Step #2 - "plan"`."""
        return f'Step #{self.index} - "{self.id}"' if self.id else f"Step #{self.index}"


@dataclass(frozen=True)
class Build:
    steps: tuple[Step, ...]
    timeout_s: float
    substitution_option: str
    dynamic_option: bool
    automap: bool
    env: tuple[str, ...]
    secret_env: tuple[str, ...]
    secrets: tuple[SecretRef, ...]
    images: tuple[str, ...]


def _normalize(value: Any) -> Any:
    """camelCase the keys of a mapping (gcloud accepts snake_case config keys)."""
    if isinstance(value, dict):
        return {camel(str(k)): v for k, v in value.items()}
    return value


def load(path: Path) -> dict[str, Any]:
    """The raw config (keys camelCased where Cloud Build defines them), not yet checked."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidBuild(f"{path}: cannot parse the build config: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise InvalidBuild(f"{path}: a build config is a mapping with a non-empty 'steps' list")
    raw: dict[str, Any] = _normalize(data)
    raw["steps"] = [_normalize(s) for s in raw["steps"]]
    for key in ("options", "availableSecrets"):
        if key in raw:
            raw[key] = _normalize(raw[key])
    secrets = raw.get("availableSecrets")
    if isinstance(secrets, dict) and isinstance(secrets.get("secretManager"), list):
        secrets["secretManager"] = [_normalize(e) for e in secrets["secretManager"]]
    return raw


def reject_not_modeled(raw: Mapping[str, Any]) -> None:
    """NotModeled for fields whose effect the runner cannot reproduce."""
    found = [k for k in _NOT_MODELED_TOP if k in raw]
    for holder, keys in _NOT_MODELED_IN.items():
        values = raw.get("steps", []) if holder == "step" else [raw.get(holder)]
        found += [f"{holder}.{k}" for v in values if isinstance(v, dict) for k in keys if k in v]
    if found:
        raise NotModeled(
            f"the config uses {', '.join(sorted(set(found)))}, which the local runner does not "
            "model: keep CI configs to steps, env, secretEnv from Secret Manager and /workspace"
        )


def duration(value: Any, where: str) -> float:
    """Seconds of a Duration field ('600s', '1.5s'), as the JSON mapping of Duration writes it."""
    m = _DURATION.match(str(value)) if isinstance(value, str) else None
    if m is None:
        raise InvalidBuild(f"{where}: invalid duration {value!r}: write seconds with 's' ('600s')")
    seconds = float(m.group(1))
    if seconds > MAX_TIMEOUT_S:
        raise InvalidBuild(f"{where}: timeout {value} exceeds the limit of 24h")
    return seconds


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidBuild(f"{where}: must be a list of strings")
    return tuple(value)


def _exit_codes(value: Any, where: str) -> frozenset[int]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise InvalidBuild(f"{where}: must be a list of integers")
    try:
        return frozenset(int(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise InvalidBuild(f"{where}: must be a list of integers") from exc


def _optional_str(step: Mapping[str, Any], key: str, where: str) -> str | None:
    value = step.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidBuild(f"{where}.{key}: must be a string")
    return value


def _step(index: int, raw: Mapping[str, Any], build_timeout: float) -> Step:
    where = f"steps[{index}]"
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidBuild(f"build step {index} must specify name")
    script = _optional_str(raw, "script", where)
    entrypoint = _optional_str(raw, "entrypoint", where)
    if script is not None and (entrypoint is not None or raw.get("args")):
        raise InvalidBuild(f"{where}: a step with 'script' cannot also set 'args' or 'entrypoint'")
    timeout = raw.get("timeout")
    timeout_s = None if timeout is None else duration(timeout, f"{where}.timeout")
    if timeout_s is not None and timeout_s > build_timeout:
        raise InvalidBuild(
            f"invalid .timeout in build step #{index}: build step timeout {timeout} must be <= "
            f"build timeout {build_timeout:g}s"
        )
    automap = raw.get("automapSubstitutions")
    return Step(
        index=index,
        name=name,
        id=_optional_str(raw, "id", where) or "",
        args=_strings(raw.get("args"), f"{where}.args"),
        env=_strings(raw.get("env"), f"{where}.env"),
        dir=_optional_str(raw, "dir", where) or "",
        entrypoint=entrypoint,
        script=script,
        secret_env=_strings(raw.get("secretEnv"), f"{where}.secretEnv"),
        wait_for=_strings(raw.get("waitFor"), f"{where}.waitFor"),
        timeout_s=timeout_s,
        allow_failure=raw.get("allowFailure") is True,
        allow_exit_codes=_exit_codes(raw.get("allowExitCodes"), f"{where}.allowExitCodes"),
        automap=automap if isinstance(automap, bool) else None,
    )


def check_wait_for(steps: tuple[Step, ...]) -> None:
    """Ids are unique (not '-'); every waitFor names an earlier step's id or '-' (Cloud Build's
    rule: a step can only wait for steps defined before it)."""
    known = {START_STEP}
    for step in steps:
        for dep in step.wait_for:
            if dep not in known:
                who = f' - "{step.id}"' if step.id else ""
                raise InvalidBuild(
                    f'build step #{step.index}{who} depends on "{dep}", which has not been defined'
                )
        if step.id:
            if step.id in known:
                raise InvalidBuild(f'build step #{step.index} - "{step.id}": the ID is not unique')
            known.add(step.id)


def _check_env(entries: tuple[str, ...], where: str) -> None:
    for entry in entries:
        if "=" not in entry:
            raise InvalidBuild(f'{where}: the Env entry "{entry}" must be of the form "KEY=VALUE"')


def _secret_refs(raw: Mapping[str, Any]) -> tuple[SecretRef, ...]:
    available = raw.get("availableSecrets") or {}
    refs = []
    for i, entry in enumerate(available.get("secretManager") or []):
        version, env = entry.get("versionName"), entry.get("env")
        if not isinstance(version, str) or not isinstance(env, str) or not version or not env:
            raise InvalidBuild(
                f"availableSecrets.secretManager[{i}]: needs 'versionName' and 'env' strings"
            )
        refs.append(SecretRef(version, env))
    envs = [r.env for r in refs]
    dup = sorted({e for e in envs if envs.count(e) > 1})
    if dup:
        raise InvalidBuild(f"availableSecrets: secret env {dup[0]!r} is defined more than once")
    return tuple(refs)


def _check_secret_env(build: Build) -> None:
    defined = {r.env for r in build.secrets}
    holders = [("options", build.secret_env)] + [(s.label, s.secret_env) for s in build.steps]
    for where, names in holders:
        for name in names:
            if name not in defined:
                raise InvalidBuild(
                    f"{where}: secretEnv {name!r} is not defined by availableSecrets "
                    "(secretManager[].env)"
                )


def to_build(raw: Mapping[str, Any]) -> Build:
    """The typed build of a substituted raw config; InvalidBuild for what Cloud Build rejects."""
    options = raw.get("options") or {}
    timeout = raw.get("timeout")
    build_timeout = DEFAULT_BUILD_TIMEOUT_S if timeout is None else duration(timeout, "timeout")
    steps = tuple(_step(i, s, build_timeout) for i, s in enumerate(raw["steps"]))
    check_wait_for(steps)
    option = options.get("substitutionOption", MUST_MATCH)
    if option not in (MUST_MATCH, ALLOW_LOOSE):
        raise InvalidBuild(f"options.substitutionOption: {option!r} is not MUST_MATCH/ALLOW_LOOSE")
    build = Build(
        steps=steps,
        timeout_s=build_timeout,
        substitution_option=option,
        dynamic_option=options.get("dynamicSubstitutions") is True,
        automap=options.get("automapSubstitutions") is True,
        env=_strings(options.get("env"), "options.env"),
        secret_env=_strings(options.get("secretEnv"), "options.secretEnv"),
        secrets=_secret_refs(raw),
        images=_strings(raw.get("images"), "images"),
    )
    _check_env(build.env, "options")
    for step in steps:
        _check_env(step.env, step.label)
    _check_secret_env(build)
    return build
