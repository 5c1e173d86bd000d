"""What a template update would replace or destroy, found before anything is committed.

`plan_diff(before, after)` rehearses the repo as it was (every root: offline init, plan and
apply into a rehearsal state kept in a temporary directory), then plans the updated repo
against that same state, offline. The stand-in providers plan replacements as the real ones
do (generator/offline/behaviour.py), so the second plan's deletes and replaces are what the
update would do to real infrastructure; each is checked by the policy gate
(generator/plan_policy.py), so the protected ones (projects, buckets, datasets, keys, the
state bucket) are flagged. A root that cannot be planned after the update is a failure; a
resource whose `prevent_destroy` stops the plan is reported as a protected destruction.

Both plans use the one offline workspace (generator/workspace.py) and the one runner
(generator/tfrunner.py). It costs about two offline plans and one apply per root.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from generator import plan_policy, plan_summary
from generator.client_repo import ClientRepo
from generator.errors import MlopsgenError, TerraformError, TerraformNotFound
from generator.tfrunner import Diagnostic, Terraform
from generator.workspace import offline_workspace, root_modules

ROOT_TIMEOUT_S = 600.0
JOBS = 2  # roots planned at a time (terraform core is the cost, as in validate)
_T = TypeVar("_T")
_PREVENT_DESTROY = re.compile(r"Resource (\S+) has lifecycle\.prevent_destroy set")


@dataclass(frozen=True)
class Destruction:
    """One resource the updated repo would delete or replace."""

    root: str  # repo-relative root directory
    address: str
    type: str
    action: str  # replace | delete
    reason: str | None = None  # terraform's action_reason
    protected: str | None = None  # why a person must decide, None for an ordinary change
    forced_by: tuple[str, ...] = ()  # the attributes whose change forces a replacement

    def line(self) -> str:
        forced = f"forced by {', '.join(self.forced_by)}" if self.forced_by else ""
        details = [d for d in (self.reason, forced) if d]
        why = f" ({'; '.join(details)})" if details else ""
        mark = f"  !! PROTECTED: {self.protected}" if self.protected else ""
        return f"{self.action.upper():<7} {self.address} [{self.root}]{why}{mark}"


@dataclass
class PlanDiff:
    """The replacement check's outcome."""

    status: str  # ok | failed | skipped
    detail: str = ""
    destructions: list[Destruction] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def protected(self) -> list[Destruction]:
        return [d for d in self.destructions if d.protected]

    @property
    def needs_attention(self) -> bool:
        return self.status == "failed" or bool(self.protected)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "detail": self.detail,
            "destructions": [{**asdict(d), "forced_by": list(d.forced_by)}
                             for d in self.destructions],
            "protected": len(self.protected),
            "notes": list(self.notes),
            "errors": list(self.errors),
        }

    def lines(self) -> list[str]:
        """The text report (indented by the caller)."""
        if self.status == "skipped":
            return [f"replacements: not checked ({self.detail})"]
        head = "replacements: " + (
            "none" if not self.destructions else
            f"{len(self.destructions)} resource(s) would be replaced or deleted"
            + (f", {len(self.protected)} PROTECTED" if self.protected else "")
        )
        out = [head, *(f"  {d.line()}" for d in self.destructions)]
        if self.protected:
            out.append("  !! Applying this update destroys protected resources and their data; "
                       "review before committing (the plan gate will refuse them without "
                       "--allow-destroy).")
        out += [f"  error: {e}" for e in self.errors]
        out += [f"  note: {n}" for n in self.notes]
        return out


def skipped(detail: str) -> PlanDiff:
    return PlanDiff("skipped", detail)


def plan_diff(before: Path, after: Path, *, timeout_s: float = ROOT_TIMEOUT_S) -> PlanDiff:
    """Plan AFTER offline against the rehearsed state of BEFORE (see the module docstring)."""
    before_roots = _roots(before)
    after_roots = _roots(after)
    result = PlanDiff("ok")
    result.notes += [
        f"{rel} is gone after the update: Terraform no longer manages what it created "
        "(nothing is destroyed; remove it with `terraform destroy` at the old version if meant)"
        for rel in before_roots if rel not in after_roots
    ]
    try:
        with tempfile.TemporaryDirectory(prefix="mlopsgen-plan-diff-") as tmp:
            states = {rel: Path(tmp, rel.replace("/", "_") + ".tfstate")
                      for rel in {*before_roots, *after_roots}}
            rehearsal = _rehearse(before, before_roots, states, Path(tmp), timeout_s)
            result.notes += list(rehearsal.values())
            _compare(after, after_roots, states, Path(tmp), timeout_s, result, set(rehearsal))
    except TerraformNotFound as error:
        return skipped(error.message())
    if result.errors:
        result.status = "failed"
    return result


def _roots(repo: Path) -> list[str]:
    return [r.relative_to(repo).as_posix() for r in root_modules(repo)]


