"""Offline checks of Cloud Build configs (``cloudbuild/*.yaml``) and the triggers that run them.

Used by ``mlopsgen validate``. Pure: reads files, never the network. Sources of truth:

- keys, nesting, enums: the ``Build`` resource of the Cloud Build v1 API (the build config
  file schema, https://cloud.google.com/build/docs/build-config-file-schema, and the
  ``google.devtools.cloudbuild.v1`` protos). Keys may be written camelCase or snake_case
  (gcloud converts snake_case; the API's JSON parser accepts both). Output-only fields of the
  resource (``logUrl``, ``status``, ...) are reported: Cloud Build ignores them.
- substitutions: https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values.
  Cloud Build treats ``$NAME`` and ``${NAME}`` as a substitution when ``NAME`` matches
  ``[A-Z_][A-Z0-9_]*`` (so ``$home`` and ``$1`` are left alone); ``$$`` is an escaped ``$``.
  Every reference must be a built-in (``BUILTIN_SUBSTITUTIONS``) or a user substitution
  ``_NAME`` declared by the file's ``substitutions`` or by a trigger that runs the file. With
  dynamic substitutions (``options.dynamicSubstitutions``, always on for triggered builds)
  bash-style forms such as ``${_TAG:0:7}`` or ``${_X:-default}`` also reference ``_TAG``/``_X``;
  they are treated as references in every build, so a shell expansion like ``${HOME:-x}``
  must be written ``$${HOME:-x}`` (which is correct in both modes).
  Checked: every string of the config except ``script`` fields (Cloud Build does not
  substitute scripts; with ``automapSubstitutions`` the script sees substitutions as
  environment variables instead) and except ``substitutions`` values, which are checked only
  when dynamic substitutions are on (the option is set, or a Terraform trigger runs the file).
- steps: ``name`` set; ``script`` not combined with ``args``/``entrypoint`` (documented);
  unique ``id`` (not ``-``); every ``waitFor`` names a step id or ``-``; ``env`` entries are
  ``KEY=VALUE``; every ``secretEnv`` (step or options) is defined by ``availableSecrets``
  (``secretManager[].env`` or ``inline[].envMap``) or ``secrets[].secretEnv``.
- logging: a build that runs as a user-managed service account (``serviceAccount`` in the
  file, or ``service_account`` on a trigger that runs it) is refused unless it sets
  ``logsBucket``, ``options.logging: CLOUD_LOGGING_ONLY`` or ``NONE``, or
  ``options.defaultLogsBucketBehavior: REGIONAL_USER_OWNED_BUCKET``.

Which trigger runs which file (``check_repo``)
----------------------------------------------
Every ``*.tf`` and ``*.tfvars`` file under the repo (``.terraform`` directories skipped) is
parsed with python-hcl2. A *trigger source* is

1. a ``resource "google_cloudbuild_trigger"`` block; its file is ``filename`` or
   ``git_file_source.path``; or
2. any HCL object (module call argument, ``locals`` value, variable default, tfvars value,
   at any depth) that has both a ``filename`` and a ``substitutions`` key: the convention
   for triggers created in a module with ``for_each`` over a map of trigger specs.

Each source also yields its ``service_account`` (when set) and its ``substitutions``.

- A source whose file name is a literal string (``"cloudbuild/terraform-plan.yaml"``, a
  leading ``./`` ignored) runs exactly that file. Its ``substitutions`` declare their keys
  when the map is written literally (keys are literal strings or identifiers).
- A source whose file name is an expression runs every ``cloudbuild/`` file its literal
  parts allow (``"cloudbuild/${each.key}.yaml"`` matches ``cloudbuild/<anything>.yaml``;
  a bare expression matches every file).
- When a file is matched by a source whose file name is an expression, or by a source whose
  ``substitutions`` is an expression (``var.substitutions``, ``merge(...)``), the declared
  keys for that file also include the *fallback pool*: every literal ``_KEY`` of every
  source's ``substitutions`` map (including the ``_KEY = ...`` entries of object literals
  inside ``merge(...)``-like expressions) and every key of a ``locals`` map whose name
  contains ``substitutions``.
- A file matched by a source with a ``service_account`` runs as a user-managed service
  account (pattern matches count only when the file name pattern has a literal part).

A literal trigger file name that does not exist in the repo is reported too. A ``.tf`` file
python-hcl2 cannot parse is not reported (``terraform validate`` reports real syntax errors);
if it mentions triggers or substitutions, every config gets the fallback pool, which then also
holds every ``_KEY =`` written in that file.
"""

from __future__ import annotations

import difflib
import json
import pathlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["BUILTIN_SUBSTITUTIONS", "Finding", "check_build_file", "check_repo"]


@dataclass(frozen=True)
class Finding:
    file: str  # path relative to the repo root
    line: int  # 1-based, 0 when unknown
    message: str  # actionable: what is wrong and how to fix it


# Default substitutions of every build, of triggered builds, and the GitHub pull request ones.
BUILTIN_SUBSTITUTIONS: frozenset[str] = frozenset(
    {
        "PROJECT_ID",
        "BUILD_ID",
        "PROJECT_NUMBER",
        "LOCATION",
        "TRIGGER_NAME",
        "COMMIT_SHA",
        "REVISION_ID",
        "SHORT_SHA",
        "REPO_NAME",
        "REPO_FULL_NAME",
        "BRANCH_NAME",
        "TAG_NAME",
        "REF_NAME",
        "TRIGGER_BUILD_CONFIG_PATH",
        "SERVICE_ACCOUNT_EMAIL",
        "SERVICE_ACCOUNT",
        "_HEAD_BRANCH",
        "_BASE_BRANCH",
        "_HEAD_REPO_URL",
        "_PR_NUMBER",
    }
)

