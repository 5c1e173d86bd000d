"""`mlopsgen validate`: check a rendered repo offline with the real terraform binary.

For every root module (`terraform/bootstrap`, each `terraform/envs/*`), in the offline workspace
(generator.workspace: a scratch copy with local backends and the stand-in providers), run
`terraform init` and `plan` (which validates first; a separate `validate` runs only when plan is
skipped), and `terraform test` where `*.tftest.hcl` files exist (also in modules), all through
generator.tfrunner. Around that: `terraform fmt -check`, the checks over the roots' plans (the
Cloud Build check, generator.cloudbuild; the IAM proof, generator.iam) and checkov when it is
installed.

The result is a `Report`; `format_report` renders the summary table, `Report.to_json` the
machine-readable form. Diagnostics keep terraform's file and line, relative to the repo.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator import plan_summary
from generator.errors import TerraformError, ValidateError
from generator.tfrunner import CommandResult, Diagnostic, PlanOptions, Terraform
from generator.versions import MIN_TERRAFORM
from generator.workspace import Workspace, offline_workspace, root_modules

__all__ = ["STAGES", "Problem", "Report", "RootResult", "ValidateError", "format_report",
           "validate_repo"]

STAGES: tuple[str, ...] = ("fmt", "init", "validate", "plan", "test", "cloudbuild", "iam",
                           "dashboards", "checkov")
TF_STAGES = frozenset({"init", "validate", "plan", "test"})
ROOT_STEPS = ("init", "validate", "plan", "test")
MODULE_STEPS = ("init", "test")  # modules with terraform tests
TF_TIMEOUT_S = 300.0  # each terraform command of validate (offline: seconds, not minutes)
# no refresh (nothing to read back offline), no lock (a scratch state of its own), and 32 at a
# time: the stand-ins answer at once, so latency, not load, limits terraform's walk
OFFLINE_PLAN = PlanOptions(refresh=False, lock=False, parallelism=32)
TOP_TYPES = 6  # resource types listed per root in the summary table
# the bootstrap root creates its Cloud Build triggers only once the GitHub App is installed; so
# that the Cloud Build check sees them on every render, a repo without the answer is planned a
# second time as if it were installed (a failure there is a failure of the second apply)
CONNECTED_PLAN = replace(OFFLINE_PLAN, variables={"github_app_installation_id": "1"})

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Problem:
    """One failure, located as terraform locates it (file relative to the repo, 1-based line)."""

    stage: str
    message: str
    file: str = ""
    line: int = 0
    root: str = ""

    def one_line(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else ""
        if self.file and not self.line:
            where = f"{self.file}: "
        return f"[{self.stage}] {where}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "root": self.root,
            "file": self.file,
            "line": self.line,
            "message": self.message,
        }


@dataclass
class RootResult:
    """What happened in one root module (or one module with terraform tests)."""

    root: str  # relative to the repo, e.g. terraform/envs/dev
    kind: str  # "root" | "module"
    stages: dict[str, str] = field(default_factory=dict)  # stage -> ok | failed | skipped
    summary: plan_summary.PlanSummary | None = None
    tests: str = ""  # "3 passed, 0 failed"
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    plan_json: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems and "failed" not in self.stages.values()

    @property
    def to_add(self) -> Counter[str]:
        """Resources to add by type (creates and replacements)."""
        by_type = self.summary.by_type if self.summary else {}
        return Counter({t: n for t, c in by_type.items() if (n := c.create + c.replace)})

    @property
    def to_change(self) -> int:
        return self.summary.totals.update if self.summary else 0

    @property
    def to_destroy(self) -> int:
        totals = self.summary.totals if self.summary else None
        return totals.delete + totals.replace if totals else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "kind": self.kind,
            "ok": self.ok,
            "stages": self.stages,
            "to_add": dict(sorted(self.to_add.items())),
            "to_change": self.to_change,
            "to_destroy": self.to_destroy,
            "tests": self.tests,
            "problems": [p.to_json() for p in self.problems],
            "warnings": [p.to_json() for p in self.warnings],
            "seconds": round(self.seconds, 2),
        }


@dataclass
class Report:
    dest: Path
    roots: list[RootResult] = field(default_factory=list)
    repo_problems: list[Problem] = field(default_factory=list)  # fmt, cloudbuild, iam, checkov
    warnings: list[Problem] = field(default_factory=list)  # repo-level: deprecated values...
    stages: dict[str, str] = field(default_factory=dict)  # repo-level stages
    skipped: tuple[str, ...] = ()
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    iam: dict[str, Any] = field(default_factory=dict)  # the IAM proof's counts and report

    @property
    def plans(self) -> dict[str, dict[str, Any]]:
        """Each planned root's `terraform show -json` document, by repo-relative path."""
        return {r.root: r.plan_json for r in self.roots if r.kind == "root" and r.plan_json}

    @property
    def ok(self) -> bool:
        return not self.repo_problems and all(r.ok for r in self.roots)

    @property
    def problems(self) -> list[Problem]:
        out = list(self.repo_problems)
        for r in self.roots:
            out += r.problems
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "dest": str(self.dest),
            "ok": self.ok,
            "skipped": list(self.skipped),
            "stages": self.stages,
            "roots": [r.to_json() for r in self.roots],
            "problems": [p.to_json() for p in self.problems],
            "warnings": [p.to_json() for p in self.warnings],
            "notes": self.notes,
            "iam": self.iam,
            "seconds": round(self.seconds, 2),
        }