def _each_root(
    repo: Path, roots: Sequence[str], states: Mapping[str, Path], timeout_s: float,
    step: Callable[[str, Terraform], _T],
) -> list[_T]:
    """STEP for every root of REPO in one offline workspace, JOBS roots at a time (as
    validate runs them); results in the order of ROOTS."""
    with offline_workspace(repo, states=states) as space, ThreadPoolExecutor(JOBS) as pool:
        runners = [Terraform(space.path(rel), env=space.env, timeout_s=timeout_s, isolated=True)
                   for rel in roots]
        return list(pool.map(step, roots, runners))


def _rehearse(repo: Path, roots: Sequence[str], states: Mapping[str, Path], tmp: Path,
              timeout_s: float) -> dict[str, str]:
    """Apply every root of the old version offline; {root: note} for roots that could not
    be (a bootstrap reading environment states from Cloud Storage, for one)."""

    def rehearse(rel: str, tf: Terraform) -> str | None:
        stage = "planned"
        try:
            tf.init()
            planned = tf.plan(tmp / f"{rel.replace('/', '_')}.before.tfplan")
            stage = "applied"
            if planned.has_changes:
                tf.apply_plan(planned.plan_file)
        except TerraformNotFound:
            raise
        except MlopsgenError as error:
            # terraform keeps in state what an apply created before it stopped
            part = "in part" if stage == "applied" else "not at all"
            return (f"{rel} was rehearsed {part} at the old version (it could not be {stage} "
                    f"offline: {_error_line(error.message())}); what the update would replace "
                    "among the resources missing from the rehearsal is not known")
        return None

    notes = _each_root(repo, roots, states, timeout_s, rehearse)
    return {rel: note for rel, note in zip(roots, notes, strict=True) if note}


def _compare(repo: Path, roots: Sequence[str], states: Mapping[str, Path], tmp: Path,
             timeout_s: float, result: PlanDiff, partial: set[str]) -> None:
    """Plan every root of the updated repo against its rehearsal. A root that fails to plan
    is an error, unless its rehearsal already failed (then it is a note: offline, it cannot
    be checked at all)."""
    state_bucket = _state_bucket(repo)

    def compare(rel: str, tf: Terraform) -> tuple[list[Destruction], list[str]]:
        try:
            tf.init()
            planned = tf.plan(tmp / f"{rel.replace('/', '_')}.after.tfplan", check=False)
        except TerraformNotFound:
            raise
        except TerraformError as error:
            return [], [f"{rel}: {_error_line(error.message())}"]
        if not planned.plan_json:
            errors = [f"{rel}: {d.one_line()}" for d in planned.command.errors]
            return prevented(rel, planned.command.diagnostics), errors
        return destructions(rel, planned.plan_json, state_bucket), []

    for rel, (found, errors) in zip(roots, _each_root(repo, roots, states, timeout_s, compare),
                                    strict=True):
        result.destructions += found
        if rel in partial and errors and not found:
            result.notes.append(f"{rel} could not be planned after the update either "
                                f"({errors[0].split(': ', 1)[-1]})")
        else:
            result.errors += errors


def destructions(
    root: str, plan: Mapping[str, Any], state_bucket: str | None = None
) -> list[Destruction]:
    """The deletes and replaces of one root's plan, each with the gate's verdict."""
    gate = plan_policy.evaluate(plan, state_bucket=state_bucket)
    rules = {v.address: v.rule for v in gate.violations}
    forced = {
        str(rc["address"]): tuple(_path_text(p) for p in (rc.get("change") or {}).get(
            "replace_paths") or ())
        for rc in plan_summary.managed_changes(plan)
    }
    return [
        Destruction(root, c.address, c.type, c.kind, c.action_reason,
                    _PROTECTION.get(rules.get(c.address, ""), "").format(type=c.type) or None,
                    forced.get(c.address, ()))
        for c in plan_summary.summarize(plan).destructive
    ]


def _path_text(path: Sequence[Any]) -> str:
    """A plan's replace path (["version_template", 0, "protection_level"]) as text
    (version_template[0].protection_level)."""
    text = ""
    for step in path:
        if not isinstance(step, str):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else step
    return text


_PROTECTION = {
    "protected-destroy": "a protected {type}",
    "state-bucket-destroy": "the Terraform state bucket",
}


def prevented(root: str, diagnostics: Sequence[Diagnostic]) -> list[Destruction]:
    """Resources whose prevent_destroy stopped the plan: the update would destroy them."""
    found: list[Destruction] = []
    for d in diagnostics:
        m = _PREVENT_DESTROY.search(d.detail)
        if d.summary == "Instance cannot be destroyed" and m:
            address = m.group(1)
            rtype = address.split(".")[-2] if address.count(".") else address
            found.append(Destruction(root, address, rtype, "destroy", "prevent_destroy",
                                     "lifecycle.prevent_destroy refuses it"))
    return found


def _state_bucket(repo: Path) -> str | None:
    try:
        bucket = ClientRepo.open(repo).context.get("state_bucket")
    except MlopsgenError:
        return None
    return str(bucket) if bucket else None


def _error_line(text: str) -> str:
    """The first diagnostic of a TerraformError's message (its first line otherwise)."""
    for line in text.splitlines():
        if line.strip().startswith("error:"):
            return line.strip().removeprefix("error:").strip()
    return _first_line(text)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