_USER_SUBST_KEY = re.compile(r"^_[A-Z0-9_]+$")
_DURATION = re.compile(r"^\d+(\.\d+)?s$")
_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
# characters that may follow ${NAME in a bash-style dynamic substitution
_DYNAMIC_OPS = frozenset(":#%/^,-+=?@")
_CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
_LOGS_OK = frozenset({"CLOUD_LOGGING_ONLY", "NONE"})

# ---------------------------------------------------------------------------------------------
# Schema of the Build resource as written in a config file.
# A spec is one of: "str", "bool", "int64", "duration", "any", ("enum", names),
# ("list", spec), ("strmap",), ("obj", name)  (name: key of _OBJECTS).
# ---------------------------------------------------------------------------------------------
Spec = Any

_HASH_TYPES = frozenset({"NONE", "SHA256", "MD5", "GO_MODULE_H1", "SHA512"})
_ENUMS: dict[str, frozenset[str]] = {
    "logging": frozenset(
        {
            "LOGGING_UNSPECIFIED",
            "LEGACY",
            "GCS_ONLY",
            "STACKDRIVER_ONLY",
            "CLOUD_LOGGING_ONLY",
            "NONE",
        }
    ),
    "machineType": frozenset(
        {
            "UNSPECIFIED",
            "N1_HIGHCPU_8",
            "N1_HIGHCPU_32",
            "E2_HIGHCPU_8",
            "E2_HIGHCPU_32",
            "E2_MEDIUM",
            "E2_STANDARD_2",
        }
    ),
    "substitutionOption": frozenset({"MUST_MATCH", "ALLOW_LOOSE"}),
    "logStreamingOption": frozenset({"STREAM_DEFAULT", "STREAM_ON", "STREAM_OFF"}),
    "requestedVerifyOption": frozenset({"NOT_VERIFIED", "VERIFIED", "BEST_EFFORT"}),
    "defaultLogsBucketBehavior": frozenset(
        {"DEFAULT_LOGS_BUCKET_BEHAVIOR_UNSPECIFIED", "REGIONAL_USER_OWNED_BUCKET", "LEGACY_BUCKET"}
    ),
}


@dataclass(frozen=True)
class _Obj:
    label: str
    fields: dict[str, Spec]
    required: frozenset[str] = frozenset()
    output_only: frozenset[str] = frozenset()