# ---------------------------------------------------------------------------------------------
# discovery


def find_test_modules(dest: Path, roots: Sequence[Path]) -> list[Path]:
    """Non-root module directories under terraform/ that carry terraform test files."""
    found = set()
    for f in (dest / "terraform").glob("**/*.tftest.hcl"):
        if ".terraform" in f.parts:
            continue
        found.add(f.parent.parent if f.parent.name == "tests" else f.parent)
    return sorted(m for m in found if m not in set(roots) and any(m.glob("*.tf")))


def has_tests(module: Path) -> bool:
    return any(module.glob("*.tftest.hcl")) or any(module.glob("tests/*.tftest.hcl"))


# ---------------------------------------------------------------------------------------------
# terraform's diagnostics as problems


def problem_from_diagnostic(
    diag: Diagnostic, stage: str, root: str, workdir: Path, hint: Callable[[str], str]
) -> Problem:
    """A terraform diagnostic as a Problem with the file relative to the repo."""
    filename = diag.filename or ""
    if filename:
        full = (workdir / root / filename) if not os.path.isabs(filename) else Path(filename)
        with contextlib.suppress(ValueError):
            filename = os.path.relpath(os.path.normpath(full), workdir)
    summary = diag.summary.strip()
    detail = " ".join(diag.detail.split())
    message = summary + (f" ({diag.address})" if diag.address and not filename else "")
    if detail:
        message += f": {detail}"
    message += hint(summary + " " + detail)
    return Problem(stage, message, filename, diag.line or 0, root)


def test_summary(events: Iterable[Mapping[str, Any]]) -> str:
    for ev in events:
        if ev.get("type") == "test_summary":
            s = ev.get("test_summary") or {}
            return f"{s.get('passed', 0)} passed, {s.get('failed', 0)} failed" + (
                f", {s.get('errored', 0)} errored" if s.get("errored") else ""
            )
    return ""


def failed_tests(events: Iterable[Mapping[str, Any]], root: str) -> list[Problem]:
    out = []
    for ev in events:
        run = ev.get("test_run") or {} if ev.get("type") == "test_run" else {}
        if run.get("progress") == "complete" and run.get("status") in ("fail", "error"):
            where = f"{root}/{run.get('path', '')}".rstrip("/")
            out.append(Problem("test", f"run {run.get('run')!r} {run.get('status')}ed", where, 0,
                               root))
    return out


# ---------------------------------------------------------------------------------------------
# hints on top of terraform's own messages

_TYPE_RE = re.compile(r'resource type "([a-z0-9_]+)"|data source "([a-z0-9_]+)"')


