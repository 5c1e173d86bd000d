"""`mlopsgen validate`: check a rendered repo offline with the real terraform binary.

For every root module (`terraform/bootstrap`, each `terraform/envs/*`), in a scratch copy of the
repo with a local backend override, run `terraform init`, `validate` and `plan` against the
stand-in providers (generator.offline), and `terraform test` where `*.tftest.hcl` files exist
(also in modules). Around that: `terraform fmt -check`, the Cloud Build config check
(generator.cloudbuild_check) and checkov when it is installed.

The result is a `Report`; `format_report` renders the summary table, `Report.to_json` the
machine-readable form. Diagnostics keep terraform's file and line, relative to the repo.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STAGES: tuple[str, ...] = ("fmt", "init", "validate", "plan", "test", "cloudbuild", "checkov")
TF_TIMEOUT_S = 300.0
TOP_TYPES = 6  # resource types listed per root in the summary table
OVERRIDE_NAME = "zz_mlopsgen_offline_override.tf"
_COPY_IGNORE = shutil.ignore_patterns(".git", ".terraform", "*.tfstate", "*.tfstate.backup")

Progress = Callable[[str], None]


class ValidateError(RuntimeError):
    """validate could not run at all (no terraform, not a rendered repo)."""


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
    to_add: Counter[str] = field(default_factory=Counter)  # resource type -> count
    to_change: int = 0
    to_destroy: int = 0
    tests: str = ""  # "3 passed, 0 failed"
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and "failed" not in self.stages.values()

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
    repo_problems: list[Problem] = field(default_factory=list)  # fmt, cloudbuild, checkov
    stages: dict[str, str] = field(default_factory=dict)  # repo-level stages
    skipped: tuple[str, ...] = ()
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

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
            "notes": self.notes,
            "seconds": round(self.seconds, 2),
        }


# ---------------------------------------------------------------------------------------------
# discovery


def find_roots(dest: Path) -> list[Path]:
    """Root modules of a rendered repo: terraform/bootstrap, then terraform/envs/* (sorted)."""
    tf = dest / "terraform"
    roots = []
    if _has_tf(tf / "bootstrap"):
        roots.append(tf / "bootstrap")
    envs = tf / "envs"
    if envs.is_dir():
        roots += sorted(p for p in envs.iterdir() if p.is_dir() and _has_tf(p))
    return roots


def find_test_modules(dest: Path, roots: Sequence[Path]) -> list[Path]:
    """Non-root module directories under terraform/ that carry terraform test files."""
    found = set()
    for f in (dest / "terraform").glob("**/*.tftest.hcl"):
        if ".terraform" in f.parts:
            continue
        module = f.parent.parent if f.parent.name == "tests" else f.parent
        found.add(module)
    return sorted(m for m in found if m not in set(roots) and _has_tf(m))


def has_tests(module: Path) -> bool:
    return any(module.glob("*.tftest.hcl")) or any(module.glob("tests/*.tftest.hcl"))