_OBJECTS: dict[str, _Obj] = {
    "build": _Obj(
        "top-level",
        {
            "steps": ("list", ("obj", "step")),
            "timeout": "duration",
            "queueTtl": "duration",
            "logsBucket": "str",
            "options": ("obj", "options"),
            "substitutions": ("strmap",),
            "tags": ("list", "str"),
            "serviceAccount": "str",
            "secrets": ("list", ("obj", "secret")),
            "availableSecrets": ("obj", "availableSecrets"),
            "artifacts": ("obj", "artifacts"),
            "images": ("list", "str"),
            "gitConfig": ("obj", "gitConfig"),
            "dependencies": ("list", ("obj", "dependency")),
            "source": "any",  # reported separately: a config file cannot specify source
        },
        required=frozenset({"steps"}),
        output_only=frozenset(
            {
                "name",
                "id",
                "projectId",
                "status",
                "statusDetail",
                "results",
                "createTime",
                "startTime",
                "finishTime",
                "sourceProvenance",
                "buildTriggerId",
                "logUrl",
                "timing",
                "approval",
                "warnings",
                "failureInfo",
            }
        ),
    ),
    "step": _Obj(
        "step",
        {
            "name": "str",
            "args": ("list", "str"),
            "env": ("list", "str"),
            "dir": "str",
            "id": "str",
            "waitFor": ("list", "str"),
            "entrypoint": "str",
            "secretEnv": ("list", "str"),
            "volumes": ("list", ("obj", "volume")),
            "timeout": "duration",
            "allowFailure": "bool",
            "allowExitCodes": ("list", "int64"),
            "script": "str",
            "automapSubstitutions": "bool",
        },
        required=frozenset({"name"}),
        output_only=frozenset({"timing", "pullTiming", "status", "exitCode"}),
    ),
    "volume": _Obj("volume", {"name": "str", "path": "str"}, required=frozenset({"name", "path"})),
    "options": _Obj(
        "options",
        {
            "sourceProvenanceHash": ("list", ("enum", _HASH_TYPES)),
            "requestedVerifyOption": ("enum", _ENUMS["requestedVerifyOption"]),
            "machineType": ("enum", _ENUMS["machineType"]),
            "diskSizeGb": "int64",
            "substitutionOption": ("enum", _ENUMS["substitutionOption"]),
            "dynamicSubstitutions": "bool",
            "automapSubstitutions": "bool",
            "logStreamingOption": ("enum", _ENUMS["logStreamingOption"]),
            "workerPool": "str",
            "pool": ("obj", "pool"),
            "logging": ("enum", _ENUMS["logging"]),
            "env": ("list", "str"),
            "secretEnv": ("list", "str"),
            "volumes": ("list", ("obj", "volume")),
            "defaultLogsBucketBehavior": ("enum", _ENUMS["defaultLogsBucketBehavior"]),
            "enableStructuredLogging": "bool",
            "workerRelease": "str",
            "pubsubTopic": "str",
        },
        output_only=frozenset({"resolvedWorkerRelease"}),
    ),
    "pool": _Obj(
        "options.pool",
        {"name": "str", "workerRelease": "str"},
        output_only=frozenset({"resolvedWorkerRelease"}),
    ),
    "secret": _Obj(
        "secrets entry",
        {"kmsKeyName": "str", "secretEnv": ("strmap",)},
        required=frozenset({"kmsKeyName"}),
    ),
    "availableSecrets": _Obj(
        "availableSecrets",
        {"secretManager": ("list", ("obj", "smSecret")), "inline": ("list", ("obj", "inline"))},
    ),
    "smSecret": _Obj(
        "availableSecrets.secretManager entry",
        {"versionName": "str", "env": "str"},
        required=frozenset({"versionName", "env"}),
    ),
    "inline": _Obj(
        "availableSecrets.inline entry",
        {"kmsKeyName": "str", "envMap": ("strmap",)},
        required=frozenset({"kmsKeyName"}),
    ),
    "artifacts": _Obj(
        "artifacts",
        {
            "images": ("list", "str"),
            "objects": ("obj", "objects"),
            "mavenArtifacts": ("list", ("obj", "maven")),
            "goModules": ("list", ("obj", "goModule")),
            "pythonPackages": ("list", ("obj", "pythonPackage")),
            "npmPackages": ("list", ("obj", "npmPackage")),
        },
    ),
    "objects": _Obj(
        "artifacts.objects",
        {"location": "str", "paths": ("list", "str")},
        required=frozenset({"location", "paths"}),
        output_only=frozenset({"timing"}),
    ),
    "maven": _Obj(
        "artifacts.mavenArtifacts entry",
        {
            "repository": "str",
            "path": "str",
            "artifactId": "str",
            "groupId": "str",
            "version": "str",
        },
    ),
    "goModule": _Obj(
        "artifacts.goModules entry",
        {
            "repositoryName": "str",
            "repositoryLocation": "str",
            "repositoryProjectId": "str",
            "sourcePath": "str",
            "modulePath": "str",
            "moduleVersion": "str",
        },
    ),
    "pythonPackage": _Obj(
        "artifacts.pythonPackages entry", {"repository": "str", "paths": ("list", "str")}
    ),
    "npmPackage": _Obj("artifacts.npmPackages entry", {"repository": "str", "packagePath": "str"}),
    "gitConfig": _Obj("gitConfig", {"http": ("obj", "gitHttp")}),
    "gitHttp": _Obj("gitConfig.http", {"proxySecretVersionName": "str"}),
    "dependency": _Obj(
        "dependencies entry", {"empty": "bool", "gitSource": ("obj", "gitSourceDependency")}
    ),
    "gitSourceDependency": _Obj(
        "dependencies.gitSource",
        {
            "repository": ("obj", "gitSourceRepository"),
            "revision": "str",
            "recurseSubmodules": "bool",
            "depth": "int64",
            "destPath": "str",
            "fetchTags": "bool",
        },
        required=frozenset({"repository", "revision", "destPath"}),
    ),
    "gitSourceRepository": _Obj(
        "dependencies.gitSource.repository", {"url": "str", "developerConnect": "str"}
    ),
}


def _camel(key: str) -> str:
    """snake_case -> camelCase, as gcloud converts config keys."""
    head, *rest = key.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


# ---------------------------------------------------------------------------------------------
# YAML with positions
# ---------------------------------------------------------------------------------------------
@dataclass
class _Node:
    """A parsed YAML/JSON value with the line (1-based) it starts on."""

    value: Any  # dict[str, _Node] | list[_Node] | scalar
    line: int
    block_literal: bool = False  # `|` style scalar: content starts on the next line
    key_lines: dict[str, int] = field(default_factory=dict)


class _ParseError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _convert(
    node: yaml.Node,
    loader: yaml.SafeLoader,
    dupes: list[tuple[int, str]],
    stack: frozenset[int] = frozenset(),
) -> _Node:
    line = node.start_mark.line + 1
    if id(node) in stack:  # a recursive alias (&a [*a]): Cloud Build cannot use it either
        raise _ParseError(line, "invalid YAML: an alias refers to a node that contains it")
    stack = stack | {id(node)}
    if isinstance(node, yaml.MappingNode):
        out: dict[str, _Node] = {}
        key_lines: dict[str, int] = {}
        pairs = list(node.value)
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in pairs:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for src in sources:
                    if isinstance(src, yaml.MappingNode):
                        merged.extend(src.value)
            else:
                merged.append((key_node, value_node))
        explicit = {id(k) for k, _ in pairs}
        for key_node, value_node in merged:
            key = loader.construct_object(key_node, deep=True)
            key_str = key if isinstance(key, str) else str(key)
            if key_str in out and id(key_node) in explicit:
                dupes.append((key_node.start_mark.line + 1, key_str))
            out[key_str] = _convert(value_node, loader, dupes, stack)
            key_lines[key_str] = key_node.start_mark.line + 1
        return _Node(out, line, key_lines=key_lines)
    if isinstance(node, yaml.SequenceNode):
        return _Node([_convert(item, loader, dupes, stack) for item in node.value], line)
    value = loader.construct_object(node, deep=True)
    return _Node(value, line, block_literal=getattr(node, "style", None) == "|")