def type_hint(text: str) -> str:
    """Explain 'provider does not support resource type' in offline terms."""
    if "does not support" not in text:
        return ""
    m = _TYPE_RE.search(text)
    if not m:
        return ""
    name = m.group(1) or m.group(2)
    key = name if m.group(1) else f"data.{name}"
    from generator.offline import schema

    google = schema.provider_schema("google")
    beta = schema.provider_schema("google-beta")
    if name.startswith("google_") and key not in google.all_types and key in beta.all_types:
        return (
            f" -- hint: {name} exists only in hashicorp/google-beta: set "
            "`provider = google-beta` on it and declare google-beta in required_providers"
        )
    for ps in schema.providers():
        if key in ps.all_types and key not in ps.types:
            return (
                f" -- hint: {ps.source} {ps.version} has {name}, but the offline schema snapshot "
                "does not: add it to EXTRA_TYPES in tools/refresh_provider_schemas.py and refresh"
            )
    return ""


# ---------------------------------------------------------------------------------------------
# running


class ModuleChecker:
    """Runs the terraform stages of one module of the offline workspace."""

    def __init__(self, space: Workspace, skip: frozenset[str], want_triggers: bool) -> None:
        self.space = space
        self.skip = skip
        self.want_triggers = want_triggers

    def record(self, res: RootResult, stage: str, result: CommandResult) -> bool:
        """Problems and warnings of one stage into `res`; whether it succeeded (a plan with
        changes exits 2: `-detailed-exitcode`)."""
        for diag in result.diagnostics:
            p = problem_from_diagnostic(diag, stage, res.root, self.space.repo, type_hint)
            (res.problems if diag.severity == "error" else res.warnings).append(p)
        failed = result.returncode not in ((0, 2) if stage == "plan" else (0,))
        if stage == "test" and failed:
            res.problems += failed_tests(result.events, res.root)
        if failed and not any(p.stage == stage for p in res.problems):
            tail = " | ".join(result.output_tail(8))
            res.problems.append(
                Problem(stage, f"terraform {stage} failed (exit {result.returncode}): {tail}",
                        root=res.root)
            )
        res.stages[stage] = "failed" if failed else "ok"
        return not failed

    def plan(self, tf: Terraform, res: RootResult, module: Path) -> bool:
        out = self.space.repo.parent / "plans" / (res.root.replace("/", "_") + ".tfplan")
        planned = tf.plan(out, OFFLINE_PLAN, check=False)
        ok = self.record(res, "plan", planned.command)
        if ok:
            res.summary = plan_summary.summarize(planned.plan_json)
            res.plan_json = planned.plan_json
        if ok and self.want_triggers and _needs_connected_plan(module, planned.plan_json):
            connected = tf.plan(out, CONNECTED_PLAN, check=False)
            if self.record(res, "plan", connected.command):
                res.plan_json = connected.plan_json  # the triggers the Cloud Build check needs
        return ok

    def run_module(self, module: Path, kind: str) -> RootResult:
        start = time.monotonic()
        res = RootResult(module.relative_to(self.space.repo).as_posix(), kind)
        tf = Terraform(module, env=self.space.env, timeout_s=TF_TIMEOUT_S, isolated=True)
        steps = ROOT_STEPS if kind == "root" else MODULE_STEPS
        for step in steps:
            if step in self.skip or (step == "test" and not has_tests(module)):
                res.stages[step] = "skipped"
            elif step == "validate" and "plan" not in self.skip:
                # plan runs the same validation walk first and reports the same diagnostics
                res.stages[step] = "in plan"
            elif not self.run_step(tf, res, module, step) and step in ("init", "validate"):
                break
        for step in steps:
            res.stages.setdefault(step, "skipped")
        res.seconds = time.monotonic() - start
        return res

    def run_step(self, tf: Terraform, res: RootResult, module: Path, step: str) -> bool:
        if step == "init":
            return self.record(res, "init", tf.init(check=False))
        if step == "validate":
            return self.record(res, "validate", tf.validate_result())
        if step == "plan":
            return self.plan(tf, res, module)
        result = tf.test()
        res.tests = test_summary(result.events)
        return self.record(res, "test", result)


