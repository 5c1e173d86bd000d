"""`mlopsgen fleet status`: where every client repo of a fleet stands against the template.

Per repo: the template version it records (`_commit`), the newest release of that template
and how many releases it is behind, the open template-update (a pull request from
`template-update/<tag>` on GitHub, that branch in a local clone) and whether it has conflicts,
and the last validation result where one is recorded (generator/update_record.py states what
is read, docs/decisions/0006-fleet-status.md why).

Reading is the edge: local clones are read from their files (answers through `ClientRepo`,
refs through `git_refs`; git runs only to read an update branch's commit message), GitHub repos
through the REST API (`github_api`, in threads), and each template's tags once. Everything
after that is pure: `assess` turns what was read into a `RepoStatus`, `FleetReport` holds the
rows; generator/fleet_page.py renders the HTML page. A repo that cannot be read is a row with
its error; the others are unaffected.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

from generator import git_refs
from generator import update as upd
from generator import update_record as rec
from generator.client_repo import ANSWERS_FILE, ClientRepo
from generator.errors import MlopsgenError, RepoError
from generator.fleet import Entry
from generator.github_api import GitHub, Settings, repo_of_url

# states, worst first; the ones that need a person make `fleet status` exit 4
STATES = ("error", "unknown", "conflicts", "invalid", "behind", "update-open", "current")
ATTENTION = frozenset({"error", "unknown", "conflicts", "invalid", "behind"})
REMOTE_JOBS = 8  # GitHub requests in flight (threads): the API is the wait, not this machine
_DESCRIBE = re.compile(r"^(?P<tag>.+)-\d+-g[0-9a-f]{4,40}$")  # copier's `git describe` form


# --------------------------------------------------------------------------- what was read


@dataclass(frozen=True)
class TemplateRef:
    """How to read a template's tags: `github` (owner/name, the API) or `git` (ls-remote)."""

    kind: str
    location: str


@dataclass(frozen=True)
class Proposal:
    """An open template update: a pull request (GitHub) or an update branch (local clone)."""

    target: str  # the tag of `template-update/<tag>`
    branch: str
    kind: str = "branch"  # pull | branch
    number: int | None = None
    url: str | None = None
    draft: bool = False
    mergeable: bool | None = None  # GitHub's verdict on merging into the base; None: unknown
    record: rec.UpdateRecord | None = None
    others: tuple[str, ...] = ()  # targets of further open updates (a newer one supersedes)

    @property
    def conflicted_files(self) -> tuple[str, ...]:
        return self.record.conflicts if self.record else ()

    @property
    def conflicts(self) -> bool | None:
        """Conflicts the update left (its record), or with its base (GitHub); None: unknown."""
        if self.conflicted_files or self.mergeable is False:
            return True
        if self.record is None and self.mergeable is None:
            return None
        return False

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target, "branch": self.branch, "kind": self.kind,
            "number": self.number, "url": self.url, "draft": self.draft,
            "mergeable": self.mergeable, "conflicts": self.conflicts,
            "conflicted_files": list(self.conflicted_files),
            "record": self.record.to_json() if self.record else None, "others": list(self.others),
        }


@dataclass(frozen=True)
class Facts:
    """Everything read from one repo, before any judgement."""

    repo: str
    kind: str  # local | github
    template: str | None = None  # the recorded _src_path
    template_ref: TemplateRef | None = None
    version: str | None = None
    proposal: Proposal | None = None
    validation: rec.ValidationRecord | None = None  # local clones' last `fleet validate`
    head: str | None = None  # local clones' HEAD, to tell a stale validation
    error: str = ""


@dataclass(frozen=True)
class Tags:
    """A template's release tags, oldest first; `error` when they could not be read."""

    releases: tuple[str, ...] = ()
    error: str = ""


# --------------------------------------------------------------------------- the judgement


@dataclass(frozen=True)
class ValidationView:
    status: str  # ok | failed | skipped
    source: str  # update (the update's record) | local (`fleet validate`)
    stale: bool = False  # the clone moved on since (its HEAD is not the commit validated)
    at: str = ""
    summary: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed" and not self.stale

    def label(self) -> str:
        return f"{self.status} (stale)" if self.stale else self.status

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "source": self.source, "stale": self.stale,
                "at": self.at, "summary": self.summary}


@dataclass(frozen=True)
class RepoStatus:
    repo: str
    kind: str
    state: str
    template: str | None = None
    version: str | None = None
    latest: str | None = None
    behind: int | None = None
    update: Proposal | None = None
    validation: ValidationView | None = None
    error: str = ""

    @property
    def needs_attention(self) -> bool:
        return self.state in ATTENTION

    def to_json(self) -> dict[str, Any]:
        return {
            "repo": self.repo, "kind": self.kind, "template": self.template,
            "version": self.version, "latest": self.latest, "behind": self.behind,
            "update": self.update.to_json() if self.update else None,
            "validation": self.validation.to_json() if self.validation else None,
            "state": self.state, "needs_attention": self.needs_attention, "error": self.error,
        }