def _load(text: str, is_json: bool) -> tuple[_Node | None, list[tuple[int, str]]]:
    """Parse a config; raise _ParseError with a line number on syntax errors."""
    if is_json:
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise _ParseError(exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})") from exc
        # valid JSON holds raw tabs only as whitespace, which YAML rejects: same lines, no tabs
        text = text.replace("\t", " ")
    loader = yaml.SafeLoader(text)
    dupes: list[tuple[int, str]] = []
    try:
        root = loader.get_single_node()
        if root is None:
            return None, dupes
        return _convert(root, loader, dupes), dupes
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = exc.problem or str(exc)
        context = f" ({exc.context})" if exc.context else ""
        raise _ParseError(line, f"invalid YAML: {problem}{context}") from exc
    except yaml.YAMLError as exc:
        raise _ParseError(0, f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()


# ---------------------------------------------------------------------------------------------
# Checks of one file
# ---------------------------------------------------------------------------------------------
def _hint(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.75)
    if not close:
        # case-insensitive / snake_case typos: e.g. "WaitFor", "wait_for"
        lowered = {o.lower().replace("_", ""): o for o in options}
        match = lowered.get(word.lower().replace("_", ""))
        close = [match] if match else []
    return f"; did you mean '{close[0]}'?" if close else ""


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "empty (null)"
    if isinstance(value, str):
        return "a string"
    return f"a YAML {type(value).__name__}"


@dataclass
class _Context:
    rel: str
    findings: list[Finding] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.findings.append(Finding(self.rel, line, message))


def _check_value(ctx: _Context, node: _Node, spec: Spec, path: str) -> None:
    value = node.value
    if spec == "any":
        return
    if spec == "str":
        if not isinstance(value, str):
            ctx.add(node.line, f"{path} must be a string, not {_type_name(value)}; quote it")
        return
    if spec == "bool":
        if not isinstance(value, bool):
            ctx.add(node.line, f"{path} must be true or false, not {value!r}")
        return
    if spec == "int64":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None
        )
        if not ok:
            ctx.add(node.line, f"{path} must be an integer, not {value!r}")
        return
    if spec == "duration":
        if not (isinstance(value, str) and _DURATION.match(value)):
            ctx.add(
                node.line,
                f"{path} must be a duration in seconds with an 's' suffix, e.g. '600s' or "
                f"'1.5s', not {value!r}",
            )
        return
    kind = spec[0]
    if kind == "enum":
        allowed: frozenset[str] = spec[1]
        if isinstance(value, int) and not isinstance(value, bool):
            return  # the API also accepts enum numbers
        if not isinstance(value, str) or value not in allowed:
            shown = value if isinstance(value, str) else repr(value)
            ctx.add(
                node.line,
                f"{path} has unknown value '{shown}'{_hint(str(shown), allowed)} "
                f"Allowed: {', '.join(sorted(allowed))}",
            )
        return
    if kind == "list":
        if not isinstance(value, list):
            ctx.add(node.line, f"{path} must be a list, not {_type_name(value)}")
            return
        for i, item in enumerate(value):
            _check_value(ctx, item, spec[1], f"{path}[{i}]")
        return
    if kind == "strmap":
        if not isinstance(value, dict):
            ctx.add(
                node.line, f"{path} must be a mapping of names to strings, not {_type_name(value)}"
            )
            return
        for k, item in value.items():
            if not isinstance(item.value, str):
                ctx.add(
                    item.line,
                    f"{path}.{k} must be a string, not {_type_name(item.value)}; quote it",
                )
        return
    if kind == "obj":
        _check_object(ctx, node, _OBJECTS[spec[1]], path)
        return
    raise AssertionError(spec)  # pragma: no cover


def _check_object(ctx: _Context, node: _Node, obj: _Obj, path: str) -> None:
    if not isinstance(node.value, dict):
        ctx.add(node.line, f"{path} must be a mapping, not {_type_name(node.value)}")
        return
    where = f"{path}: " if path else ""
    present: set[str] = set()
    for key, child in node.value.items():
        line = node.key_lines.get(key, child.line)
        canonical = key if key in obj.fields or key in obj.output_only else _camel(key)
        child_path = f"{path}.{key}" if path else key
        if canonical in obj.output_only:
            ctx.add(
                line,
                f"{where}'{key}' is an output-only field of the Build resource; Cloud Build "
                "ignores it in a config file: remove it",
            )
            continue
        if canonical not in obj.fields:
            known = sorted(obj.fields)
            ctx.add(
                line,
                f"{where}unknown {obj.label} key '{key}'{_hint(key, known)} "
                f"Known {obj.label} keys: {', '.join(known)}",
            )
            continue
        present.add(canonical)
        _check_value(ctx, child, obj.fields[canonical], child_path)
    for req in sorted(obj.required - present):
        ctx.add(node.line, f"{where}{obj.label} is missing the required key '{req}'")


def _get(node: _Node | None, key: str) -> _Node | None:
    """Child by camelCase key, accepting its snake_case spelling too."""
    if node is None or not isinstance(node.value, dict):
        return None
    for k, child in node.value.items():
        if k == key or _camel(k) == key:
            return child
    return None


