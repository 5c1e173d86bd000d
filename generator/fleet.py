"""Run `update` or `validate` over many client repos in parallel processes.

Each repo is independent (its own git tree, its own copier run, its own cwd for relative
template paths), so repos run in a process pool; one failing repo never stops the others,
it is reported. The table and the JSON report carry: repo, from version, to version,
conflicts, validation result, what the update would replace or delete (generator.plan_diff;
protected resources make the repo need attention), status. `fleet validate` records each
repo's result in its `.mlopsgen/validation.json` (generator/update_record.py), which
`fleet status` (generator/fleet_status.py) shows.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from generator import git_refs
from generator import update as upd
from generator import update_record as record
from generator.client_repo import ANSWERS_FILE, ClientRepo
from generator.errors import FleetError, MlopsgenError
from generator.github_api import is_full_name, repo_of_url

__all__ = [
    "ACTIONS", "Entry", "FleetError", "FleetOptions", "RepoResult", "discover_entries",
    "discover_repos", "run_fleet",
]

ACTIONS = ("update", "validate")


@dataclass(frozen=True)
class FleetOptions:
    vcs_ref: str | None = None
    template: str | None = None
    dry_run: bool = False
    validate: bool = True
    commit: bool = False
    plan_diff: bool = True


@dataclass
class RepoResult:
    repo: str
    # updated | up-to-date | conflicts | invalid | destroys | plan-failed | error | ok
    status: str
    from_version: str | None = None
    to_version: str | None = None
    conflicts: list[str] = field(default_factory=list)
    validation: str = "skipped"
    validation_detail: str = ""
    changed: int = 0
    error: str = ""
    seconds: float = 0.0
    replacements: dict[str, Any] = field(default_factory=dict)  # PlanDiff.to_json()

    @property
    def needs_attention(self) -> bool:
        return self.status in ("conflicts", "invalid", "destroys", "plan-failed", "error")

    def replaced(self) -> str:
        """The table's cell: how many resources the update would replace or delete."""
        if self.replacements.get("status") != "ok":
            return "-" if not self.replacements else str(self.replacements.get("status"))
        n, protected = len(self.replacements["destructions"]), self.replacements["protected"]
        return f"{n} ({protected} PROTECTED)" if protected else str(n)


# --------------------------------------------------------------------------- repo lists


def _looks_like_client(path: Path) -> bool:
    return (path / ANSWERS_FILE).is_file() or (path / ".git").exists()