def _needs_connected_plan(module: Path, plan_json: Mapping[str, Any]) -> bool:
    """A root that declares the GitHub App variable but planned no trigger without it."""
    declares = any("github_app_installation_id" in f.read_text(errors="replace")
                   for f in module.glob("*.tf"))
    planned = any(rc.get("type") == "google_cloudbuild_trigger"
                  for rc in plan_json.get("resource_changes", []))
    return declares and not planned


def check_fmt(dest: Path) -> list[Problem]:
    """`terraform fmt -check` over the repo's terraform/ (the one fmt check of mlopsgen)."""
    tf_dir = dest / "terraform"
    if not tf_dir.is_dir():
        return []
    try:
        files = Terraform(tf_dir, timeout_s=TF_TIMEOUT_S, isolated=True).fmt_check()
    except TerraformError as exc:
        return [Problem("fmt", str(exc))]
    return [
        Problem("fmt", "not in canonical format: run `terraform fmt -recursive terraform`",
                (Path("terraform") / f).as_posix())
        for f in files
    ]


@dataclass
class PlanCheck:
    """What a check over the roots' plans found (problems fail validate, warnings do not)."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # for the JSON report


def check_cloudbuild(dest: Path, plans: Mapping[str, Mapping[str, Any]]) -> PlanCheck:
    """The Cloud Build check over the roots' plans."""
    from generator import cloudbuild

    found = [
        (f, Problem("cloudbuild", f.message, "" if f.address else f.file, f.line,
                    f.file if f.address else ""))
        for f in cloudbuild.check_repo(dest, plans)
    ]
    return PlanCheck([p for f, p in found if f.severity == "error"],
                     [p for f, p in found if f.severity != "error"])


def check_iam(dest: Path, plans: Mapping[str, Mapping[str, Any]]) -> PlanCheck:
    """The IAM proof over the roots' plans: declared needs against grants, role names, and the
    least-privilege report (warnings, and in `data`)."""
    from generator import iam

    missing = sorted(r.relative_to(dest).as_posix() for r in root_modules(dest)
                     if r.relative_to(dest).as_posix() not in plans)
    if missing:  # needs of those roots' identities would all look unmet
        return PlanCheck(warnings=[Problem("iam", "not run: no plan of " + ", ".join(missing)
                                           + " (the plan stage was skipped or failed)")],
                         data={"skipped": missing})
    result = iam.check_repo(dest, plans)
    found = [(f, Problem("iam", f.message, f.file, f.line, f.root)) for f in result.findings]
    return PlanCheck([p for f, p in found if f.severity == "error"],
                     [p for f, p in found if f.severity != "error"], result.to_json())


def check_dashboards(dest: Path, plans: Mapping[str, Mapping[str, Any]]) -> PlanCheck:
    """Every planned Cloud Monitoring dashboard's JSON against the Monitoring API v1 Dashboard
    schema (generator/monitoring, from Google's discovery document)."""
    from generator import monitoring

    return PlanCheck([Problem("dashboards", f.one_line(), "", 0, f.root)
                      for f in monitoring.check_plans(plans)])


# The checks that read the roots' plans (after the plan stage), by stage name.
PLAN_CHECKS: dict[str, Callable[[Path, Mapping[str, Mapping[str, Any]]], PlanCheck]] = {
    "cloudbuild": check_cloudbuild,
    "iam": check_iam,
    "dashboards": check_dashboards,
}


def check_checkov(dest: Path, checkov: str) -> list[Problem]:
    r = subprocess.run(
        [checkov, "-d", str(dest), "--framework", "terraform", "--skip-download", "-o", "json",
         "--quiet", "--compact"],
        cwd=dest, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
        timeout=TF_TIMEOUT_S,
    )
    try:
        data = json.loads(r.stdout) if r.stdout.strip() else {}
    except ValueError:
        return [Problem("checkov", f"checkov output is not JSON (exit {r.returncode})")]
    out = [
        Problem(
            "checkov",
            f"{chk.get('check_id')}: {chk.get('check_name')} ({chk.get('resource')})",
            str(chk.get("file_path", "")).lstrip("/"),
            int((chk.get("file_line_range") or [0])[0] or 0),
        )
        for rep in (data if isinstance(data, list) else [data])
        for chk in (rep.get("results") or {}).get("failed_checks", [])
    ]
    if not out and r.returncode not in (0, 1):
        out.append(Problem("checkov", f"checkov failed (exit {r.returncode}): {r.stderr[-300:]}"))
    return out