def _str_list(node: _Node | None) -> list[_Node]:
    if node is None or not isinstance(node.value, list):
        return []
    return [n for n in node.value if isinstance(n.value, str)]


@dataclass(frozen=True)
class _Ref:
    name: str
    offset: int
    text: str  # as written: $NAME, ${NAME}, ${NAME:0:7}


def _references(s: str) -> Iterator[_Ref]:
    """Cloud Build substitution references in s (``$$`` is an escaped ``$``)."""
    i = 0
    n = len(s)
    while i < n:
        if s[i] != "$":
            i += 1
            continue
        if i + 1 < n and s[i + 1] == "$":
            i += 2
            continue
        if i + 1 < n and s[i + 1] == "{":
            m = _NAME.match(s, i + 2)
            if m:
                end = m.end()
                if end < n and s[end] == "}":
                    yield _Ref(m.group(), i, s[i : end + 1])
                    i = end + 1
                    continue
                if end < n and s[end] in _DYNAMIC_OPS:
                    close = s.find("}", end)
                    text = s[i : close + 1] if close != -1 else s[i:end]
                    yield _Ref(m.group(), i, text)
                    i = close + 1 if close != -1 else end
                    continue
            i += 1
            continue
        m = _NAME.match(s, i + 1)
        if m:
            yield _Ref(m.group(), i, s[i : m.end()])
            i = m.end()
            continue
        i += 1


def _line_of(node: _Node, offset: int) -> int:
    if node.block_literal and isinstance(node.value, str):
        return node.line + 1 + node.value.count("\n", 0, offset)
    return node.line


def _walk_strings(node: _Node, path: str, skip: frozenset[str]) -> Iterator[tuple[_Node, str]]:
    """Every string scalar under node with its path; keys in `skip` are not descended."""
    if isinstance(node.value, str):
        yield node, path
    elif isinstance(node.value, dict):
        for k, child in node.value.items():
            if k in skip or _camel(k) in skip:
                continue
            yield from _walk_strings(child, f"{path}.{k}" if path else k, skip)
    elif isinstance(node.value, list):
        for i, child in enumerate(node.value):
            yield from _walk_strings(child, f"{path}[{i}]", skip)


def _env_names(root: _Node) -> set[str]:
    """Names of environment variables the build sets: env KEYs and secretEnv names."""
    names: set[str] = set()
    steps = _get(root, "steps")
    holders = [_get(root, "options")]
    if steps is not None and isinstance(steps.value, list):
        holders += steps.value
    for holder in holders:
        for env in _str_list(_get(holder, "env")):
            names.add(env.value.split("=", 1)[0])
        names.update(item.value for item in _str_list(_get(holder, "secretEnv")))
    return names


def _check_substitutions(
    ctx: _Context, root: _Node, declared_by_triggers: frozenset[str], dynamic: bool
) -> None:
    subs = _get(root, "substitutions")
    own: dict[str, _Node] = {}
    if subs is not None and isinstance(subs.value, dict):
        own = subs.value
        for key in own:
            if not _USER_SUBST_KEY.match(key) and key not in BUILTIN_SUBSTITUTIONS:
                ctx.add(
                    subs.key_lines.get(key, subs.line),
                    f"substitution key '{key}' is invalid: user substitutions start with '_' "
                    "and use only A-Z, 0-9 and '_' (e.g. '_"
                    + re.sub(r"[^A-Z0-9_]", "_", key.upper()).lstrip("_")
                    + "')",
                )
    declared = frozenset(own) | declared_by_triggers
    known = BUILTIN_SUBSTITUTIONS | declared

    dyn_option = _get(_get(root, "options"), "dynamicSubstitutions")
    dynamic = dynamic or (dyn_option is not None and dyn_option.value is True)
    shell_names = _env_names(root)
    skip = frozenset({"script", "substitutions"})
    targets = list(_walk_strings(root, "", skip))
    if dynamic and subs is not None:
        targets += list(_walk_strings(subs, "substitutions", frozenset()))

    for node, path in targets:
        for ref in _references(node.value):
            if ref.name in known:
                continue
            line = _line_of(node, ref.offset)
            if ref.name.startswith("_"):
                ctx.add(
                    line,
                    f"{path}: substitution '{ref.text}' uses {ref.name}, which is not declared"
                    f"{_hint(ref.name, known)} Declare {ref.name} under 'substitutions:' in "
                    "this file or in the 'substitutions' of the Terraform trigger that runs it; "
                    f"if it is a shell variable, write it '${ref.text}'",
                )
            elif ref.name in shell_names:
                ctx.add(
                    line,
                    f"{path}: '{ref.text}' is not a Cloud Build built-in substitution; "
                    f"{ref.name} is an environment variable this build sets (env or secretEnv), "
                    f"so write it '${ref.text}' to let the shell expand it",
                )
            else:
                close = _hint(ref.name, BUILTIN_SUBSTITUTIONS)
                ctx.add(
                    line,
                    f"{path}: '{ref.text}' is not a Cloud Build built-in substitution{close} "
                    f"If it is a shell variable, write it '${ref.text}' so Cloud Build passes "
                    "it to the shell unchanged",
                )