def _list_lines(spec: Path) -> list[str]:
    """The entries of a repo list file: one a line, `#` comments."""
    lines = (raw.split("#", 1)[0].strip() for raw in spec.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _listed_path(spec: Path, line: str) -> Path:
    path = Path(line).expanduser()
    return path if path.is_absolute() else spec.parent / path


def _dir_repos(spec: Path) -> list[Path]:
    """The directory itself when it is a client repo, else its client-repo subdirectories."""
    if _looks_like_client(spec):
        return [spec]
    return sorted(p for p in spec.iterdir() if p.is_dir() and _looks_like_client(p))


def discover_repos(specs: Iterable[Path]) -> list[Path]:
    """Repos from files (one path per line, `#` comments, relative to the file) and
    directories (the directory itself when it is a client repo, else its client-repo
    subdirectories). Order kept, duplicates dropped."""
    found: list[Path] = []
    for spec in specs:
        if spec.is_file():
            found.extend(_listed_path(spec, line) for line in _list_lines(spec))
        elif spec.is_dir():
            found.extend(_dir_repos(spec))
        else:
            raise FleetError(f"--repos {spec}: no such file or directory")
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    if not unique:
        raise FleetError("no client repos found (a client repo has .copier-answers.yml or .git)")
    return list(unique)


@dataclass(frozen=True)
class Entry:
    """One repo of `fleet status`: a local clone, or a GitHub repo read through the API."""

    name: str  # as shown: the clone's path, or owner/name
    path: Path | None = None
    github: str | None = None
    # a bare owner/name line with no such local directory: said in its error, if it has one
    missing_path: Path | None = None


def github_entry(text: str, host: str = "github.com") -> str | None:
    """owner/name of a GitHub entry: `github:owner/name`, a repo URL on `host`, or a bare
    `owner/name` (callers first check it is not a local path)."""
    if text.startswith("github:"):
        name = text.removeprefix("github:").strip("/").removesuffix(".git")
        return name if is_full_name(name) else None
    return repo_of_url(text, host) or (text if is_full_name(text) else None)


def _line_entry(spec: Path, line: str, host: str) -> Entry:
    explicit = line.startswith("github:") or "://" in line or line.startswith("git@")
    name = github_entry(line, host)
    path = _listed_path(spec, line)
    if name and (explicit or not path.exists()):
        return Entry(name, github=name, missing_path=None if explicit else path)
    return Entry(str(path), path=path)


def discover_entries(specs: Iterable[str], *, host: str = "github.com") -> list[Entry]:
    """`fleet status` entries: as `discover_repos`, and GitHub repos (`owner/name`,
    `github:owner/name` or a repo URL), given directly or listed in a file. A bare
    `owner/name` is a GitHub repo only when no such local path exists."""
    found: list[Entry] = []
    for spec in specs:
        path = Path(spec).expanduser()
        if path.is_file():
            found.extend(_line_entry(path, line, host) for line in _list_lines(path))
        elif path.is_dir():
            found.extend(Entry(str(p), path=p) for p in _dir_repos(path))
        elif name := github_entry(spec, host):
            found.append(Entry(name, github=name))
        else:
            raise FleetError(f"--repos {spec}: no such file or directory, nor a GitHub "
                             "owner/name")
    unique: dict[str, Entry] = {}
    for entry in found:
        key = f"gh:{entry.github.lower()}" if entry.github else str(Path(entry.name).resolve())
        unique.setdefault(key, entry)
    if not unique:
        raise FleetError("no client repos found (a client repo has .copier-answers.yml or .git)")
    return list(unique.values())


# --------------------------------------------------------------------------- one repo


def run_one(action: str, repo: Path, options: FleetOptions) -> RepoResult:
    """Never raises: every outcome is a result (runs in a worker process)."""
    started = time.monotonic()
    result = RepoResult(repo=str(repo), status="error")
    try:
        if action == "update":
            _update(repo, options, result)
        elif action == "validate":
            _validate(repo, result)
        else:
            result.error = f"unknown action {action!r}"
    except MlopsgenError as error:
        result.status, result.error = "error", error.message()
    except Exception as error:  # one broken repo must not stop the fleet
        result.status, result.error = "error", f"{type(error).__name__}: {error}"
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _update(repo: Path, options: FleetOptions, result: RepoResult) -> None:
    report = upd.update_repo(
        repo, vcs_ref=options.vcs_ref, template=options.template, dry_run=options.dry_run,
        validate=options.validate, commit=options.commit, plan_diff=options.plan_diff,
    )
    result.from_version, result.to_version = report.from_version, report.to_version
    result.conflicts = report.conflicts
    result.validation = report.validation.status
    result.validation_detail = report.validation.detail if report.validation.failed else ""
    result.changed = len(report.changed)
    result.replacements = report.replacements.to_json()
    if report.conflicts:
        result.status = "conflicts"
    elif report.validation.failed:
        result.status = "invalid"
    elif report.replacements.needs_attention:
        result.status = "destroys" if report.replacements.protected else "plan-failed"
    elif report.changed:
        result.status = "updated"
    else:
        result.status = "up-to-date"


def _validate(repo: Path, result: RepoResult) -> None:
    _src, version = ClientRepo.open(repo).require_template_record()
    result.from_version = result.to_version = version
    result.conflicts = upd.conflict_files(repo)
    if result.conflicts:  # conflict markers fail validation anyway; name the real cause
        result.status, result.validation = "conflicts", "skipped"
        return
    head = git_refs.head(repo)
    validation = upd.run_validation(repo)
    result.validation = validation.status
    result.validation_detail = validation.detail if validation.failed else ""
    result.status = "invalid" if validation.failed else "ok"
    record.write_validation_record(repo, record.ValidationRecord(
        status=validation.status, head=head, template_version=version, at=record.now_utc(),
        summary=_first_lines(validation.detail),
    ))


def _first_lines(text: str, count: int = 12) -> str:
    return "\n".join(text.splitlines()[:count])


# --------------------------------------------------------------------------- many repos


def default_jobs() -> int:
    """Two processes per CPU: an update spends a third of its time waiting on git and the
    disk (benchmarks/bench_fleet.py: 1.5x with one process per core, 2x with two, on 2 CPUs)."""
    return 2 * (os.cpu_count() or 1)


def run_fleet(
    action: str,
    repos: Sequence[Path],
    *,
    jobs: int = 0,
    options: FleetOptions | None = None,
    on_done: Callable[[RepoResult], None] | None = None,
) -> list[RepoResult]:
    """Results in the order of `repos`. jobs <= 0: `default_jobs()`; 1: serial, in-process.
    `on_done` is called (in this process) with each result as it arrives (progress)."""
    if action not in ACTIONS:
        raise FleetError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    opts = options or FleetOptions()
    done = on_done or (lambda _result: None)
    workers = jobs if jobs > 0 else default_jobs()
    workers = min(workers, len(repos)) or 1
    results: list[RepoResult] = []
    if workers == 1:
        for repo in repos:
            results.append(run_one(action, repo, opts))
            done(results[-1])
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run_one, action, repo, opts): i for i, repo in enumerate(repos)}
        ordered: dict[int, RepoResult] = {}
        for future in as_completed(futures):
            ordered[futures[future]] = future.result()
            done(ordered[futures[future]])
    return [ordered[i] for i in range(len(repos))]


