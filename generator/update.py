"""Bring a client repo to a newer template version with copier's update, safely.

`update_repo` refuses what copier would mangle (no answers file, dirty tree), runs copier's
3-way update with inline conflict markers, then reports every file that still has conflicts,
runs the offline validation and the replacement check (`generator.plan_diff`: the repo before
the update is applied offline to a rehearsal state and the updated repo planned against it;
every resource the update would replace or delete is listed, protected ones flagged, and
those make the update need a person: no `--commit`). `--dry-run` runs the same update in a
throw-away clone and reports the diff, so the client repo is never written.

Relative template paths: copier records `_src_path` exactly as it was typed (`copier copy .
dest` records `.`) and, on update, resolves it against the *current working directory*
(copier-org/copier#335, #1616): from anywhere else it fails with "Local template must be a
directory" or, worse, finds a different checkout. `resolve_template` looks for the template
relative to the repo, its parent and the caller's cwd, and the update then runs with that
directory as cwd, so the recorded value stays as it was. `--template` overrides the recorded
source altogether (for a template that moved); the answers file then records the new source.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator import plan_diff as diff
from generator.client_repo import ANSWERS_FILE, ClientRepo
from generator.errors import MlopsgenError, RepoError, UpdateError
from generator.gitenv import git_env
from generator.validate import format_report as format_validation
from generator.validate import validate_repo

CONFLICT_START = re.compile(r"^<{7} ")
CONFLICT_END = re.compile(r"^>{7} ")
_REMOTE_PREFIXES = ("gh:", "gl:", "git@", "git+", "http://", "https://", "ssh://", "file://")


@dataclass(frozen=True)
class TemplateSource:
    """Where copier reads the template from, and the directory to run copier in."""

    url: str
    cwd: Path
    overridden: bool = False


@dataclass(frozen=True)
class Validation:
    """Outcome of `mlopsgen validate` on the updated repo."""

    status: str  # "ok" | "failed" | "skipped"
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass
class UpdateReport:
    repo: Path
    from_version: str | None
    to_version: str | None
    dry_run: bool
    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    diffstat: str = ""
    validation: Validation = field(default_factory=lambda: Validation("skipped", "not run"))
    replacements: diff.PlanDiff = field(default_factory=lambda: diff.skipped("not run"))
    committed: bool = False

    @property
    def needs_attention(self) -> bool:
        return bool(self.conflicts) or self.validation.failed or self.replacements.needs_attention

    def to_json(self) -> dict[str, Any]:
        return {
            "repo": str(self.repo),
            "from_version": self.from_version,
            "to_version": self.to_version,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "diffstat": self.diffstat,
            "conflicts": self.conflicts,
            "validation": {"status": self.validation.status, "detail": self.validation.detail},
            "replacements": self.replacements.to_json(),
            "committed": self.committed,
            "needs_attention": self.needs_attention,
        }


# --------------------------------------------------------------------------- git helpers


def git(repo: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=False, env=git_env(repo)
    )
    if check and result.returncode != 0:
        raise UpdateError(f"git {' '.join(args)} failed in {repo}: {result.stderr.strip()}")
    return result.stdout


# --------------------------------------------------------------------------- preconditions


def read_answers(repo: Path) -> dict[str, Any]:
    """The answers copier recorded; refuses a repo copier cannot update."""
    try:
        client = ClientRepo.open(repo)
        client.require_template_record()
    except RepoError as error:
        raise UpdateError(str(error)) from error
    return dict(client.recorded)


def dirty_files(repo: Path) -> list[str]:
    out = git(repo, "status", "--porcelain", "--untracked-files=all")
    return [line[3:] for line in out.splitlines() if line.strip()]


def ensure_updatable(repo: Path) -> dict[str, Any]:
    """Checks before anything is written; returns the recorded answers."""
    if not repo.is_dir():
        raise UpdateError(f"{repo} is not a directory")
    if shutil.which("git") is None:
        raise UpdateError("git is not on PATH; copier updates need git")
    inside = git(repo, "rev-parse", "--is-inside-work-tree", check=False).strip()
    if inside != "true":
        raise UpdateError(
            f"{repo} is not a git repository; copier merges template changes through git. "
            "Run `git init && git add -A && git commit -m 'Before template update'` there first."
        )
    answers = read_answers(repo)
    dirty = dirty_files(repo)
    if dirty:
        shown = "\n  ".join(dirty[:20]) + ("\n  ..." if len(dirty) > 20 else "")
        raise UpdateError(
            f"{repo} has uncommitted changes; an update must start from a clean tree so its "
            f"changes can be reviewed and undone. Commit or stash these first:\n  {shown}"
        )
    return answers


# --------------------------------------------------------------------------- template source


def is_local_path(url: str) -> bool:
    return not url.startswith(_REMOTE_PREFIXES)


def _is_template(path: Path) -> bool:
    return path.is_dir() and any((path / name).is_file() for name in ("copier.yml", "copier.yaml"))


def resolve_template(
    repo: Path,
    answers: Mapping[str, Any],
    *,
    template: str | None = None,
    cwd: Path | None = None,
) -> TemplateSource:
    """Where the template is, so copier finds the same one the repo was rendered from."""
    here = (cwd or Path.cwd()).resolve()
    if template:
        if is_local_path(template):
            path = Path(template).expanduser()
            path = (here / path).resolve() if not path.is_absolute() else path
            if not _is_template(path):
                raise UpdateError(f"--template {template}: no copier.yml in {path}")
            return TemplateSource(str(path), here, overridden=True)
        return TemplateSource(template, here, overridden=True)
    recorded = str(answers["_src_path"])
    if not is_local_path(recorded):
        return TemplateSource(recorded, here)
    path = Path(recorded).expanduser()
    if path.is_absolute():
        if not _is_template(path):
            raise UpdateError(
                f"{repo / ANSWERS_FILE} records the template at {recorded}, which has no "
                "copier.yml any more. Pass its new location: `mlopsgen update "
                f"{repo} --template <path or git URL>`."
            )
        return TemplateSource(recorded, here)
    # Relative: copier resolves it against the cwd of the *update*; it was relative to the cwd
    # of the original `copier copy`. Try the repo itself, its parent, then the caller's cwd.
    repo_abs = repo.resolve()
    for base in (repo_abs, repo_abs.parent, here):
        if _is_template(base / path):
            return TemplateSource(recorded, base)
    raise UpdateError(
        f"{repo / ANSWERS_FILE} records a relative template path {recorded!r} (copier stores the "
        "path as typed at `copier copy` time) and no template is there relative to the repo, "
        "its parent or the current directory. Pass the template location: "
        f"`mlopsgen update {repo} --template <path or git URL>`."
    )


@contextlib.contextmanager
def _recorded_source(repo: Path, source: TemplateSource) -> Iterator[None]:
    """For `--template`: let copier read the template (old and new version) from the override.

    copier takes the old version's location from `_src_path` in the answers file, so the
    override is written there while git is told to ignore the edit (the tree stays clean for
    copier's dirty check); the flag is cleared again afterwards, and the original file is
    restored if copier did not rewrite it."""
    if not source.overridden:
        yield
        return
    path = repo / ANSWERS_FILE
    original = path.read_text(encoding="utf-8")
    data = yaml.safe_load(original)
    data["_src_path"] = source.url
    patched = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    git(repo, "update-index", "--assume-unchanged", ANSWERS_FILE)
    path.write_text(patched, encoding="utf-8")
    try:
        yield
    finally:
        git(repo, "update-index", "--no-assume-unchanged", ANSWERS_FILE)
        if path.read_text(encoding="utf-8") == patched:
            path.write_text(original, encoding="utf-8")


# --------------------------------------------------------------------------- the update


def run_copier_update(
    repo: Path, source: TemplateSource, vcs_ref: str | None,
    data: Mapping[str, Any] | None = None,
) -> None:
    """copier's 3-way update: answers kept (except those `data` changes), defaults for new
    questions, inline conflicts."""
    import copier

    repo_abs = repo.resolve()
    with _recorded_source(repo_abs, source), contextlib.chdir(source.cwd):
        try:
            copier.run_update(
                str(repo_abs),
                dict(data) if data else None,
                vcs_ref=vcs_ref,
                conflict="inline",
                defaults=True,
                overwrite=True,
                unsafe=True,
                # False: answers are re-read after `before` migrations (renamed answer keys);
                # with defaults=True nothing is asked either way.
                skip_answered=False,
                quiet=True,
            )
        except Exception as error:  # copier raises many types; one actionable message
            if "version from last update not detected" in str(error):
                raise UpdateError(
                    f"{repo} was rendered from an untagged template commit "
                    f"({repo / ANSWERS_FILE} records _commit without a release tag before it), "
                    "so copier cannot tell which version it is. Updates start from releases: "
                    "render from a tag (`mlopsgen new --vcs-ref vX.Y.Z`), or, if the template "
                    "now has a tag at or before that commit, fetch the template's tags."
                ) from error
            raise UpdateError(
                f"copier could not update {repo} from {source.url}: {error}. The repo may be "
                f"partly updated: inspect `git -C {repo} status`; `git -C {repo} checkout -- . && "
                f"git -C {repo} clean -fd` returns it to the last commit."
            ) from error


def conflict_files(repo: Path) -> list[str]:
    """Files with unresolved conflicts: unmerged in the index, conflict markers in any tracked
    or untracked file (committed ones too), or copier's `.rej` files."""
    found: set[str] = set()
    for line in git(repo, "ls-files", "-u", "-z").split("\0"):
        if "\t" in line:
            found.add(line.split("\t", 1)[1])
    candidates = git(
        repo, "grep", "-l", "-z", "-I", "--untracked", "-E", "^<{7} ", check=False
    ).split("\0")
    found.update(name for name in candidates if name and _has_markers(repo / name))
    status = git(repo, "status", "--porcelain", "-z", "--untracked-files=all", "--ignored")
    found.update(
        entry[3:] for entry in status.split("\0")
        if entry[:3] in ("?? ", "!! ") and entry.endswith(".rej")
    )
    return sorted(found)


def _has_markers(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    lines = text.splitlines()
    return any(CONFLICT_START.match(x) for x in lines) and any(CONFLICT_END.match(x) for x in lines)


def changed_files(repo: Path) -> list[str]:
    out = git(repo, "status", "--porcelain", "--untracked-files=all")
    return sorted(line[3:] for line in out.splitlines() if line.strip())


def diffstat(repo: Path) -> str:
    """Summary of the working tree against HEAD, new files included (marks them intent-to-add)."""
    git(repo, "add", "-A", "-N", check=False)
    return git(repo, "diff", "--stat=100", "HEAD", check=False).rstrip()


def recorded_version(repo: Path) -> str | None:
    try:
        return ClientRepo.open(repo).template_version
    except RepoError:
        return None


def run_validation(repo: Path) -> Validation:
    """`mlopsgen validate` (offline) of the updated repo."""
    try:
        report = validate_repo(repo)
    except MlopsgenError as error:  # report, don't crash the fleet
        return Validation("failed", f"validate could not run: {error.message()}")
    return Validation("ok" if report.ok else "failed", format_validation(report))


def run_plan_diff(repo: Path) -> diff.PlanDiff:
    """The replacement check: the last commit (the repo before the update; the update starts
    from a clean tree and commits nothing before this) against the working tree."""
    with tempfile.TemporaryDirectory(prefix="mlopsgen-before-") as tmp:
        before = Path(tmp) / repo.resolve().name
        before.mkdir()
        archive = subprocess.run(
            ["git", "archive", "--format=tar", "HEAD"], cwd=repo, capture_output=True,
            check=False, env=git_env(repo),
        )
        if archive.returncode != 0:
            return diff.skipped(f"git archive HEAD failed: {archive.stderr.decode().strip()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(before, filter="data")
        try:
            return diff.plan_diff(before, repo)
        except MlopsgenError as error:  # report, don't crash the fleet
            return diff.PlanDiff("failed", errors=[error.message()])


def release_tags(names: Iterable[str]) -> list[str]:
    """The release tags among `names` (PEP 440, no pre-releases), oldest first, as copier
    orders them."""
    from packaging.version import InvalidVersion, Version

    releases: list[tuple[Version, str]] = []
    for tag in names:
        try:
            version = Version(tag)
        except InvalidVersion:
            continue
        if not version.is_prerelease:
            releases.append((version, tag))
    return [tag for _version, tag in sorted(releases)]


def list_tags(source: TemplateSource) -> list[str] | None:
    """Every tag of the template repo (`git ls-remote`); None when it cannot be read."""
    url = source.url
    if is_local_path(url):
        url = str((source.cwd / Path(url).expanduser()).resolve())
    result = subprocess.run(
        ["git", "ls-remote", "--tags", "--refs", "--", url],
        capture_output=True, text=True, check=False, env=git_env(),
    )
    if result.returncode != 0:
        return None
    return [line.split("\t", 1)[-1].removeprefix("refs/tags/")
            for line in result.stdout.splitlines() if line.strip()]


def latest_tag(source: TemplateSource) -> str | None:
    """The newest release tag (PEP 440, no pre-releases), as copier picks it; None if unknown."""
    releases = release_tags(list_tags(source) or [])
    return releases[-1] if releases else None


def _clone(repo: Path, dest: Path) -> Path:
    clone = dest / repo.resolve().name
    result = subprocess.run(
        ["git", "clone", "-q", "--no-hardlinks", str(repo.resolve()), str(clone)],
        capture_output=True, text=True, check=False, env=git_env(),
    )
    if result.returncode != 0:
        raise UpdateError(f"could not clone {repo} for a dry run: {result.stderr.strip()}")
    return clone


def commit_update(repo: Path, to_version: str | None, message: str | None = None) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m",
        message or f"Update to template version {to_version or 'latest'} (mlopsgen update)")


def update_repo(
    repo: Path,
    *,
    vcs_ref: str | None = None,
    template: str | None = None,
    dry_run: bool = False,
    validate: bool = True,
    commit: bool = False,
    cwd: Path | None = None,
    plan_diff: bool = True,
    data: Mapping[str, Any] | None = None,
    message: str | None = None,
) -> UpdateReport:
    """Update one client repo; never raises for conflicts, failed validation or replacements
    (they are in the report), raises `UpdateError` when the update cannot run. `validate`
    runs `mlopsgen validate`, `plan_diff` the replacement check; each is independent.
    `data` changes recorded answers (copier's update with new answers, as `mlopsgen enable`
    does at the repo's own version); `message` is the commit's, with `commit`."""
    answers = ensure_updatable(repo)
    source = resolve_template(repo, answers, template=template, cwd=cwd)
    from_version = str(answers["_commit"])
    target = vcs_ref or latest_tag(source)
    if target == from_version and not source.overridden and not data:
        # already there: skip copier's three renders (a fleet is mostly up-to-date repos)
        return UpdateReport(
            repo=repo, from_version=from_version, to_version=from_version, dry_run=dry_run,
            validation=run_validation(repo) if validate else Validation("skipped", "--no-validate"),
            replacements=diff.skipped("already at this version"),
        )
    checks = Checks(validate=validate, plan_diff=plan_diff)
    if dry_run:
        with tempfile.TemporaryDirectory(prefix="mlopsgen-dry-run-") as tmp:
            clone = _clone(repo, Path(tmp))
            report = _update_in_place(clone, source, vcs_ref, from_version, checks,
                                      dry_run=True, data=data)
            report.repo = repo
            return report
    report = _update_in_place(repo, source, vcs_ref, from_version, checks, dry_run=False,
                              data=data)
    if commit and not report.needs_attention and report.changed:
        commit_update(repo, report.to_version, message)
        report.committed = True
    return report


@dataclass(frozen=True)
class Checks:
    """Which offline checks run after the update."""

    validate: bool = True
    plan_diff: bool = True


def _update_in_place(
    repo: Path,
    source: TemplateSource,
    vcs_ref: str | None,
    from_version: str,
    checks: Checks,
    *,
    dry_run: bool,
    data: Mapping[str, Any] | None = None,
) -> UpdateReport:
    run_copier_update(repo, source, vcs_ref, data)
    report = UpdateReport(
        repo=repo,
        from_version=from_version,
        to_version=recorded_version(repo),
        dry_run=dry_run,
        changed=changed_files(repo),
        conflicts=conflict_files(repo),
    )
    if report.conflicts:
        report.validation = Validation("skipped", "resolve the conflicts first")
        report.replacements = diff.skipped("resolve the conflicts first")
    else:
        report.validation = (
            run_validation(repo) if checks.validate else Validation("skipped", "--no-validate")
        )
        report.replacements = (
            run_plan_diff(repo) if checks.plan_diff and report.changed
            else diff.skipped("--no-plan-diff" if report.changed else "nothing changed")
        )
    if dry_run:
        report.diffstat = diffstat(repo)
    return report


def format_report(report: UpdateReport) -> str:
    lines = [
        f"{report.repo}: {report.from_version} -> {report.to_version}"
        + (" (dry run: nothing written)" if report.dry_run else "")
    ]
    if not report.changed:
        lines.append("  no changes")
    elif report.dry_run and report.diffstat:
        lines.append("  would change:")
        lines.extend(f"    {x}" for x in report.diffstat.splitlines())
    else:
        lines.append(f"  changed ({len(report.changed)}):")
        lines.extend(f"    {x}" for x in report.changed)
    if report.conflicts:
        lines.append(
            f"  CONFLICTS ({len(report.conflicts)}): edit these files, keep the right side of each "
            "<<<<<<< / >>>>>>> block, then `git add` them"
        )
        lines.extend(f"    {x}" for x in report.conflicts)
    skipped = report.validation.status == "skipped"
    lines.append(f"  validate: {report.validation.status}"
                 + (f" ({report.validation.detail})" if skipped else ""))
    if report.validation.failed and report.validation.detail:
        lines.extend(f"    {x}" for x in report.validation.detail.splitlines())
    lines.extend(f"  {x}" for x in report.replacements.lines())
    if report.committed:
        lines.append("  committed")
    elif report.changed and not report.dry_run:
        lines.append("  review with `git diff`, then commit")
    return "\n".join(lines)
