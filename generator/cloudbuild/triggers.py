"""The Cloud Build triggers of a Terraform root, read from its plan.

A plan here is the JSON of ``terraform show -json`` on a saved plan. Every managed
``google_cloudbuild_trigger`` in ``resource_changes[]`` that still exists after the change is a
trigger; from ``change.after`` (and ``change.after_unknown`` for values known only after
apply) it takes:

- the build config it runs: ``filename``, or ``git_file_source[0].path`` (a leading ``./``
  ignored); triggers with an inline ``build`` or neither are not file-based and skipped;
- the keys of its ``substitutions`` (a key whose value is unknown still counts; when the keys
  themselves are unknown the map as a whole is unknown);
- its ``service_account`` (unknown counts as set: it is an expression that yields one);
- which substitutions it binds from the event's payload (a value with a ``$(...)`` binding,
  e.g. ``$(body.message.data.incident.policy_name)``): text whoever sends the event chooses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from generator.cloudbuild.context import Runner
from generator.cloudbuild.findings import Finding, Severity
from generator.cloudbuild.substitutions import key_problem

TRIGGER_TYPE = "google_cloudbuild_trigger"
KNOWN_AFTER_APPLY = "(known after apply)"


@dataclass(frozen=True)
class Trigger:
    root: str  # the Terraform root whose plan has it, relative to the repo
    address: str  # its resource address in that root
    filename: str | None  # the build config it runs; None when known only after apply
    substitutions: frozenset[str] | None  # its substitution keys; None: known only after apply
    service_account: str  # '' when unset, KNOWN_AFTER_APPLY when unknown
    payload: frozenset[str] = frozenset()  # keys bound from the event's payload: $(...)

    @property
    def label(self) -> str:
        return f"{self.address} ({self.root})"

    def runner(self) -> Runner:
        return Runner(self.label, self.substitutions, bool(self.service_account), self.payload)


def _first(value: Any) -> Mapping[str, Any]:
    """The single nested block of a list-of-one block value ({} for none)."""
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return value[0]
    return {}


def normalize(filename: str) -> str:
    while filename.startswith("./"):
        filename = filename[2:]
    return filename


def build_config(after: Mapping[str, Any], unknown: Mapping[str, Any]) -> tuple[str | None, bool]:
    """(file name, is it known) of the build config a trigger runs; (None, True) when the
    trigger runs no file."""
    filename = after.get("filename")
    if isinstance(filename, str) and filename:
        return normalize(filename), True
    path = _first(after.get("git_file_source")).get("path")
    if isinstance(path, str) and path:
        return normalize(path), True
    unknown_source = unknown.get("git_file_source")
    pending = (
        unknown.get("filename") is True
        or unknown_source is True
        or _first(unknown_source).get("path") is True
    )
    return None, not pending


def substitution_keys(
    after: Mapping[str, Any], unknown: Mapping[str, Any]
) -> frozenset[str] | None:
    pending = unknown.get("substitutions")
    if pending is True:
        return None
    keys = set(after.get("substitutions") or {})
    if isinstance(pending, Mapping):
        keys |= set(pending)  # keys whose values are known only after apply
    return frozenset(keys)


def payload_keys(after: Mapping[str, Any]) -> frozenset[str]:
    """Substitution keys whose value binds part of the triggering event's payload."""
    subs = after.get("substitutions") or {}
    return frozenset(k for k, v in subs.items() if isinstance(v, str) and "$(" in v)


def service_account(after: Mapping[str, Any], unknown: Mapping[str, Any]) -> str:
    if unknown.get("service_account") is True:
        return KNOWN_AFTER_APPLY
    value = after.get("service_account")
    return value.strip() if isinstance(value, str) else ""


def _changes(plan: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """(address, after, after_unknown) of every trigger the plan keeps or creates."""
    for rc in plan.get("resource_changes") or []:
        if rc.get("type") != TRIGGER_TYPE or rc.get("mode", "managed") != "managed":
            continue
        change = rc.get("change") or {}
        after = change.get("after")
        if isinstance(after, Mapping):  # None: the trigger is deleted
            yield str(rc.get("address", "")), after, change.get("after_unknown") or {}


def triggers_in_plan(root: str, plan: Mapping[str, Any]) -> list[Trigger]:
    """The file-based Cloud Build triggers in one root's plan (see the module docstring)."""
    out = []
    for address, after, unknown in _changes(plan):
        filename, known = build_config(after, unknown)
        if filename is None and known:
            continue  # inline build or autodetect: no build config file to check
        out.append(
            Trigger(
                root=root,
                address=address,
                filename=filename,
                substitutions=substitution_keys(after, unknown),
                service_account=service_account(after, unknown),
                payload=payload_keys(after),
            )
        )
    return out


def triggers_in_plans(plans: Mapping[str, Mapping[str, Any]]) -> list[Trigger]:
    """Every root's triggers, roots in name order."""
    return [t for root in sorted(plans) for t in triggers_in_plan(root, plans[root])]


def inside(repo: Path, filename: str) -> bool:
    path = PurePosixPath(filename)
    return not path.is_absolute() and ".." not in path.parts


def trigger_findings(trigger: Trigger, repo: Path) -> list[Finding]:
    """Problems of the trigger itself: its substitution keys, and the file it runs."""
    out = []

    def report(message: str, severity: Severity = "error") -> None:
        message = f"{trigger.address}: {message}"
        out.append(Finding(trigger.root, 0, message, severity, trigger.address))

    for key in sorted(trigger.substitutions or ()):
        problem = key_problem(key)
        if problem:
            report(problem)
    if trigger.substitutions is None:
        report(
            "the keys of its 'substitutions' are known only after apply, so the build config "
            "it runs is checked as if the trigger declared every user substitution the file "
            "uses: build the map's keys from values known at plan time",
            "warning",
        )
    if trigger.filename is None:
        report(
            "the build config it runs (filename / git_file_source.path) is known only after "
            "apply, so no file is checked against this trigger's substitutions and service "
            "account: set it from values known at plan time",
            "warning",
        )
    elif not inside(repo, trigger.filename):
        report(f"runs '{trigger.filename}', which is not a path inside the repository")
    elif not (repo / trigger.filename).is_file():
        report(
            f"runs '{trigger.filename}', which does not exist in the repo: fix the path or add "
            "the build config"
        )
    return out