def release_base(version: str | None) -> Version | None:
    """The PEP 440 version a recorded `_commit` is at or after (`v0.2.0`, or copier's
    `v0.2.0-3-gabc1234` for a commit after the tag); None for a bare commit id."""
    if not version:
        return None
    match = _DESCRIBE.match(version)
    try:
        return Version(match["tag"] if match else version)
    except InvalidVersion:
        return None


def versions_behind(version: str | None, releases: Sequence[str]) -> int | None:
    """How many releases are newer than `version`; None when it is not a release version."""
    base = release_base(version)
    if base is None:
        return None
    return sum(1 for tag in releases if Version(tag) > base)


def _validation(facts: Facts) -> ValidationView | None:
    record = facts.proposal.record if facts.proposal else None
    if record is not None:
        return ValidationView(record.validation, "update", at=record.at, summary=record.summary)
    local = facts.validation
    if local is None:
        return None
    stale = local.head is None or local.head != facts.head
    return ValidationView(local.status, "local", stale=stale, at=local.at, summary=local.summary)


def state_of(status: RepoStatus) -> str:
    """The one word a row is sorted and coloured by (STATES; ATTENTION needs a person)."""
    if status.error:
        return "error"
    if status.behind is None:
        return "unknown"
    if status.update is not None and status.update.conflicts:
        return "conflicts"
    if status.validation is not None and status.validation.failed:
        return "invalid"
    if status.behind == 0:
        return "current"
    if status.update is not None and status.update.target == status.latest:
        return "update-open"
    return "behind"


def assess(facts: Facts, tags: Mapping[TemplateRef, Tags]) -> RepoStatus:
    """One repo's row from what was read and its template's tags. Pure."""
    found = tags.get(facts.template_ref) if facts.template_ref else None
    error = facts.error or (found.error if found else "")
    releases = found.releases if found else ()
    behind = versions_behind(facts.version, releases) if releases else None
    row = RepoStatus(
        repo=facts.repo, kind=facts.kind, state="error", template=facts.template,
        version=facts.version, latest=releases[-1] if releases else None, behind=behind,
        update=facts.proposal, validation=_validation(facts), error=error,
    )
    if not error and behind is None:
        why = ("the template has no release tags" if not releases else
               f"the recorded version {facts.version!r} is not a release (PEP 440) version")
        return replace(row, state="unknown", error=why)
    return replace(row, state=state_of(row))


@dataclass(frozen=True)
class FleetReport:
    repos: tuple[RepoStatus, ...]
    generated_at: str = ""

    @property
    def needs_attention(self) -> int:
        return sum(r.needs_attention for r in self.repos)

    def by_state(self) -> dict[str, int]:
        counts = Counter(r.state for r in self.repos)
        return {s: counts[s] for s in STATES if counts[s]}

    def by_version(self) -> list[tuple[str, int]]:
        """Clients per recorded template version: releases in PEP 440 order, then other
        versions, then the repos whose version could not be read (as "unreadable")."""
        counts = Counter(r.version or "unreadable" for r in self.repos)

        def order(version: str) -> tuple[int, Version | str]:
            base = release_base(version)
            if base is not None:
                return (0, base)
            return (2, "") if version == "unreadable" else (1, version)

        return [(v, counts[v]) for v in sorted(counts, key=order)]

    def latest_versions(self) -> set[str]:
        return {r.latest for r in self.repos if r.latest}

    def to_json(self) -> dict[str, Any]:
        return {
            "command": "fleet status",
            "generated_at": self.generated_at,
            "repos": [r.to_json() for r in self.repos],
            "summary": {"total": len(self.repos), "needs_attention": self.needs_attention,
                        "by_state": self.by_state(), "by_version": dict(self.by_version())},
        }


def build_report(facts: Sequence[Facts], tags: Mapping[TemplateRef, Tags],
                 generated_at: str = "") -> FleetReport:
    return FleetReport(tuple(assess(f, tags) for f in facts), generated_at)


# --------------------------------------------------------------------------- text table


def _update_cell(p: Proposal | None) -> str:
    if p is None:
        return "-"
    what = f"#{p.number}" if p.number is not None else "branch"
    return f"{what} -> {p.target}" + (" (draft)" if p.draft else "")


def _conflicts_cell(p: Proposal | None) -> str:
    if p is None:
        return "-"
    if p.conflicts is None:
        return "?"
    if not p.conflicts:
        return "no"
    files = len(p.conflicted_files)
    if not files:
        return "yes (with base)"
    return f"yes ({files} file{'s' if files != 1 else ''})"