def _has_tf(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.tf"))


def has_backend_block(module: Path) -> bool:
    pattern = re.compile(r'^\s*backend\s+"', re.M)
    return any(pattern.search(f.read_text(errors="replace")) for f in module.glob("*.tf"))


def backend_override(state_path: Path) -> str:
    return (
        "# written by mlopsgen validate (offline): keep state in the scratch copy\n"
        "terraform {\n"
        '  backend "local" {\n'
        f"    path = {json.dumps(str(state_path))}\n"
        "  }\n"
        "}\n"
    )


GIT_MODULE_RE = re.compile(
    r'(source\s*=\s*)"git::[^"]*?//(terraform/modules/[A-Za-z0-9_\-]+)(?:\?ref=([^"&]+))?[^"]*"'
)


def localize_git_modules(work: Path, generator_root: Path) -> list[str]:
    """Point git-sourced modules of this generator (`git::URL//terraform/modules/X?ref=R`) at a
    local copy, so `terraform init` needs no network: the ref's tree from the generator's own
    git repo when it has that commit, else the generator's working copy. Returns notes."""
    notes: list[str] = []
    extracted: dict[str, Path | None] = {}

    def local_modules(ref: str) -> Path | None:
        if ref in extracted:
            return extracted[ref]
        target: Path | None = None
        if ref and (generator_root / ".git").exists():
            dest = work.parent / f"modules-{re.sub(r'[^A-Za-z0-9_.-]', '_', ref)}"
            archive = subprocess.run(
                ["git", "-C", str(generator_root), "archive", ref, "terraform/modules"],
                capture_output=True,
            )
            if archive.returncode == 0:
                dest.mkdir(parents=True, exist_ok=True)
                with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                    tar.extractall(dest, filter="data")
                target = dest
        if target is None and (generator_root / "terraform" / "modules").is_dir():
            target = generator_root
            notes.append(
                f"git module ref {ref or '(none)'} is not in {generator_root}: "
                "validated against the generator's working copy of terraform/modules"
            )
        extracted[ref] = target
        return target

    for tf in sorted(work.glob("terraform/**/*.tf")):
        text = tf.read_text(errors="replace")
        if "git::" not in text:
            continue

        def swap(m: re.Match[str], tf: Path = tf) -> str:
            base = local_modules(m.group(3) or "")
            if base is None:
                return m.group(0)
            rel = os.path.relpath(base / m.group(2), tf.parent)
            return f"{m.group(1)}{json.dumps(rel)}"

        new_text = GIT_MODULE_RE.sub(swap, text)
        if new_text != text:
            tf.write_text(new_text)
    return notes


# ---------------------------------------------------------------------------------------------
# terraform JSON output


def parse_json_lines(text: str) -> list[dict[str, Any]]:
    """terraform's `-json` UI: one JSON object per line (other lines ignored)."""
    events = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def diagnostics_of(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Diagnostic objects from `-json` UI events or a `validate -json` document."""
    out: list[Mapping[str, Any]] = []
    for ev in events:
        if "diagnostics" in ev and isinstance(ev["diagnostics"], list):  # validate -json
            out += ev["diagnostics"]
        elif ev.get("type") == "diagnostic" and isinstance(ev.get("diagnostic"), dict):
            out.append(ev["diagnostic"])
    return out


def problem_from_diagnostic(
    diag: Mapping[str, Any], stage: str, root: str, workdir: Path, hint: Callable[[str], str]
) -> Problem:
    """A terraform diagnostic as a Problem with the file relative to the repo."""
    rng = diag.get("range") or {}
    filename = str(rng.get("filename") or "")
    line = int((rng.get("start") or {}).get("line") or 0)
    if filename:
        full = (workdir / root / filename) if not os.path.isabs(filename) else Path(filename)
        with contextlib.suppress(ValueError):
            filename = os.path.relpath(os.path.normpath(full), workdir)
    summary = str(diag.get("summary", "")).strip()
    detail = " ".join(str(diag.get("detail", "") or "").split())
    address = diag.get("address")
    message = summary + (f" ({address})" if address and not filename else "")
    if detail:
        message += f": {detail}"
    message += hint(summary + " " + detail)
    return Problem(stage, message, filename, line, root)


def planned_creates(events: Iterable[Mapping[str, Any]]) -> tuple[Counter[str], int, int]:
    """(resources to add by type, to change, to destroy) from `plan -json` events."""
    adds: Counter[str] = Counter()
    change = destroy = 0
    for ev in events:
        if ev.get("type") != "planned_change":
            continue
        ch = ev.get("change") or {}
        action = ch.get("action")
        rtype = (ch.get("resource") or {}).get("resource_type", "?")
        if action in ("create", "replace"):
            adds[rtype] += 1
        if action in ("update",):
            change += 1
        if action in ("delete", "replace"):
            destroy += 1
    return adds, change, destroy


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
        if ev.get("type") == "test_run":
            run = ev.get("test_run") or {}
            if run.get("progress") == "complete" and run.get("status") in ("fail", "error"):
                out.append(
                    Problem(
                        "test",
                        f"run {run.get('run')!r} {run.get('status')}ed",
                        f"{root}/{run.get('path', '')}".rstrip("/"),
                        0,
                        root,
                    )
                )
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


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def run(
    cmd: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float = TF_TIMEOUT_S
) -> Run:
    try:
        p = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else ""
        return Run(124, out, f"timed out after {timeout:.0f}s")
    return Run(p.returncode, p.stdout, p.stderr)


def _fallback_problem(stage: str, root: str, r: Run) -> Problem:
    tail = [ln for ln in (r.stderr or r.stdout).strip().splitlines() if ln.strip()][-8:]
    return Problem(stage, f"terraform {stage} failed (exit {r.returncode}): " + " | ".join(tail))


class RootRunner:
    def __init__(self, work: Path, env: Mapping[str, str], terraform: str, skip: frozenset[str]):
        self.work = work
        self.env = env
        self.terraform = terraform
        self.skip = skip

    def tf(self, module: Path, *args: str) -> Run:
        return run([self.terraform, *args], module, self.env)

    def stage(
        self, res: RootResult, module: Path, stage: str, args: Sequence[str]
    ) -> tuple[bool, list[dict[str, Any]]]:
        """Run one JSON-speaking stage; (succeeded, events). Problems go into `res`."""
        r = self.tf(module, *args)
        events = parse_json_lines(r.stdout)
        if stage == "validate" and r.stdout.strip().startswith("{"):
            with contextlib.suppress(ValueError):
                events = [json.loads(r.stdout)]
        for diag in diagnostics_of(events):
            p = problem_from_diagnostic(diag, stage, res.root, self.work, type_hint)
            if diag.get("severity") == "error":
                res.problems.append(p)
            else:
                res.warnings.append(p)
        failed = r.returncode != 0
        if stage == "test" and failed:
            res.problems += failed_tests(events, res.root)
        if failed and not any(p.stage == stage for p in res.problems):
            res.problems.append(_fallback_problem(stage, res.root, r))
        res.stages[stage] = "failed" if failed else "ok"
        return not failed, events

    def run_module(self, module: Path, kind: str) -> RootResult:
        start = time.monotonic()
        rel = module.relative_to(self.work).as_posix()
        res = RootResult(rel, kind)
        if has_backend_block(module):
            state = self.work / ".mlopsgen-state" / (rel.replace("/", "_") + ".tfstate")
            (module / OVERRIDE_NAME).write_text(backend_override(state))
        steps = ["init", "validate", "plan", "test"] if kind == "root" else ["init", "test"]
        commands = {
            "init": ["init", "-input=false", "-no-color", "-json"],
            "validate": ["validate", "-no-color", "-json"],
            "plan": [
                "plan",
                "-input=false",
                "-lock=false",
                "-no-color",
                "-json",
                "-refresh=false",
                "-parallelism=32",  # the stand-ins answer at once: latency, not load, limits
            ],
            "test": ["test", "-no-color", "-json"],
        }
        for i, step in enumerate(steps):
            if step in self.skip or (step == "test" and not has_tests(module)):
                res.stages[step] = "skipped"
                continue
            if step == "validate" and "plan" not in self.skip:
                # plan runs the same validation walk first and reports the same diagnostics
                # (file and line); a separate `terraform validate` would only cost time
                res.stages[step] = "in plan"
                continue
            ok, events = self.stage(res, module, step, commands[step])
            if step == "plan" and ok:
                res.to_add, res.to_change, res.to_destroy = planned_creates(events)
            if step == "test":
                res.tests = test_summary(events)
            if not ok and step in ("init", "validate"):
                for later in steps[i + 1 :]:
                    res.stages.setdefault(later, "skipped")
                break
        res.seconds = time.monotonic() - start
        return res


def check_fmt(dest: Path, terraform: str, env: Mapping[str, str]) -> list[Problem]:
    tf_dir = dest / "terraform"
    if not tf_dir.is_dir():
        return []
    r = run([terraform, "fmt", "-check", "-recursive", "-list=true", "-no-color"], tf_dir, env)
    if r.returncode == 0:
        return []
    files = [ln.strip() for ln in r.stdout.splitlines() if ln.strip()]
    if not files:
        return [Problem("fmt", "terraform fmt -check failed: " + r.stderr.strip()[-500:])]
    return [
        Problem(
            "fmt",
            "not in canonical format: run `terraform fmt -recursive terraform`",
            (Path("terraform") / f).as_posix(),
        )
        for f in files
    ]


def check_cloudbuild(dest: Path) -> list[Problem]:
    from generator.cloudbuild_check import check_repo

    return [Problem("cloudbuild", f.message, f.file, f.line) for f in check_repo(dest)]


def check_checkov(dest: Path, checkov: str) -> list[Problem]:
    r = run(
        [
            checkov,
            "-d",
            str(dest),
            "--framework",
            "terraform",
            "--skip-download",
            "-o",
            "json",
            "--quiet",
            "--compact",
        ],
        dest,
        os.environ,
    )
    try:
        data = json.loads(r.stdout) if r.stdout.strip() else {}
    except ValueError:
        return [Problem("checkov", f"checkov output is not JSON (exit {r.returncode})")]
    reports = data if isinstance(data, list) else [data]
    out = []
    for rep in reports:
        for chk in (rep.get("results") or {}).get("failed_checks", []):
            lines = chk.get("file_line_range") or [0]
            out.append(
                Problem(
                    "checkov",
                    f"{chk.get('check_id')}: {chk.get('check_name')} ({chk.get('resource')})",
                    str(chk.get("file_path", "")).lstrip("/"),
                    int(lines[0] or 0),
                )
            )
    if not out and r.returncode not in (0, 1):
        out.append(Problem("checkov", f"checkov failed (exit {r.returncode}): {r.stderr[-300:]}"))
    return out


def _job_order(job: tuple[Path, str]) -> tuple[int, str]:
    return (0 if job[1] == "root" else 1, str(job[0]))


def validate_repo(
    dest: Path,
    skip: Iterable[str] = (),
    *,
    terraform: str = "terraform",
    jobs: int = 3,
    progress: Progress | None = None,
) -> Report:
    """Validate a rendered repo offline; never raises for findings, only when it cannot run."""
    from generator.offline import offline_providers

    dest = Path(dest).resolve()
    skipped = frozenset(skip)
    unknown = skipped - set(STAGES)
    if unknown:
        raise ValidateError(f"unknown stage(s) to skip: {', '.join(sorted(unknown))}")
    if not dest.is_dir():
        raise ValidateError(f"{dest} is not a directory")
    tf_path = shutil.which(terraform)
    tf_stages = {"fmt", "init", "validate", "plan", "test"}
    if tf_path is None and not tf_stages <= skipped:
        raise ValidateError(
            "terraform is not on PATH: install Terraform >= 1.11 or skip the terraform stages "
            "(--skip fmt --skip init --skip validate --skip plan --skip test)"
        )
    say = progress or (lambda _m: None)
    start = time.monotonic()
    report = Report(dest, skipped=tuple(s for s in STAGES if s in skipped))
    roots = find_roots(dest)
    if not roots and not tf_stages <= skipped:
        raise ValidateError(
            f"{dest}: no terraform/bootstrap or terraform/envs/* root module: "
            "is it a rendered repo?"
        )

    base_env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    for key in ("TF_WORKSPACE", "TF_DATA_DIR", "TF_REATTACH_PROVIDERS"):
        base_env.pop(key, None)  # each root keeps its own .terraform in the scratch copy
    for key in [k for k in base_env if k.startswith(("TF_VAR_", "TF_CLI_ARGS"))]:
        base_env.pop(key)

    # repo-level checks run beside terraform (cloudbuild and checkov take seconds of CPU)
    side_checks: dict[str, Callable[[], list[Problem]]] = {}
    if "fmt" not in skipped and tf_path:
        side_checks["fmt"] = lambda: check_fmt(dest, tf_path, base_env)
    if "cloudbuild" not in skipped:
        side_checks["cloudbuild"] = lambda: check_cloudbuild(dest)
    if "checkov" not in skipped:
        checkov = shutil.which("checkov")
        if checkov:
            side_checks["checkov"] = lambda: check_checkov(dest, checkov)
        else:
            report.stages["checkov"] = "not installed"
    side = ThreadPoolExecutor(max_workers=max(1, len(side_checks)))
    futures = {name: side.submit(fn) for name, fn in side_checks.items()}
    if futures:
        say(", ".join(futures) + " (in the background)")

    needs_tf = not {"init", "validate", "plan", "test"} <= skipped
    if needs_tf and tf_path and roots:
        with tempfile.TemporaryDirectory(prefix="mlopsgen-validate-") as tmp:
            scratch = Path(tmp)
            work = scratch / "repo"
            shutil.copytree(dest, work, symlinks=True, ignore=_COPY_IGNORE)
            if "init" not in skipped:
                from generator.offline import PACKAGE_ROOT

                for note in localize_git_modules(work, PACKAGE_ROOT):
                    say(note)
                    report.notes.append(note)
            with offline_providers(scratch, reattach=True) as offline_env:
                env = {**base_env, **offline_env}
                runner = RootRunner(work, env, tf_path, skipped)
                w_roots = [work / r.relative_to(dest) for r in roots]
                jobs_list: list[tuple[Path, str]] = [(r, "root") for r in w_roots]
                if "test" not in skipped:
                    jobs_list += [(m, "module") for m in find_test_modules(work, w_roots)]
                # longest first: module tests of the platform composition take longest
                jobs_list.sort(key=lambda j: j[1] != "module" or j[0].name != "mlops_platform")
                say(f"terraform: {len(jobs_list)} module(s), offline stand-in providers")
                with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                    results = list(pool.map(lambda j: runner.run_module(*j), jobs_list))
                order = {p: i for i, (p, _k) in enumerate(sorted(jobs_list, key=_job_order))}
                report.roots = sorted(results, key=lambda r: order[work / r.root])
    for name, fut in futures.items():
        try:
            found = fut.result()
        except Exception as exc:  # a crashing checker is a finding, not a traceback
            found = [Problem(name, f"the {name} check crashed: {exc!r}")]
        report.repo_problems += found
        report.stages[name] = "failed" if found else "ok"
    side.shutdown()
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
    for stage in ("fmt", "cloudbuild", "checkov"):
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
    lines.append("")
    verdict = "OK" if report.ok else "FAILED"
    lines.append(
        f"{verdict} in {report.seconds:.1f}s"
        + (f" (skipped: {', '.join(report.skipped)})" if report.skipped else "")
    )
    return "\n".join(lines)
