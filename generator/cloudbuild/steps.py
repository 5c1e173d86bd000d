"""Build steps: the rules the schema cannot express.

``name`` not empty; ``script`` not combined with ``args``/``entrypoint`` (documented); unique
``id`` (not ``-``); every ``waitFor`` names a step id or ``-``; ``env`` entries are
``KEY=VALUE``; every ``secretEnv`` (step or options) is defined by ``availableSecrets``
(``secretManager[].env`` or ``inline[].envMap``) or ``secrets[].secretEnv``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from generator.cloudbuild.config import Node, get, items, string, strings
from generator.cloudbuild.findings import Sink, hint


def defined_secrets(root: Node) -> set[str]:
    """The secret environment variable names the build defines."""
    names: set[str] = set()
    available = get(root, "availableSecrets")
    for entry in items(get(available, "secretManager")):
        env = string(get(entry, "env"))
        if env is not None:
            names.add(env)
    maps = [get(entry, "envMap") for entry in items(get(available, "inline"))]
    maps += [get(entry, "secretEnv") for entry in items(get(root, "secrets"))]
    for env_map in maps:
        if env_map is not None and isinstance(env_map.value, dict):
            names.update(env_map.value)
    return names


def step_ids(steps: list[Node]) -> Counter[str]:
    return Counter(sid for step in steps if (sid := string(get(step, "id"))) is not None)


@dataclass
class StepChecker:
    sink: Sink
    secrets: set[str]
    ids: Counter[str]

    def env(self, holder: Node | None, where: str) -> None:
        for env in strings(get(holder, "env")):
            if "=" not in env.value:
                self.sink.error(
                    env.line, f"{where}: env entry '{env.value}' must have the form KEY=VALUE"
                )

    def secret_env(self, holder: Node | None, where: str) -> None:
        for item in strings(get(holder, "secretEnv")):
            if item.value not in self.secrets:
                self.sink.error(
                    item.line,
                    f"{where}: secretEnv '{item.value}' is not defined"
                    f"{hint(item.value, self.secrets)} Define it as the 'env' of an "
                    "'availableSecrets.secretManager' entry (versionName: "
                    "projects/$PROJECT_ID/secrets/NAME/versions/latest)",
                )

    def step(self, step: Node, where: str, seen: set[str]) -> None:
        name = get(step, "name")
        if name is not None and isinstance(name.value, str) and not name.value.strip():
            self.sink.error(name.line, f"{where}: name is empty: set the builder image to run")
        if get(step, "script") is not None:
            for other in ("args", "entrypoint"):
                if get(step, other) is not None:
                    self.sink.error(
                        step.line,
                        f"{where}: a step with 'script' cannot also set '{other}': move the "
                        "command into the script or drop 'script'",
                    )
        self.env(step, where)
        self.secret_env(step, where)
        self.step_id(get(step, "id"), where, seen)
        self.wait_for(step, where)

    def step_id(self, sid: Node | None, where: str, seen: set[str]) -> None:
        if sid is None or not isinstance(sid.value, str):
            return
        if sid.value == "-":
            self.sink.error(sid.line, f"{where}: id '-' is reserved (waitFor: ['-'] means 'start')")
        elif sid.value in seen:
            self.sink.error(
                sid.line,
                f"{where}: id '{sid.value}' is used by an earlier step; ids must be unique",
            )
        seen.add(sid.value)

    def wait_for(self, step: Node, where: str) -> None:
        for dep in strings(get(step, "waitFor")):
            if dep.value != "-" and dep.value not in self.ids:
                self.sink.error(
                    dep.line,
                    f"{where}: waitFor '{dep.value}' names no step id"
                    f"{hint(dep.value, self.ids)} Use the 'id' of an earlier step, or '-' to "
                    "start at the beginning of the build",
                )


def check_steps(sink: Sink, root: Node) -> None:
    steps = get(root, "steps")
    if steps is None or not isinstance(steps.value, list):
        return  # reported by the structure check
    if not steps.value:
        sink.error(steps.line, "steps is empty: a build needs at least one step")
        return
    checker = StepChecker(sink, defined_secrets(root), step_ids(steps.value))
    options = get(root, "options")
    checker.secret_env(options, "options")
    seen: set[str] = set()
    for i, step in enumerate(steps.value):
        if isinstance(step.value, dict):
            checker.step(step, f"steps[{i}]", seen)
    checker.env(options, "options")