def _job_order(job: tuple[Path, str]) -> tuple[int, str]:
    return (0 if job[1] == "root" else 1, str(job[0]))


def _preconditions(dest: Path, skipped: frozenset[str]) -> list[Path]:
    """The repo's roots; ValidateError when validate cannot run at all."""
    unknown = skipped - set(STAGES)
    if unknown:
        raise ValidateError(f"unknown stage(s) to skip: {', '.join(sorted(unknown))}")
    if not dest.is_dir():
        raise ValidateError(f"{dest} is not a directory")
    tf_needed = not skipped >= (TF_STAGES | {"fmt"})
    if tf_needed and shutil.which("terraform") is None:
        raise ValidateError(
            f"terraform is not on PATH: install Terraform >= {MIN_TERRAFORM} or skip the terraform "
            "stages (--skip fmt --skip init --skip validate --skip plan --skip test)"
        )
    roots = root_modules(dest)
    if not roots and not skipped >= TF_STAGES:
        raise ValidateError(
            f"{dest}: no terraform/bootstrap or terraform/envs/* root module: "
            "is it a rendered repo?"
        )
    return roots


def _side_checks(dest: Path, skipped: frozenset[str], report: Report
                 ) -> dict[str, Callable[[], list[Problem]]]:
    """Repo-level checks that run beside terraform (checkov takes seconds of CPU)."""
    checks: dict[str, Callable[[], list[Problem]]] = {}
    if "fmt" not in skipped:
        checks["fmt"] = lambda: check_fmt(dest)
    if "checkov" not in skipped:
        checkov = shutil.which("checkov")
        if checkov:
            checks["checkov"] = lambda: check_checkov(dest, checkov)
        else:
            report.stages["checkov"] = "not installed"
    return checks


def _run_terraform(dest: Path, roots: list[Path], skipped: frozenset[str], jobs: int,
                   say: Progress) -> tuple[list[RootResult], list[str]]:
    """Every root (and module with tests) in one offline workspace; results in repo order."""
    with offline_workspace(dest) as space:
        for note in space.notes:
            say(note)
        # the Cloud Build check and the IAM proof both read the triggers
        checker = ModuleChecker(space, skipped, want_triggers=not skipped >= {"cloudbuild", "iam"})
        w_roots = [space.path(r.relative_to(dest)) for r in roots]
        jobs_list: list[tuple[Path, str]] = [(r, "root") for r in w_roots]
        if "test" not in skipped:
            jobs_list += [(m, "module") for m in find_test_modules(space.repo, w_roots)]
        # longest first: module tests of the platform composition take longest
        jobs_list.sort(key=lambda j: j[1] != "module" or j[0].name != "mlops_platform")
        say(f"terraform: {len(jobs_list)} module(s), {max(1, jobs)} at a time, offline stand-in "
            "providers")
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(lambda j: checker.run_module(*j), jobs_list))
        order = {p: i for i, (p, _k) in enumerate(sorted(jobs_list, key=_job_order))}
        return sorted(results, key=lambda r: order[space.path(r.root)]), list(space.notes)


def _collect(report: Report, name: str, future: Future[list[Problem]]) -> None:
    try:
        found = future.result()
    except Exception as exc:  # a crashing checker is a finding, not a traceback
        found = [Problem(name, f"the {name} check crashed: {exc!r}")]
    report.repo_problems += found
    report.stages[name] = "failed" if found else "ok"


def _collect_plan_check(report: Report, name: str, future: Future[PlanCheck]) -> None:
    try:
        found = future.result()
    except Exception as exc:  # a crashing checker is a finding, not a traceback
        found = PlanCheck([Problem(name, f"the {name} check crashed: {exc!r}")])
    report.repo_problems += found.problems
    report.warnings += found.warnings
    report.stages[name] = "failed" if found.problems else (
        "not run" if found.data.get("skipped") else "ok")
    if name == "iam":
        report.iam = found.data


