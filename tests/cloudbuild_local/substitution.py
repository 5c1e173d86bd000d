"""Substitutions, as Cloud Build applies them when it creates a build.

What a reference is comes from the product's Cloud Build check
(`generator.cloudbuild.substitutions.references`): `$NAME`, `${NAME}`, `$$` (an escaped `$`),
and the bash-style forms `${NAME<op>...}`. The rules applied here:

- The map is the file's `substitutions` (defaults), overridden by the request's (a trigger's,
  or `run_build(substitutions=...)`), plus the built-ins of the build (a missing built-in such as
  TAG_NAME on a branch build is the empty string). User keys match `_[A-Z0-9_]+`; of the
  built-ins only REPO_NAME, BRANCH_NAME, TAG_NAME, REVISION_ID, COMMIT_SHA and SHORT_SHA can be
  given in the request.
- Every string of the config is substituted except `script` (never substituted: with
  `automapSubstitutions` it sees them as environment variables) and the `substitutions` values.
- Dynamic substitutions (options.dynamicSubstitutions, always on for triggered builds): the
  `substitutions` values are evaluated (they may reference other substitutions and use the bash
  forms; a cycle is an error) and the bash forms are evaluated everywhere. Without them a bash
  form is not a reference: it reaches the step as written (the shell may expand it).
- A reference to a name that is neither a user key nor a built-in (`$HOME`) fails the build
  whatever the substitution option ('is not a valid built-in substitution'; write `$$HOME`).
- MUST_MATCH (the default) fails the build when a referenced user key is missing from the map
  or a user key of the map is referenced nowhere; ALLOW_LOOSE accepts both (a missing key is
  the empty string). Bash forms count as references of their key here, as in the Cloud Build
  check; the service documents nothing more precise for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.cloudbuild.substitutions import BUILTIN_SUBSTITUTIONS, USER_KEY, Ref, references
from tests.cloudbuild_local import bash_ops
from tests.cloudbuild_local.config import ALLOW_LOOSE, MUST_MATCH
from tests.cloudbuild_local.errors import InvalidBuild

# built-ins a request may set (gcloud builds submit --substitutions; the local builder's list)
OVERRIDABLE_BUILTINS = frozenset(
    {"REPO_NAME", "BRANCH_NAME", "TAG_NAME", "REVISION_ID", "COMMIT_SHA", "SHORT_SHA"}
)
PULL_REQUEST_BUILTINS = frozenset({"_HEAD_BRANCH", "_BASE_BRANCH", "_HEAD_REPO_URL", "_PR_NUMBER"})
NOT_SUBSTITUTED = frozenset({"script", "substitutions"})
MAX_KEYS, MAX_VALUE = 200, 4000

Resolve = Callable[[Ref], str]


@dataclass(frozen=True)
class Substituted:
    """The config with every substituted string resolved, and the map the build ran with."""

    raw: dict[str, Any]
    values: dict[str, str]  # built-ins and user keys, evaluated
    dynamic: bool


def is_bash_form(ref: Ref) -> bool:
    return ref.text not in (f"${ref.name}", f"${{{ref.name}}}")


def _key_problem(key: str) -> str | None:
    if USER_KEY.match(key) or key in OVERRIDABLE_BUILTINS:
        return None
    return (
        f'substitution key "{key}" does not respect format "^_[A-Z0-9_]+$" and is not an '
        "overridable built-in substitution"
    )


def _request_map(defaults: Any, request: Mapping[str, str]) -> dict[str, str]:
    if defaults is not None and not isinstance(defaults, dict):
        raise InvalidBuild("substitutions: must be a map of strings")
    merged: dict[str, Any] = {**(defaults or {}), **request}
    if len(merged) > MAX_KEYS:
        raise InvalidBuild(f"number of substitutions {len(merged)} exceeded (max: {MAX_KEYS})")
    for key, value in merged.items():
        problem = _key_problem(str(key))
        if problem:
            raise InvalidBuild(f"invalid .substitutions field: {problem}")
        if not isinstance(value, str):
            raise InvalidBuild(
                f"substitutions.{key}: {value!r} is not a string: quote it in the YAML"
            )
        if len(value) > MAX_VALUE:
            raise InvalidBuild(f"substitution value of {key} too long (max: {MAX_VALUE})")
    return merged


def expand(text: str, resolve: Resolve, *, dynamic: bool) -> str:
    """`text` with every reference replaced by `resolve(ref)` and `$$` by `$`; without
    `dynamic` a bash form stays as written (its `${` literal, the rest scanned on)."""
    for ref in references(text):
        head = text[: ref.offset].replace("$$", "$")
        if is_bash_form(ref) and not dynamic:
            return head + "${" + expand(text[ref.offset + 2 :], resolve, dynamic=dynamic)
        tail = text[ref.offset + len(ref.text) :]
        return head + resolve(ref) + expand(tail, resolve, dynamic=dynamic)
    return text.replace("$$", "$")


@dataclass
class _Evaluator:
    """Resolves references against the map, recording which keys are used and what is wrong."""

    values: dict[str, str]
    request: frozenset[str]  # keys whose values are evaluated (dynamic) and checked as "used"
    dynamic: bool
    used: set[str] = field(default_factory=set)
    missing: list[str] = field(default_factory=list)
    evaluated: dict[str, str] = field(default_factory=dict)
    active: list[str] = field(default_factory=list)

    def value(self, name: str) -> str:
        if self.dynamic and name in self.request:
            return self.evaluate(name)
        return self.values.get(name, "")

    def evaluate(self, name: str) -> str:
        """A request key's value with its own references resolved (dynamic substitutions)."""
        if name in self.evaluated:
            return self.evaluated[name]
        if name in self.active:
            chain = " -> ".join([*self.active[self.active.index(name) :], name])
            raise InvalidBuild(f"cycle in evaluating substitutions: {chain}")
        self.active.append(name)
        result = expand(self.values[name], self.resolve, dynamic=True)
        self.active.pop()
        self.evaluated[name] = result
        return result

    def resolve(self, ref: Ref) -> str:
        name = ref.name
        if not name.startswith("_") and name not in BUILTIN_SUBSTITUTIONS:
            raise InvalidBuild(
                f'key in the template "{name}" is not a valid built-in substitution (for a shell '
                f"variable write '${ref.text}')"
            )
        self.used.add(name)
        if name.startswith("_") and name not in self.values and name not in self.missing:
            self.missing.append(name)
        value = self.value(name)
        if is_bash_form(ref):
            op = ref.text[2 + len(name) :]
            if not op.endswith("}"):
                raise InvalidBuild(f"substitution '{ref.text}': unterminated '${{'")
            if "${" in op:
                raise InvalidBuild(
                    f"substitution '{ref.text}': nested expansions are not modeled by the runner"
                )
            return bash_ops.apply(value, op[:-1], self.operand, ref.text)
        return value

    def operand(self, text: str) -> str:
        return expand(text, self.resolve, dynamic=True)