def _check_steps(ctx: _Context, root: _Node) -> None:
    steps = _get(root, "steps")
    if steps is None:
        return
    if not isinstance(steps.value, list):
        return  # reported by the schema check
    if not steps.value:
        ctx.add(steps.line, "steps is empty: a build needs at least one step")
        return
    # secret env names that the build defines
    defined_secrets: set[str] = set()
    avail = _get(root, "availableSecrets")
    sm_list = _get(avail, "secretManager")
    for sm in sm_list.value if sm_list is not None and isinstance(sm_list.value, list) else []:
        env = _get(sm, "env")
        if env is not None and isinstance(env.value, str):
            defined_secrets.add(env.value)
    inline_list = _get(avail, "inline")
    for inline in (
        inline_list.value if inline_list is not None and isinstance(inline_list.value, list) else []
    ):
        env_map = _get(inline, "envMap")
        if env_map is not None and isinstance(env_map.value, dict):
            defined_secrets.update(env_map.value)
    secrets = _get(root, "secrets")
    for secret in secrets.value if secrets is not None and isinstance(secrets.value, list) else []:
        secret_env = _get(secret, "secretEnv")
        if secret_env is not None and isinstance(secret_env.value, dict):
            defined_secrets.update(secret_env.value)

    def check_secret_env(node: _Node | None, where: str) -> None:
        for item in _str_list(node):
            if item.value not in defined_secrets:
                ctx.add(
                    item.line,
                    f"{where}: secretEnv '{item.value}' is not defined"
                    f"{_hint(item.value, defined_secrets)} Define it as the 'env' of an "
                    "'availableSecrets.secretManager' entry (versionName: "
                    "projects/$PROJECT_ID/secrets/NAME/versions/latest)",
                )

    check_secret_env(_get(_get(root, "options"), "secretEnv"), "options")

    all_ids: dict[str, int] = {}
    for step in steps.value:
        sid = _get(step, "id")
        if sid is not None and isinstance(sid.value, str):
            all_ids.setdefault(sid.value, 0)
            all_ids[sid.value] += 1

    seen_ids: set[str] = set()
    for i, step in enumerate(steps.value):
        if not isinstance(step.value, dict):
            continue
        where = f"steps[{i}]"
        name = _get(step, "name")
        if name is not None and isinstance(name.value, str) and not name.value.strip():
            ctx.add(name.line, f"{where}: name is empty: set the builder image to run")
        script = _get(step, "script")
        if script is not None:
            for other in ("args", "entrypoint"):
                if _get(step, other) is not None:
                    ctx.add(
                        step.line,
                        f"{where}: a step with 'script' cannot also set '{other}': move the "
                        f"command into the script or drop 'script'",
                    )
        for env in _str_list(_get(step, "env")):
            if "=" not in env.value:
                ctx.add(env.line, f"{where}: env entry '{env.value}' must have the form KEY=VALUE")
        check_secret_env(_get(step, "secretEnv"), where)
        sid = _get(step, "id")
        if sid is not None and isinstance(sid.value, str):
            if sid.value == "-":
                ctx.add(sid.line, f"{where}: id '-' is reserved (waitFor: ['-'] means 'start')")
            elif sid.value in seen_ids:
                ctx.add(
                    sid.line,
                    f"{where}: id '{sid.value}' is used by an earlier step; ids must be unique",
                )
        for dep in _str_list(_get(step, "waitFor")):
            if dep.value != "-" and dep.value not in all_ids:
                ctx.add(
                    dep.line,
                    f"{where}: waitFor '{dep.value}' names no step id"
                    f"{_hint(dep.value, all_ids)} Use the 'id' of an earlier step, or '-' to "
                    "start at the beginning of the build",
                )
        if sid is not None and isinstance(sid.value, str):
            seen_ids.add(sid.value)
    for env in _str_list(_get(_get(root, "options"), "env")):
        if "=" not in env.value:
            ctx.add(env.line, f"options: env entry '{env.value}' must have the form KEY=VALUE")


def _check_logging(ctx: _Context, root: _Node, trigger_sa: str | None) -> None:
    sa = _get(root, "serviceAccount")
    file_sa = sa is not None and isinstance(sa.value, str) and sa.value.strip() != ""
    if not file_sa and trigger_sa is None:
        return
    options = _get(root, "options")
    logging = _get(options, "logging")
    behavior = _get(options, "defaultLogsBucketBehavior")
    logs_bucket = _get(root, "logsBucket")
    if logging is not None and logging.value in _LOGS_OK:
        return
    if behavior is not None and behavior.value == "REGIONAL_USER_OWNED_BUCKET":
        return
    if logs_bucket is not None and isinstance(logs_bucket.value, str) and logs_bucket.value:
        return
    why = "'serviceAccount' in this file" if file_sa else f"'service_account' on {trigger_sa}"
    line = logging.line if logging is not None else (sa.line if file_sa and sa else 1)
    ctx.add(
        line,
        f"this build runs as a user-managed service account ({why}), so Cloud Build refuses to "
        "start it unless its logs have a destination: set 'options: {logging: "
        "CLOUD_LOGGING_ONLY}' (or NONE), or 'logsBucket: gs://BUCKET', or "
        "'options: {defaultLogsBucketBehavior: REGIONAL_USER_OWNED_BUCKET}'",
    )


