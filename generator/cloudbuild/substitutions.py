"""Substitutions (https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values).

Cloud Build treats ``$NAME`` and ``${NAME}`` as a substitution when ``NAME`` matches
``[A-Z_][A-Z0-9_]*`` (so ``$home`` and ``$1`` are left alone); ``$$`` is an escaped ``$``.
Every reference must be a built-in (``BUILTIN_SUBSTITUTIONS``) or a user substitution ``_NAME``
declared by the file's ``substitutions`` or by every trigger that runs the file. With dynamic
substitutions (``options.dynamicSubstitutions``, always on for triggered builds) bash-style
forms such as ``${_TAG:0:7}`` or ``${_X:-default}`` also reference ``_TAG``/``_X``; they are
treated as references in every build, so a shell expansion like ``${HOME:-x}`` must be written
``$${HOME:-x}`` (which is correct in both modes).

Checked: every string of the config except ``script`` fields (Cloud Build does not substitute
scripts; with ``automapSubstitutions`` the script sees substitutions as environment variables
instead) and except ``substitutions`` values, which are checked only when dynamic substitutions
are on (the option is set, or a trigger runs the file).

A substitution a trigger binds from its event's payload (``$(body...)``: a pull request's branch
name, an alert policy's name) must not be pasted into a shell step's ``args``: Cloud Build
substitutes before the shell parses, so the sender's text would run as code, whatever the
quotes. Such a value goes through the step's ``env`` and is read as a shell variable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from generator.cloudbuild.config import Node, get, items, string, strings
from generator.cloudbuild.context import BuildContext, named
from generator.cloudbuild.findings import Sink, hint
from generator.cloudbuild.schema import camel

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

USER_KEY = re.compile(r"^_[A-Z0-9_]+$")
# At a '$': an escaped '$', ${NAME}, ${NAME<bash operator>...} (dynamic; unclosed: ${NAME), $NAME
_TOKEN = re.compile(
    r"\$\$"
    r"|\$\{(?P<braced>[A-Z_][A-Z0-9_]*)\}"
    r"|\$\{(?P<dynamic>[A-Z_][A-Z0-9_]*)(?=[:#%/^,\-+=?@])(?:[^}]*\})?"
    r"|\$(?P<plain>[A-Z_][A-Z0-9_]*)"
)
_NOT_SUBSTITUTED = frozenset({"script", "substitutions"})
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})


@dataclass(frozen=True)
class Ref:
    name: str
    offset: int
    text: str  # as written: $NAME, ${NAME}, ${NAME:0:7}


def references(s: str) -> Iterator[Ref]:
    """Cloud Build substitution references in s (``$$`` is an escaped ``$``)."""
    for m in _TOKEN.finditer(s):
        name = m.group("braced") or m.group("dynamic") or m.group("plain")
        if name:
            yield Ref(name, m.start(), m.group())


def key_problem(key: str) -> str | None:
    """Why `key` cannot name a substitution, or None when it can."""
    if USER_KEY.match(key) or key in BUILTIN_SUBSTITUTIONS:
        return None
    example = "_" + re.sub(r"[^A-Z0-9_]", "_", key.upper()).lstrip("_")
    return (
        f"substitution key '{key}' is invalid: user substitutions start with '_' and use only "
        f"A-Z, 0-9 and '_' (e.g. '{example}')"
    )


def _line_of(node: Node, offset: int) -> int:
    if node.block_literal and isinstance(node.value, str):
        return node.line + 1 + node.value.count("\n", 0, offset)
    return node.line


def _walk_strings(node: Node, path: str, skip: frozenset[str]) -> Iterator[tuple[Node, str]]:
    """Every string scalar under node with its path; keys in `skip` are not descended."""
    if isinstance(node.value, str):
        yield node, path
    elif isinstance(node.value, dict):
        for k, child in node.value.items():
            if k not in skip and camel(k) not in skip:
                yield from _walk_strings(child, f"{path}.{k}" if path else k, skip)
    elif isinstance(node.value, list):
        for i, child in enumerate(node.value):
            yield from _walk_strings(child, f"{path}[{i}]", skip)


def _env_names(root: Node) -> set[str]:
    """Names of environment variables the build sets: env KEYs and secretEnv names."""
    names: set[str] = set()
    for holder in [get(root, "options"), *items(get(root, "steps"))]:
        names.update(env.value.split("=", 1)[0] for env in strings(get(holder, "env")))
        names.update(item.value for item in strings(get(holder, "secretEnv")))
    return names


def shell_args(root: Node) -> frozenset[str]:
    """Paths (``steps[i].args``) of the steps whose entrypoint is a shell."""
    out = set()
    for i, step in enumerate(items(get(root, "steps"))):
        entrypoint = string(get(step, "entrypoint")) or ""
        if entrypoint.rsplit("/", 1)[-1] in SHELLS:
            out.add(f"steps[{i}].args")
    return frozenset(out)


def injection(ref: Ref, path: str, binders: list[str]) -> str:
    var = ref.name.lstrip("_") or "VALUE"
    return (
        f"{path}: '{ref.text}' pastes {ref.name}, which {named(binders)} "
        f"{'binds' if len(binders) == 1 else 'bind'} from the event's payload, into a shell "
        "script: Cloud Build substitutes it before the shell parses, so the sender's text runs "
        f"as code, whatever the quotes. Pass it in the step's env ('{var}=${{{ref.name}}}') and "
        f"read \"$${var}\" in the script"
    )


@dataclass
class SubstitutionChecker:
    sink: Sink
    root: Node
    ctx: BuildContext
    own: frozenset[str] = frozenset()

    def check(self) -> None:
        subs = get(self.root, "substitutions")
        if subs is not None and isinstance(subs.value, dict):
            self.own = frozenset(subs.value)
            for key in subs.value:
                problem = key_problem(key)
                if problem:
                    self.sink.error(subs.key_lines.get(key, subs.line), problem)
        shell_names = _env_names(self.root)
        shells = shell_args(self.root)
        for node, path in self.targets(subs):
            in_shell = path.rsplit("[", 1)[0] in shells
            for ref in references(node.value):
                message = self.problem(ref, path, shell_names)
                binders = self.ctx.payload_binders(ref.name) if in_shell else []
                if not message and binders:
                    message = injection(ref, path, binders)
                if message:
                    self.sink.error(_line_of(node, ref.offset), message)

    def targets(self, subs: Node | None) -> list[tuple[Node, str]]:
        out = list(_walk_strings(self.root, "", _NOT_SUBSTITUTED))
        option = get(get(self.root, "options"), "dynamicSubstitutions")
        dynamic = self.ctx.triggered or (option is not None and option.value is True)
        if dynamic and subs is not None:
            out += _walk_strings(subs, "substitutions", frozenset())
        return out

    def problem(self, ref: Ref, path: str, shell_names: set[str]) -> str | None:
        name = ref.name
        if name in BUILTIN_SUBSTITUTIONS or name in self.own:
            return None
        if name.startswith("_"):
            return None if self.ctx.declares(name) else self.undeclared(ref, path)
        if name in shell_names:
            return (
                f"{path}: '{ref.text}' is not a Cloud Build built-in substitution; {name} is an "
                "environment variable this build sets (env or secretEnv), so write it "
                f"'${ref.text}' to let the shell expand it"
            )
        return (
            f"{path}: '{ref.text}' is not a Cloud Build built-in substitution"
            f"{hint(name, BUILTIN_SUBSTITUTIONS)} If it is a shell variable, write it "
            f"'${ref.text}' so Cloud Build passes it to the shell unchanged"
        )

    def undeclared(self, ref: Ref, path: str) -> str:
        name = ref.name
        lacking = self.ctx.lacking(name)
        shell = f"if it is a shell variable, write it '${ref.text}'"
        if self.ctx.triggered and len(lacking) < len(self.ctx.runners):
            return (
                f"{path}: substitution '{ref.text}' uses {name}, which {named(lacking)} "
                f"{'does' if len(lacking) == 1 else 'do'} not declare (other triggers that run "
                f"this file do): add {name} to their 'substitutions', or give it a default "
                f"under 'substitutions:' in this file; {shell}"
            )
        known = BUILTIN_SUBSTITUTIONS | self.own | self.ctx.offered()
        base = f"{path}: substitution '{ref.text}' uses {name}, which is not declared"
        if not self.ctx.triggered:
            return (
                f"{base}{hint(name, known)} Declare {name} under 'substitutions:' in this file "
                f"or in the 'substitutions' of the Terraform trigger that runs it; {shell}"
            )
        return (
            f"{base} by this file or by the triggers that run it ({named(lacking)})"
            f"{hint(name, known)} Declare {name} under 'substitutions:' in this file or in "
            f"those triggers' 'substitutions'; {shell}"
        )


def check_substitutions(sink: Sink, root: Node, ctx: BuildContext) -> None:
    """Report invalid substitution keys and references no run of the build declares."""
    SubstitutionChecker(sink, root, ctx).check()