def _walk(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [_walk(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: (v if k in NOT_SUBSTITUTED else _walk(v, fn)) for k, v in value.items()}
    return value


def _match_problems(ev: _Evaluator, request: Mapping[str, str]) -> list[str]:
    problems = [
        f'key in the template "{name}" is not matched in the substitution data; '
        f"substitutions = {dict(sorted(request.items()))}"
        for name in ev.missing
    ]
    unused = sorted(
        k for k in request if k.startswith("_") and k not in ev.used
        and k not in PULL_REQUEST_BUILTINS
    )
    problems += [f'key "{k}" in the substitution data is not matched in the template'
                 for k in unused]
    return problems


def substitute(
    raw: Mapping[str, Any],
    request: Mapping[str, str],
    builtins: Mapping[str, str],
    *,
    triggered: bool,
) -> Substituted:
    """Apply the substitutions of a build (see the module docstring); InvalidBuild when Cloud
    Build would refuse the build."""
    options = raw.get("options") or {}
    dynamic = triggered or options.get("dynamicSubstitutions") is True
    merged = _request_map(raw.get("substitutions"), request)
    values = {**builtins, **merged}
    ev = _Evaluator(values, frozenset(merged), dynamic)
    out: dict[str, Any] = _walk(dict(raw), lambda s: expand(s, ev.resolve, dynamic=dynamic))
    if dynamic:
        for key in merged:
            for ref in references(merged[key]):
                ev.used.add(ref.name)
            values[key] = ev.evaluate(key)
    option = options.get("substitutionOption", MUST_MATCH)
    problems = _match_problems(ev, merged) if option != ALLOW_LOOSE else []
    if problems:
        raise InvalidBuild("; ".join(problems))
    return Substituted(raw=out, values=values, dynamic=dynamic)


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def automap_env(values: Mapping[str, str]) -> dict[str, str]:
    """Substitutions as environment variables (automapSubstitutions)."""
    return {k: v for k, v in values.items() if _ENV_NAME.match(k)}