def _check_build(
    path: pathlib.Path,
    rel: str,
    declared: frozenset[str],
    trigger_sa: str | None,
    triggered: bool,
) -> list[Finding]:
    ctx = _Context(rel)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Finding(rel, 0, f"cannot read the build config: {exc}")]
    try:
        root, dupes = _load(text, path.suffix == ".json")
    except _ParseError as exc:
        return [Finding(rel, exc.line, f"{exc.message}: fix the syntax")]
    for line, key in dupes:
        ctx.add(
            line,
            f"key '{key}' appears twice in the same mapping; only the last one counts: remove one",
        )
    if root is None or not isinstance(root.value, dict):
        ctx.add(
            root.line if root else 1,
            "a build config must be a mapping with at least 'steps:' (a list of steps)",
        )
        return ctx.findings
    _check_object(ctx, root, _OBJECTS["build"], "")
    if _get(root, "source") is not None:
        ctx.add(
            root.key_lines.get("source", 0),
            "a build config file cannot specify 'source': the trigger or 'gcloud builds submit' "
            "provides it; remove the key",
        )
    _check_steps(ctx, root)
    _check_substitutions(ctx, root, declared, triggered)
    _check_logging(ctx, root, trigger_sa)
    return sorted(ctx.findings, key=lambda f: (f.line, f.message))


def check_build_file(
    path: pathlib.Path,
    declared: frozenset[str] = frozenset(),
    repo: pathlib.Path | None = None,
) -> list[Finding]:
    """Check one build config. `declared`: extra `_VAR` names declared by its triggers.

    `repo`, when given, makes Finding.file relative to it.
    """
    return _check_build(path, _rel(path, repo), declared, None, False)


