"""Turn an optional platform feature on or off in a rendered client repo, later.

`mlopsgen enable model_monitoring` a year after `mlopsgen new`: the recorded `features`
answer changes, and the repo goes through the same path as `mlopsgen update`
(generator/update.py) at the version it is at: copier's 3-way update re-renders with the new
answer (the client's edits kept, conflicts listed), then the offline validation and the
replacement check (generator/plan_diff.py: disabling `workbench` lists the instance and the
service account it would destroy; protected resources need a person). The new answer set is
validated by the answers model first: a combination the model refuses fails with its message
and nothing is written. A dirty repo is refused, as by `update`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import model
from generator import update as upd
from generator.client_repo import ClientRepo
from generator.errors import UpdateError


@dataclass(frozen=True)
class FeatureChange:
    feature: str
    enable: bool
    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def verb(self) -> str:
        return "enable" if self.enable else "disable"


def toggled(current: Sequence[str], feature: str, enable: bool) -> tuple[str, ...]:
    """The features after turning `feature` on or off; recorded order kept, new ones last."""
    if enable:
        return tuple(current) if feature in current else (*current, feature)
    return tuple(f for f in current if f != feature)


def plan_change(client: ClientRepo, feature: str, enable: bool) -> FeatureChange:
    """The change to the recorded answers, checked by the answers model (AnswersError with
    the model's message when it refuses the new set; RepoError when the recorded answers do
    not validate to begin with)."""
    given = {k: v for k, v in client.recorded.items() if not k.startswith("_")}
    before = tuple(str(f) for f in client.answers["features"])
    after = toggled(before, feature, enable)
    # the model decides what a feature is: disabling a name it does not know fails as
    # enabling it would, rather than being "already off"
    checked = after if after != before or enable else (*before, feature)
    model.validate_answers({**given, "features": list(checked)})
    return FeatureChange(feature, enable, before, after)


@dataclass
class FeatureReport:
    change: FeatureChange
    update: upd.UpdateReport | None = None  # None: nothing to do

    @property
    def needs_attention(self) -> bool:
        return self.update is not None and self.update.needs_attention

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.change.feature,
            "action": self.change.verb,
            "features_before": list(self.change.before),
            "features_after": list(self.change.after),
            "changed": self.change.changed,
            "update": self.update.to_json() if self.update else None,
            "needs_attention": self.needs_attention,
        }


def set_feature(
    repo: Path,
    feature: str,
    *,
    enable: bool,
    template: str | None = None,
    dry_run: bool = False,
    validate: bool = True,
    plan_diff: bool = True,
    commit: bool = False,
) -> FeatureReport:
    """Turn `feature` on or off in `repo` at its current template version."""
    upd.ensure_updatable(repo)  # refuses a dirty tree before anything else
    client = ClientRepo.open(repo)
    _source, version = client.require_template_record()
    change = plan_change(client, feature, enable)
    if not change.changed:
        return FeatureReport(change)
    report = upd.update_repo(
        repo, vcs_ref=version, template=template, dry_run=dry_run, validate=validate,
        plan_diff=plan_diff, commit=commit, data={"features": list(change.after)},
        message=f"{change.verb.capitalize()} the {feature} feature (mlopsgen {change.verb})",
    )
    if not dry_run:
        recorded = tuple(ClientRepo.open(repo).recorded.get("features") or ())
        if recorded != change.after:
            raise UpdateError(
                f"copier did not record features {list(change.after)} in {repo} (it recorded "
                f"{list(recorded)}); inspect `git -C {repo} diff`"
            )
    return FeatureReport(change, report)


def format_report(report: FeatureReport, repo: Path) -> str:
    change = report.change
    if report.update is None:
        state = "already enabled" if change.enable else "not enabled"
        return f"{repo}: {change.feature} is {state}; nothing to do"
    head = (f"{repo}: {change.verb} {change.feature}: features "
            f"{', '.join(change.before) or '(none)'} -> {', '.join(change.after) or '(none)'}")
    return head + "\n" + upd.format_report(report.update)