def table_rows(report: FleetReport) -> list[tuple[str, ...]]:
    """The cells of each row, shared by the text table and the HTML page."""
    return [
        (
            r.repo, r.version or "-", r.latest or "-", "-" if r.behind is None else str(r.behind),
            _update_cell(r.update), _conflicts_cell(r.update),
            r.validation.label() if r.validation else "-", r.state,
        )
        for r in report.repos
    ]


HEADERS = ("repo", "version", "latest", "behind", "update", "conflicts", "validation", "state")


def format_table(report: FleetReport) -> str:
    rows = table_rows(report)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(HEADERS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    for r in report.repos:
        if r.error:
            lines.append(f"{r.repo}: {r.error}")
        if r.update and r.update.conflicted_files:
            lines.append(f"{r.repo}: {r.update.branch} has conflicts in "
                         + ", ".join(r.update.conflicted_files))
        if r.update and r.update.others:
            lines.append(f"{r.repo}: more open template updates: {', '.join(r.update.others)}")
    states = ", ".join(f"{n} {s}" for s, n in report.by_state().items())
    lines.append(f"{len(report.repos)} repos ({states}), {report.needs_attention} need attention")
    return "\n".join(lines)


# --------------------------------------------------------------------------- reading: local


def _newest_target(targets: Iterable[str]) -> list[str]:
    """Update targets, newest first (PEP 440; other names after, by name)."""
    def order(tag: str) -> tuple[int, Version | str]:
        base = release_base(tag)
        return (0, base) if base is not None else (1, tag)

    return sorted(set(targets), key=order, reverse=True)


def _commit_message(repo: Path, sha: str) -> str | None:
    """A commit's message (git only reads here: no identity needed, so no `git_env`)."""
    result = subprocess.run(
        ["git", "log", "-1", "--format=%B", sha], cwd=repo, capture_output=True, text=True,
        check=False, stdin=subprocess.DEVNULL,
    )
    return result.stdout if result.returncode == 0 else None


def local_proposal(repo: Path) -> Proposal | None:
    """The newest `template-update/<tag>` branch of a clone (local, or fetched from a remote),
    with the update record from its head commit's message."""
    branches: dict[str, tuple[str, str]] = {}  # target -> (branch, sha); local ones win
    found = git_refs.refs(repo, "refs/remotes", "refs/heads")
    for name, sha in sorted(found.items(), key=lambda kv: kv[0].startswith("refs/heads/")):
        short = name.removeprefix("refs/heads/").removeprefix("refs/remotes/")
        target = rec.target_of(short)
        if target:
            branches[target] = (short, sha)
    if not branches:
        return None
    newest, *others = _newest_target(branches)
    branch, sha = branches[newest]
    record = rec.parse_update_record(_commit_message(repo, sha))
    return Proposal(target=newest, branch=branch, record=record, others=tuple(others))


def template_ref(source: str, *, base: Path | None, settings: Settings,
                 override: str | None = None) -> TemplateRef:
    """Where the tags of a recorded template are read. GitHub-hosted templates go through the
    API when a token is set (private templates); everything else through `git ls-remote`. A
    local path is resolved against `base` (the clone), as `mlopsgen update` resolves it."""
    url = override or source
    on_github = repo_of_url(url, settings.server_host)
    if on_github and settings.token:
        return TemplateRef("github", on_github)
    if not upd.is_local_path(url):
        return TemplateRef("git", url)
    if base is None:  # a GitHub repo's answers naming a path on the machine that rendered it
        path = Path(url).expanduser()
        if not path.is_absolute() or not (path / ".git").exists():
            raise RepoError(f"the answers record the template as the local path {url!r}; pass "
                            "--template <git URL or path> to read its releases")
        return TemplateRef("git", str(path))
    answers = {"_src_path": source}
    resolved = upd.resolve_template(base, answers, template=override)
    path = Path(resolved.url).expanduser()
    return TemplateRef("git", str(path if path.is_absolute() else (resolved.cwd / path).resolve()))


def read_local(repo: Path, settings: Settings, override: str | None = None) -> Facts:
    try:
        client = ClientRepo.open(repo)
        source, version = client.require_template_record()
    except RepoError as error:
        return Facts(str(repo), "local", error=error.message())
    facts = Facts(str(repo), "local", template=source, version=version,
                  proposal=local_proposal(repo), validation=rec.read_validation_record(repo),
                  head=git_refs.head(repo))
    try:
        return replace(facts, template_ref=template_ref(source, base=client.path,
                                                        settings=settings, override=override))
    except MlopsgenError as error:
        return replace(facts, error=error.message())


# --------------------------------------------------------------------------- reading: GitHub


def _recorded_answers(text: str, where: str) -> tuple[str, str]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RepoError(f"{where} is not valid YAML ({error})") from error
    if not isinstance(data, dict):
        raise RepoError(f"{where} must hold a mapping of answers")
    return ClientRepo(Path(where).parent, data).require_template_record()


def github_proposal(gh: GitHub, full_name: str) -> Proposal | None:
    """The newest open pull request from a `template-update/<tag>` branch of the repo itself."""
    pulls: dict[str, dict[str, Any]] = {}
    for pull in gh.open_pulls(full_name):
        head = pull.get("head") or {}
        target = rec.target_of(str(head.get("ref", "")))
        same_repo = str((head.get("repo") or {}).get("full_name", "")).lower() == full_name.lower()
        if target and same_repo and target not in pulls:
            pulls[target] = pull
    if not pulls:
        return None
    newest, *others = _newest_target(pulls)
    pull = gh.pull(full_name, int(pulls[newest]["number"]))  # `mergeable` is only here
    mergeable = pull.get("mergeable")
    return Proposal(
        target=newest, branch=str(pull["head"]["ref"]), kind="pull", number=int(pull["number"]),
        url=str(pull.get("html_url") or "") or None, draft=bool(pull.get("draft")),
        mergeable=mergeable if isinstance(mergeable, bool) else None,
        record=rec.parse_update_record(str(pull.get("body") or "")), others=tuple(others),
    )


def read_github(entry: Entry, gh: GitHub, override: str | None = None) -> Facts:
    assert entry.github is not None
    name = entry.github
    try:
        text = gh.file_text(name, ANSWERS_FILE)
        if text is None:
            raise RepoError(f"{name} has no {ANSWERS_FILE} on its default branch: not a client "
                            "repo rendered by mlopsgen (or copier)")
        source, version = _recorded_answers(text, f"{name}/{ANSWERS_FILE}")
        facts = Facts(name, "github", template=source, version=version)
        ref = template_ref(source, base=None, settings=gh.settings, override=override)
        return replace(facts, template_ref=ref, proposal=github_proposal(gh, name))
    except MlopsgenError as error:
        hint = (f"no local directory {entry.missing_path}; as a GitHub repo: "
                if entry.missing_path else "")
        return Facts(name, "github", error=hint + error.message())


# --------------------------------------------------------------------------- reading: tags


def read_tags(ref: TemplateRef, gh: GitHub) -> Tags:
    try:
        if ref.kind == "github":
            names: list[str] | None = gh.tags(ref.location)
        else:
            names = upd.list_tags(upd.TemplateSource(ref.location, Path.cwd()))
    except MlopsgenError as error:
        return Tags(error=f"cannot read the template's tags ({ref.location}): {error.message()}")
    if names is None:
        return Tags(error=f"cannot read the template's tags: `git ls-remote {ref.location}` "
                          "failed (is the template reachable from here?)")
    return Tags(releases=tuple(upd.release_tags(names)))


# --------------------------------------------------------------------------- the whole fleet


@dataclass
class Collector:
    """Reads a fleet: local clones in this thread (file reads), GitHub repos and template tags
    in threads; `advance` is told of each repo and template read (the progress bar)."""

    settings: Settings
    template: str | None = None
    jobs: int = REMOTE_JOBS
    advance: Callable[[str], None] = field(default=lambda _name: None)
    extend: Callable[[int], None] = field(default=lambda _count: None)

    def facts(self, entries: Sequence[Entry]) -> list[Facts]:
        gh = GitHub(self.settings)
        results: dict[int, Facts] = {}
        remote = [(i, e) for i, e in enumerate(entries) if e.github]
        with ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool:
            futures = {i: pool.submit(self._remote, gh, e) for i, e in remote}
            for i, entry in enumerate(entries):
                if entry.path is not None:
                    results[i] = read_local(entry.path, self.settings, self.template)
                    self.advance(entry.name)
            for i, future in futures.items():
                results[i] = future.result()
        return [results[i] for i in range(len(entries))]

    def _remote(self, gh: GitHub, entry: Entry) -> Facts:
        facts = read_github(entry, gh, self.template)
        self.advance(entry.name)
        return facts

    def tags(self, facts: Sequence[Facts]) -> dict[TemplateRef, Tags]:
        refs = list(dict.fromkeys(f.template_ref for f in facts if f.template_ref))
        self.extend(len(refs))
        gh = GitHub(self.settings)

        def one(ref: TemplateRef) -> Tags:
            tags = read_tags(ref, gh)
            self.advance(ref.location)
            return tags

        with ThreadPoolExecutor(max_workers=max(1, min(self.jobs, len(refs) or 1))) as pool:
            return dict(zip(refs, pool.map(one, refs), strict=True))

    def report(self, entries: Sequence[Entry], generated_at: str = "") -> FleetReport:
        facts = self.facts(entries)
        return build_report(facts, self.tags(facts), generated_at or rec.now_utc())
