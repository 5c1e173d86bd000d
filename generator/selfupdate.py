"""The template-update build's decisions, as pure functions (`generator/selfupdate_run.py` runs
them against git and GitHub).

A client repo updates itself: a scheduled Cloud Build (`cloudbuild/template-update.yaml`) runs
`mlopsgen template-update --open-pr`, which picks the newest release of the template the repo
records, updates a fresh clone to it on the branch `template-update/<tag>`, and keeps exactly
one pull request per target version (docs/decisions/0006-fleet-status.md: the branch and the
update record fleet status reads). Here:
- `choose_target`: the newest release newer than the recorded version, or None;
- `update_pulls`, `plan_pulls`: the open update pull requests of the same repo, which one to
  refresh and which a newer target supersedes;
- `parse_changelog`, `entries_between`: the template's CHANGELOG.md entries (`## vX.Y.Z ...`,
  with **Changes.**, **Migrations.**, **Action.** paragraphs) after the recorded version up to
  the target;
- `pull_title`, `pull_body`, `commit_message`: what the pull request and its commit say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from generator import update_record as rec
from generator.filters import md_code
from generator.fleet_status import release_base

SECTIONS = ("Action", "Changes", "Migrations")  # the order the pull request shows them in
BODY_LIMIT = 60_000  # GitHub refuses bodies over 65,536 characters
SUMMARY_LINES = 12  # validation report lines kept in the update record
DETAIL_LINES = 80  # validation report lines shown in the pull request
_HEADING = re.compile(r"^##\s+(?P<title>\S.*?)\s*$")
_SECTION = re.compile(r"^\*\*(?P<name>[A-Z][A-Za-z ]*?)\.?\*\*\s*(?P<rest>.*)$")
_BACKTICKS = re.compile(r"`+")


# --------------------------------------------------------------------------- the target


def choose_target(recorded: str | None, releases: Sequence[str]) -> str | None:
    """The newest release newer than the recorded version (`releases` as
    `update.release_tags` orders them, oldest first); None when the repo is current. A
    recorded version that is no release (a bare commit id) has no newer release: None."""
    base = release_base(recorded)
    if base is None:
        return None
    newer = [tag for tag in releases if (version := _version(tag)) is not None and version > base]
    return newer[-1] if newer else None


def _version(tag: str) -> Version | None:
    try:
        return Version(tag)
    except InvalidVersion:
        return None


# --------------------------------------------------------------------------- pull requests


@dataclass(frozen=True)
class OpenUpdate:
    """An open pull request from an update branch of the same repo."""

    number: int
    target: str
    branch: str
    draft: bool = False
    node_id: str = ""
    body: str = ""


def update_pulls(pulls: Iterable[Mapping[str, Any]], full_name: str) -> list[OpenUpdate]:
    """The open update pull requests among `pulls` (GitHub's list): head `template-update/<tag>`
    of this repo (forks ignored, as fleet status does), by number."""
    found = []
    for pull in pulls:
        head = pull.get("head") or {}
        target = rec.target_of(str(head.get("ref", "")))
        repo = str((head.get("repo") or {}).get("full_name", ""))
        closed = pull.get("state", "open") != "open"
        if target is None or repo.lower() != full_name.lower() or closed:
            continue
        found.append(OpenUpdate(int(pull["number"]), target, str(head["ref"]),
                                bool(pull.get("draft")), str(pull.get("node_id") or ""),
                                str(pull.get("body") or "")))
    return sorted(found, key=lambda u: u.number)


@dataclass(frozen=True)
class PullPlan:
    """What to do with the open update pull requests for one target (None: the repo is
    current)."""

    refresh: OpenUpdate | None  # the open pull request of the target, if any
    close: tuple[OpenUpdate, ...] = ()  # every other open update pull request


def plan_pulls(target: str | None, open_updates: Sequence[OpenUpdate]) -> PullPlan:
    """Exactly one pull request per target: the oldest open one from the target's branch is
    refreshed; every other update pull request is closed (another target: a newer release
    superseded it, or the repo already is at it; the same target twice: a duplicate)."""
    mine = [u for u in open_updates if target is not None and u.target == target]
    keep = mine[0] if mine else None
    return PullPlan(keep, tuple(u for u in open_updates if u is not keep))


def draft_wanted(conflicts: Sequence[str]) -> bool:
    """A pull request with conflicted files stays draft until a person resolves them."""
    return bool(conflicts)


# --------------------------------------------------------------------------- the changelog


@dataclass(frozen=True)
class Entry:
    """One release's CHANGELOG.md entry."""

    version: str  # the heading's first word (`v0.2.0`)
    title: str
    sections: Mapping[str, str] = field(default_factory=dict)  # Changes/Migrations/Action


def parse_changelog(text: str) -> list[Entry]:
    """Every `## <version> ...` entry (the Unreleased one and headings that are no version are
    skipped), with the text of each **Section.** up to the next section or entry."""
    entries: list[Entry] = []
    current: tuple[str, str] | None = None
    sections: dict[str, list[str]] = {}
    name: str | None = None
    for line in [*text.splitlines(), "## end"]:
        heading = _HEADING.match(line)
        if heading:
            if current is not None:
                entries.append(_entry(current, sections))
            word = heading["title"].split()[0]
            current = (word, heading["title"]) if _version(word) is not None else None
            sections, name = {}, None
            continue
        if current is None:
            continue
        section = _SECTION.match(line)
        if section and section["name"].strip() in SECTIONS:
            name = section["name"].strip()
            sections[name] = [section["rest"]] if section["rest"] else []
        elif name is not None:
            sections[name].append(line)
    return entries


def _entry(current: tuple[str, str], sections: Mapping[str, list[str]]) -> Entry:
    return Entry(current[0], current[1],
                 {k: "\n".join(v).strip() for k, v in sections.items() if "\n".join(v).strip()})


def entries_between(entries: Sequence[Entry], recorded: str | None, target: str) -> list[Entry]:
    """The entries after the recorded version up to and including the target, oldest first."""
    base, top = release_base(recorded), _version(target)
    out = []
    for entry in entries:
        version = _version(entry.version)
        if version is None or top is None or version > top:
            continue
        if base is not None and version <= base:
            continue
        out.append(entry)
    return sorted(out, key=lambda e: _version(e.version) or Version("0"))


# --------------------------------------------------------------------------- what the PR says


@dataclass(frozen=True)
class Outcome:
    """What the update of the clone produced: the facts the pull request reports."""

    from_version: str
    to_version: str
    conflicts: tuple[str, ...] = ()
    validation: str = "skipped"  # ok | failed | skipped
    validation_detail: str = ""
    replacements: tuple[str, ...] = ()  # the replacement check's lines
    changed: int = 0

    def record(self, at: str) -> rec.UpdateRecord:
        return rec.UpdateRecord(self.from_version, self.to_version, self.conflicts,
                                self.validation, _first_lines(self.validation_detail,
                                                              SUMMARY_LINES), at)


def _first_lines(text: str, count: int) -> str:
    lines = text.strip().splitlines()
    return "\n".join(lines[:count] + (["..."] if len(lines) > count else []))


def pull_title(outcome: Outcome) -> str:
    prefix = "[conflicts] " if outcome.conflicts else ""
    return f"{prefix}Template update {outcome.from_version} → {outcome.to_version}"


def commit_message(outcome: Outcome, at: str) -> str:
    """The branch head's message: a subject, and the update record for local clones."""
    return (f"Template update {outcome.from_version} -> {outcome.to_version} "
            f"(mlopsgen template-update)\n\n{rec.render_update_record(outcome.record(at))}\n")


def _fenced(text: str) -> str:
    fence = "`" * max(3, max((len(r) for r in _BACKTICKS.findall(text)), default=0) + 1)
    return f"{fence}text\n{text}\n{fence}"


def _conflicts_part(outcome: Outcome) -> list[str]:
    if not outcome.conflicts:
        return []
    return [f"### Conflicts ({len(outcome.conflicts)})", "",
            "Your edits and the template's changes touch the same lines in these files; each "
            "holds `<<<<<<<` / `>>>>>>>` blocks. This pull request stays a draft: check out "
            "the branch, keep the right side of each block, commit, then mark it ready.", "",
            *[f"- {md_code(name)}" for name in outcome.conflicts], ""]


def _validation_part(outcome: Outcome) -> list[str]:
    lines = ["### Validation", "", f"`mlopsgen validate` (offline): **{outcome.validation}**"]
    if outcome.validation == "skipped" and outcome.validation_detail:
        lines[-1] += f" ({outcome.validation_detail.strip().splitlines()[0]})"
    elif outcome.validation_detail:
        lines += ["", "<details><summary>Report</summary>", "",
                  _fenced(_first_lines(outcome.validation_detail, DETAIL_LINES)), "", "</details>"]
    if outcome.replacements:
        lines += ["", "Replacement check (offline plans before and after the update):", "",
                  _fenced("\n".join(outcome.replacements))]
    return [*lines, ""]


def changelog_part(entries: Sequence[Entry], limit: int = BODY_LIMIT) -> list[str]:
    """The entries grouped by section (what to do first), each release labelled."""
    if not entries:
        return ["### What the releases change", "",
                "The template's CHANGELOG.md has no entry for these releases.", ""]
    lines = ["### What the releases change", ""]
    for name in SECTIONS:
        found = [(e.version, e.sections[name]) for e in entries if e.sections.get(name)]
        if not found:
            continue
        lines += [f"#### {name}", ""]
        for version, text in found:
            lines += [f"**{version}**", "", text, ""]
    text = "\n".join(lines)
    if len(text) > limit:
        cut = text[:limit].rsplit("\n", 1)[0]
        return [cut, "", "_(cut: the rest is in the template's CHANGELOG.md)_", ""]
    return lines


def pull_body(outcome: Outcome, entries: Sequence[Entry], at: str, *, template: str = "") -> str:
    """The pull request's body: from → to, conflicts, validation, the CHANGELOG entries in
    between, and the update record (fleet status reads it; the last record wins)."""
    head = [f"## Template update {outcome.from_version} → {outcome.to_version}", "",
            "Opened by the scheduled `template-update` build (`mlopsgen template-update "
            "--open-pr`): copier's 3-way update of this repo to the template's release "
            f"{md_code(outcome.to_version)}"
            + (f" of {md_code(template)}" if template else "")
            + f", {outcome.changed} files changed. A newer release replaces this pull request "
            "with its own; the next run refreshes this one if the base branch moved.", ""]
    parts = [*head, *_conflicts_part(outcome), *_validation_part(outcome)]
    room = BODY_LIMIT - len("\n".join(parts)) - 2_000
    record = rec.render_update_record(outcome.record(at))
    return "\n".join([*parts, *changelog_part(entries, max(room, 1_000)), record]) + "\n"