def _rel(path: pathlib.Path, repo: pathlib.Path | None) -> str:
    if repo is not None:
        try:
            return path.resolve().relative_to(repo.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


# ---------------------------------------------------------------------------------------------
# Terraform triggers
# ---------------------------------------------------------------------------------------------
@dataclass
class _TriggerSource:
    tf_file: str
    line: int
    label: str  # e.g. 'google_cloudbuild_trigger.apply' or 'module "cicd" argument'
    filename: str  # as written (literal text, or template with ${...})
    filename_literal: bool
    subst_keys: frozenset[str]
    subst_literal: bool
    service_account: bool


@dataclass
class _Triggers:
    sources: list[_TriggerSource] = field(default_factory=list)
    pool: set[str] = field(default_factory=set)
    unparsed: list[str] = field(default_factory=list)  # .tf files python-hcl2 cannot read


def _unquote(s: str) -> str:
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return s[1:-1]
    return s


def _unwrap(value: Any) -> Any:
    """Older python-hcl2 releases (and the bc-python-hcl2 fork) wrap attribute values in lists."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def _hcl_string(value: Any) -> tuple[str, bool] | None:
    """(text, is_literal) of an HCL string/expression as python-hcl2 renders it."""
    value = _unwrap(value)
    if not isinstance(value, str):
        return None
    text = _unquote(value)
    literal = "${" not in text.replace("$${", "")
    return text, literal


def _hcl_map_keys(value: Any) -> tuple[frozenset[str], bool]:
    """Keys of a literal HCL map, or the `_KEY =` keys found in an expression (not literal)."""
    value = _unwrap(value)
    if isinstance(value, dict):
        keys = frozenset(_unquote(k) for k in value if not k.startswith("__"))
        literal = all(not k.startswith("(") and "${" not in k for k in keys)
        return frozenset(k for k in keys if "${" not in k), literal
    if isinstance(value, str):
        found = re.findall(r"[\"']?(_[A-Z0-9_]+)[\"']?\s*[=:]", value)
        return frozenset(found), False
    return frozenset(), False


def _meta_line(obj: dict[str, Any]) -> int:
    line = obj.get("__start_line__", 0)
    return line if isinstance(line, int) else 0


def _source_from(obj: dict[str, Any], tf_file: str, label: str) -> _TriggerSource | None:
    fname_raw = obj.get("filename")
    if fname_raw is None:
        gfs = _unwrap(obj.get("git_file_source"))
        if isinstance(gfs, dict):
            fname_raw = gfs.get("path")
    parsed = _hcl_string(fname_raw)
    if parsed is None:
        return None
    fname, literal = parsed
    keys, subst_literal = _hcl_map_keys(obj.get("substitutions", {}))
    sa = _unwrap(obj.get("service_account"))
    has_sa = sa is not None and _unquote(str(sa)) not in ("", "null", "${null}")
    return _TriggerSource(
        tf_file, _meta_line(obj), label, fname, literal, keys, subst_literal, has_sa
    )


def _scan_objects(value: Any, tf_file: str, label: str, out: _Triggers) -> None:
    """Find trigger specs: objects with `filename` and `substitutions` keys, at any depth."""
    if isinstance(value, dict):
        if "filename" in value and "substitutions" in value:
            src = _source_from(value, tf_file, label)
            if src is not None:
                out.sources.append(src)
        for k, child in value.items():
            if not k.startswith("__"):
                _scan_objects(child, tf_file, label, out)
    elif isinstance(value, list):
        for child in value:
            _scan_objects(child, tf_file, label, out)


def _load_hcl(path: pathlib.Path) -> dict[str, Any]:
    import hcl2

    text = path.read_text(encoding="utf-8")
    options_cls = getattr(hcl2, "SerializationOptions", None)
    if options_cls is not None:  # python-hcl2 >= 7: ask for line numbers
        loads: Any = hcl2.loads
        return dict(loads(text, serialization_options=options_cls(with_meta=True)))
    return dict(hcl2.loads(text))


def _collect_triggers(repo: pathlib.Path) -> _Triggers:
    out = _Triggers()
    files = sorted(
        p
        for pattern in ("*.tf", "*.tfvars")
        for p in repo.rglob(pattern)
        if ".terraform" not in p.relative_to(repo).parts and p.is_file()
    )
    for tf in files:
        rel = tf.relative_to(repo).as_posix()
        # every trigger source names a trigger resource or a `substitutions` key: skip parsing
        # the other files (python-hcl2 is slow, and a render has a hundred module files)
        text = tf.read_text(encoding="utf-8", errors="replace")
        if "google_cloudbuild_trigger" not in text and "substitutions" not in text:
            continue
        try:
            doc = _load_hcl(tf)
        except Exception:  # python-hcl2 raises lark errors of many kinds
            # Terraform itself reports real syntax errors (validate runs it); python-hcl2 may
            # also lag behind the language. Do not guess: every config may be run from here,
            # with any `_KEY =` written in the file.
            out.unparsed.append(rel)
            out.pool.update(re.findall(r"[\"']?(_[A-Z0-9_]+)[\"']?\s*[=:]", text))
            continue
        for block in doc.get("resource", []) or []:
            if not isinstance(block, dict):
                continue
            for rtype, by_name in block.items():
                if _unquote(rtype) != "google_cloudbuild_trigger" or not isinstance(by_name, dict):
                    continue
                for name, body in by_name.items():
                    if not isinstance(body, dict):
                        continue
                    label = f"google_cloudbuild_trigger.{_unquote(name)} ({rel})"
                    src = _source_from(body, rel, label)
                    if src is not None:
                        out.sources.append(src)
        for block in doc.get("locals", []) or []:
            if not isinstance(block, dict):
                continue
            for name, value in block.items():
                if "substitutions" in _unquote(name).lower():
                    keys, _ = _hcl_map_keys(value)
                    out.pool.update(k for k in keys if k.startswith("_"))
            _scan_objects(block, rel, f"a trigger spec in locals ({rel})", out)
        for block in doc.get("module", []) or []:
            _scan_objects(block, rel, f"a trigger spec in a module call ({rel})", out)
        for block in doc.get("variable", []) or []:
            _scan_objects(block, rel, f"a trigger spec in a variable default ({rel})", out)
        if tf.suffix == ".tfvars":
            _scan_objects(doc, rel, f"a trigger spec in {rel}", out)
    texts: dict[str, str] = {}
    for src in out.sources:
        out.pool.update(k for k in src.subst_keys if k.startswith("_"))
        if src.line == 0 and src.filename_literal:  # no line metadata: find the literal
            text = texts.setdefault(src.tf_file, (repo / src.tf_file).read_text(encoding="utf-8"))
            at = text.find(f'"{src.filename}"')
            src.line = text.count("\n", 0, at) + 1 if at != -1 else 0
    return out


def _norm(fname: str) -> str:
    while fname.startswith("./"):
        fname = fname[2:]
    return fname


def _pattern(fname: str) -> tuple[re.Pattern[str], bool]:
    """Regex for a templated file name, and whether it has any literal part."""
    parts = re.split(r"\$\{[^}]*\}", _norm(fname))
    has_literal = any(p for p in parts)
    return re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$"), has_literal


def check_repo(repo: pathlib.Path) -> list[Finding]:
    """Check every cloudbuild/*.yaml|yml|json in `repo` against the triggers in its Terraform."""
    repo = pathlib.Path(repo)
    configs = sorted(
        p for p in (repo / "cloudbuild").glob("*") if p.is_file() and p.suffix in _CONFIG_SUFFIXES
    )
    triggers = _collect_triggers(repo)
    findings: list[Finding] = []

    for src in triggers.sources:
        for key in sorted(src.subst_keys):
            if not _USER_SUBST_KEY.match(key) and key not in BUILTIN_SUBSTITUTIONS:
                findings.append(
                    Finding(
                        src.tf_file,
                        src.line,
                        f"{src.label}: substitution key '{key}' is invalid: user substitutions "
                        "start with '_' and use only A-Z, 0-9 and '_'",
                    )
                )
        if src.filename_literal:
            target = _norm(src.filename)
            if not (repo / target).is_file():
                findings.append(
                    Finding(
                        src.tf_file,
                        src.line,
                        f"{src.label} runs '{src.filename}', which does not exist in the repo: "
                        "fix the path or add the build config",
                    )
                )

    for cfg in configs:
        rel = cfg.relative_to(repo).as_posix()
        declared: set[str] = set()
        use_pool = bool(triggers.unparsed)
        sa_from: str | None = None
        triggered = False
        for src in triggers.sources:
            if src.filename_literal:
                if _norm(src.filename) != rel:
                    continue
                strong = True
            else:
                rx, strong = _pattern(src.filename)
                if not rx.match(rel):
                    continue
                use_pool = True
            triggered = True
            declared |= src.subst_keys
            if not src.subst_literal:
                use_pool = True
            if src.service_account and strong and sa_from is None:
                sa_from = src.label
        if use_pool:
            declared |= triggers.pool
        findings.extend(_check_build(cfg, rel, frozenset(declared), sa_from, triggered))
    return findings
