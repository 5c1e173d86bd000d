"""Running the steps of one build: environment, secrets, the /workspace rewrite, processes,
timeouts, the failure rules (allowFailure, allowExitCodes) and each step's own TMPDIR."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.cloudbuild_local.config import Build, Step
from tests.cloudbuild_local.images import Invocation, StepImage, StepLaunchError
from tests.cloudbuild_local.isolation import step_tmp
from tests.cloudbuild_local.substitution import automap_env

WORKSPACE = "/workspace"
_WORKSPACE_RE = re.compile(r"(?<![\w./-])/workspace(?=/|$|[^\w.-])")

SUCCESS, FAILURE, TIMEOUT = "SUCCESS", "FAILURE", "TIMEOUT"
CANCELLED, QUEUED = "CANCELLED", "QUEUED"

LineSink = Callable[[str], None]


def rewrite_workspace(text: str, workspace: Path) -> str:
    """`/workspace` (as a path, not inside another word or path) -> the local workspace."""
    return _WORKSPACE_RE.sub(lambda _: str(workspace), text)


@dataclass(frozen=True)
class StepResult:
    index: int
    id: str
    name: str  # the image, substituted
    status: str  # SUCCESS | FAILURE | TIMEOUT | CANCELLED (not run after a failure)
    exit_code: int | None
    argv: tuple[str, ...]  # the local command (empty when the step did not start)
    log: str
    seconds: float
    allowed: bool = False  # failed, but allowFailure/allowExitCodes let the build go on

    @property
    def label(self) -> str:
        return f'Step #{self.index} - "{self.id}"' if self.id else f"Step #{self.index}"


@dataclass(frozen=True)
class Secrets:
    """Secret Manager as one build's service account sees it."""

    values: Mapping[str, str]  # versionName (or secret name without /versions/...) -> payload
    readable: Collection[str] | None  # the versionNames/secret names it may read; None: all

    @staticmethod
    def _keys(version_name: str) -> tuple[str, str]:
        return version_name, re.sub(r"/versions/[^/]+$", "", version_name)

    def access(self, version_name: str) -> str:
        """The payload, or StepLaunchError with Cloud Build's message."""
        keys = self._keys(version_name)
        if self.readable is not None and not any(k in self.readable for k in keys):
            raise StepLaunchError(
                f"failed to access secret version for secret {version_name}: rpc error: code = "
                f"PermissionDenied desc = Permission 'secretmanager.versions.access' denied for "
                f"resource '{version_name}' (or it may not exist)."
            )
        for key in keys:
            if key in self.values:
                return self.values[key]
        raise StepLaunchError(
            f"failed to access secret version for secret {version_name}: rpc error: code = "
            f"NotFound desc = Secret [{keys[1]}] not found or has no versions."
        )


def run_process(
    argv: tuple[str, ...], cwd: Path, env: Mapping[str, str], timeout_s: float, sink: LineSink
) -> tuple[int | None, str]:
    """Run to completion or timeout (then kill its process group): (exit code or None, log)."""
    try:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace",
            start_new_session=True,
        )
    except OSError as exc:
        raise StepLaunchError(f"starting step container failed: {exc}") from exc
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            sink(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        code: int | None = proc.wait(timeout=max(timeout_s, 0.01))
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        code = None
    reader.join(timeout=5)
    return code, "".join(lines)


@dataclass
class StepRunner:
    """Runs the steps of one build in file order."""

    build: Build
    values: Mapping[str, str]  # the substitutions, for automapSubstitutions
    workspace: Path
    scratch: Path
    base_env: Mapping[str, str]
    secrets: Secrets
    deadline: float  # time.monotonic() at which the build times out
    sink: LineSink

    def env(self, step: Step) -> dict[str, str]:
        env = dict(self.base_env)
        automap = step.automap if step.automap is not None else self.build.automap
        if automap:
            env.update(automap_env(self.values))
        for entry in (*self.build.env, *step.env):
            key, _, value = entry.partition("=")
            env[key] = rewrite_workspace(value, self.workspace)
        env["TMPDIR"] = str(self.scratch / "tmp" / f"step-{step.index}")  # isolation.step_tmp
        wanted = (*self.build.secret_env, *step.secret_env)
        by_env = {s.env: s.version_name for s in self.build.secrets}
        for name in wanted:
            env[name] = self.secrets.access(by_env[name])
        return env

    def cwd(self, step: Step) -> Path:
        directory = rewrite_workspace(step.dir, self.workspace) if step.dir else ""
        path = Path(directory) if directory.startswith("/") else self.workspace / directory
        path.mkdir(parents=True, exist_ok=True)
        return path

    def invocation(self, step: Step) -> Invocation:
        script = None
        if step.script is not None:
            script = self.scratch / f"step-{step.index}.script"
            script.write_text(rewrite_workspace(step.script, self.workspace), encoding="utf-8")
            script.chmod(0o755)
        entrypoint = rewrite_workspace(step.entrypoint, self.workspace) if step.entrypoint else None
        return Invocation(
            image=step.name,
            entrypoint=entrypoint,
            args=tuple(rewrite_workspace(a, self.workspace) for a in step.args),
            script=script,
            env=self.env(step),
            workspace=self.workspace,
        )

    def run(self, step: Step, image: StepImage) -> StepResult:
        started = time.monotonic()
        remaining = self.deadline - started
        limit = min(remaining, step.timeout_s) if step.timeout_s is not None else remaining
        tmp = step_tmp(self.scratch, step.index)
        try:
            launch = image.launch(self.invocation(step), self.scratch)
            self.sink(f"{step.label}: {' '.join(launch.argv)}")
            code, log = run_process(
                launch.argv, self.cwd(step), launch.env, limit,
                lambda line: self.sink(f"{step.label}: {line}"),
            )
        except StepLaunchError as err:
            self.sink(f"{step.label}: {err}")
            return StepResult(step.index, step.id, step.name, FAILURE, None, (), str(err),
                              time.monotonic() - started, self._allowed(step, None))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        seconds = time.monotonic() - started
        if code is None:
            return StepResult(step.index, step.id, step.name, TIMEOUT, None, launch.argv, log,
                              seconds)
        status = SUCCESS if code == 0 else FAILURE
        allowed = status == FAILURE and self._allowed(step, code)
        return StepResult(step.index, step.id, step.name, status, code, launch.argv, log,
                          seconds, allowed)

    @staticmethod
    def _allowed(step: Step, code: int | None) -> bool:
        """allowExitCodes takes precedence over allowFailure (Cloud Build's rule)."""
        if step.allow_exit_codes:
            return code in step.allow_exit_codes
        return step.allow_failure