def format_table(results: Sequence[RepoResult]) -> str:
    headers = ("repo", "from", "to", "conflicts", "validation", "replaces", "status")
    rows = [
        (
            r.repo,
            r.from_version or "-",
            r.to_version or "-",
            ", ".join(r.conflicts) if r.conflicts else "0",
            r.validation,
            r.replaced(),
            r.status,
        )
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    for r in results:
        if r.error:
            lines.append(f"{r.repo}: {r.error}")
        elif r.validation_detail:
            detail = r.validation_detail.replace("\n", "\n  ")
            lines.append(f"{r.repo}: validation failed:\n  {detail}")
        lines.extend(_replacement_lines(r))
    attention = sum(r.needs_attention for r in results)
    lines.append(f"{len(results)} repos, {attention} need attention")
    return "\n".join(lines)


def _replacement_lines(r: RepoResult) -> list[str]:
    """What the update would destroy, for repos where that needs a person."""
    if r.status not in ("destroys", "plan-failed"):
        return []
    lines = [f"{r.repo}: the update would replace or delete:"]
    for d in r.replacements.get("destructions", ()):
        mark = f"  !! PROTECTED: {d['protected']}" if d.get("protected") else ""
        lines.append(f"  {d['action'].upper():<7} {d['address']} [{d['root']}]{mark}")
    lines += [f"  error: {e}" for e in r.replacements.get("errors", ())]
    return lines


def json_report(action: str, results: Sequence[RepoResult], jobs: int) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {
        "action": action,
        "jobs": jobs,
        "repos": [{**asdict(r), "needs_attention": r.needs_attention} for r in results],
        "summary": {
            "total": len(results),
            "needs_attention": sum(r.needs_attention for r in results),
            "by_status": counts,
        },
    }


def write_json_report(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