def validate_repo(
    dest: Path,
    skip: Iterable[str] = (),
    *,
    jobs: int = 3,
    progress: Progress | None = None,
) -> Report:
    """Validate a rendered repo offline; never raises for findings, only when it cannot run."""
    dest = Path(dest).resolve()
    skipped = frozenset(skip)
    roots = _preconditions(dest, skipped)
    say = progress or (lambda _m: None)
    start = time.monotonic()
    report = Report(dest, skipped=tuple(s for s in STAGES if s in skipped))
    side_checks = _side_checks(dest, skipped, report)
    with ThreadPoolExecutor(max_workers=max(1, len(side_checks) + len(PLAN_CHECKS))) as side:
        futures = {name: side.submit(fn) for name, fn in side_checks.items()}
        if futures:
            say(", ".join(futures) + " (in the background)")
        if not skipped >= TF_STAGES and roots:
            report.roots, report.notes = _run_terraform(dest, roots, skipped, jobs, say)
        plan_checks = {name: side.submit(check, dest, report.plans)
                       for name, check in PLAN_CHECKS.items() if name not in skipped}
        for name, future in futures.items():
            _collect(report, name, future)
        for name, plan_check in plan_checks.items():
            _collect_plan_check(report, name, plan_check)
    report.seconds = time.monotonic() - start
    return report


# ---------------------------------------------------------------------------------------------
# output


def _adds_text(r: RootResult) -> str:
    if "plan" not in r.stages or r.stages["plan"] != "ok":
        return "-"
    total = sum(r.to_add.values())
    ranked = sorted(r.to_add.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{n} {t}" for t, n in ranked[:TOP_TYPES]]
    if len(ranked) > TOP_TYPES:
        parts.append(f"... {len(ranked) - TOP_TYPES} more types (--json lists all)")
    extra = []
    if r.to_change:
        extra.append(f"{r.to_change} to change")
    if r.to_destroy:
        extra.append(f"{r.to_destroy} to destroy")
    head = f"{total} to add"
    return "; ".join([head + (": " + ", ".join(parts) if parts else ""), *extra])


def format_report(report: Report) -> str:
    """Human-readable summary: one row per root, then every problem with file:line."""
    lines = [f"mlopsgen validate {report.dest} (offline stand-in providers)"]
    for stage in ("fmt", *PLAN_CHECKS, "checkov"):
        if stage in report.stages:
            lines.append(f"  {stage:<10} {report.stages[stage]}")
    if report.roots:
        width = max(len(r.root) for r in report.roots)
        lines.append("")
        marks = {"ok": "ok", "failed": "FAIL", "in plan": "(plan)"}
        rows = []
        for r in report.roots:
            stages = " ".join(f"{s}:{marks.get(v, '-')}" for s, v in r.stages.items())
            tail = _adds_text(r) if r.kind == "root" else (r.tests or "")
            if r.kind == "root" and r.tests:
                tail += f"; tests {r.tests}"
            rows.append((r.root, "ok" if r.ok else "FAILED", stages, tail))
        sw = max(len(row[2]) for row in rows)
        lines.append(f"  {'root':<{width}}  result  {'stages':<{sw}}  resources / tests")
        for root, result, stages, tail in rows:
            lines.append(f"  {root:<{width}}  {result:<6}  {stages:<{sw}}  {tail}")
    problems = report.problems
    if problems:
        lines.append("")
        lines.append(f"{len(problems)} problem(s):")
        lines += [f"  {p.one_line()}" for p in problems]
    if report.warnings:
        lines.append("")
        lines.append(f"{len(report.warnings)} warning(s):")
        lines += [f"  {p.one_line()}" for p in report.warnings]
    lines.append("")
    verdict = "OK" if report.ok else "FAILED"
    lines.append(
        f"{verdict} in {report.seconds:.1f}s"
        + (f" (skipped: {', '.join(report.skipped)})" if report.skipped else "")
    )
    return "\n".join(lines)
