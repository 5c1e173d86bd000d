"""Run `update` or `validate` over many client repos in parallel processes.

Each repo is independent (its own git tree, its own copier run, its own cwd for relative
template paths), so repos run in a process pool; one failing repo never stops the others,
it is reported. The table and the JSON report carry: repo, from version, to version,
conflicts, validation result, what the update would replace or delete (generator.plan_diff;
protected resources make the repo need attention), status.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from generator import update as upd
from generator.client_repo import ANSWERS_FILE, ClientRepo
from generator.errors import FleetError, MlopsgenError

__all__ = ["ACTIONS", "FleetError", "FleetOptions", "RepoResult", "discover_repos", "run_fleet"]

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


def discover_repos(specs: Iterable[Path]) -> list[Path]:
    """Repos from files (one path per line, `#` comments, relative to the file) and
    directories (the directory itself when it is a client repo, else its client-repo
    subdirectories). Order kept, duplicates dropped."""
    found: list[Path] = []
    for spec in specs:
        if spec.is_file():
            for raw in spec.read_text(encoding="utf-8").splitlines():
                line = raw.split("#", 1)[0].strip()
                if line:
                    path = Path(line).expanduser()
                    found.append(path if path.is_absolute() else spec.parent / path)
        elif spec.is_dir():
            if _looks_like_client(spec):
                found.append(spec)
            else:
                found.extend(
                    sorted(p for p in spec.iterdir() if p.is_dir() and _looks_like_client(p))
                )
        else:
            raise FleetError(f"--repos {spec}: no such file or directory")
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    if not unique:
        raise FleetError("no client repos found (a client repo has .copier-answers.yml or .git)")
    return list(unique)


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
    validation = upd.run_validation(repo)
    result.validation = validation.status
    result.validation_detail = validation.detail if validation.failed else ""
    result.status = "invalid" if validation.failed else "ok"


# --------------------------------------------------------------------------- many repos


def default_jobs() -> int:
    """Two processes per CPU: an update spends a third of its time waiting on git and the
    disk (benchmarks/bench_fleet.py: 1.5x with one process per core, 2x with two, on 2 CPUs)."""
    return 2 * (os.cpu_count() or 1)


def run_fleet(
    action: str, repos: Sequence[Path], *, jobs: int = 0, options: FleetOptions | None = None
) -> list[RepoResult]:
    """Results in the order of `repos`. jobs <= 0: `default_jobs()`; 1: serial, in-process."""
    if action not in ACTIONS:
        raise FleetError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    opts = options or FleetOptions()
    workers = jobs if jobs > 0 else default_jobs()
    workers = min(workers, len(repos)) or 1
    if workers == 1:
        return [run_one(action, repo, opts) for repo in repos]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run_one, [action] * len(repos), repos, [opts] * len(repos)))


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
