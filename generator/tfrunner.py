"""Terraform runner over the terraform CLI and its JSON interfaces.

Every call runs the real `terraform` binary: `init`, `plan -out`, `show -json`, `apply <planfile>`,
`output -json`, `state pull`. Operations that speak terraform's machine-readable UI (`-json`) are
streamed line by line to a callback as human-readable messages, and their diagnostics are kept as
typed `Diagnostic`s. A failing command raises `TerraformError` (with the diagnostics and the tail
of stderr); a command that outlives its timeout is interrupted (SIGINT, so terraform can release
its state lock), then killed, and raises `TerraformTimeout`.

See docs/decisions/0001-terraform-runner.md for why this is not python-terraform or tftest.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Progress = Callable[[str], None]

DEFAULT_TIMEOUT_S = 30 * 60.0
_INTERRUPT_GRACE_S = 15.0


def _ignore(_line: str) -> None:
    return None


@dataclass(frozen=True)
class Diagnostic:
    """One terraform diagnostic (error or warning), from the `-json` UI or `validate -json`."""

    severity: str
    summary: str
    detail: str = ""
    address: str | None = None
    filename: str | None = None
    line: int | None = None

    def one_line(self) -> str:
        where = ""
        if self.filename:
            where = f" ({self.filename}{':' + str(self.line) if self.line else ''})"
        elif self.address:
            where = f" ({self.address})"
        detail = f": {self.detail.strip()}" if self.detail.strip() else ""
        return f"{self.severity}: {self.summary}{where}{detail}"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Diagnostic:
        rng = data.get("range") or {}
        start = rng.get("start") or {}
        return cls(
            severity=str(data.get("severity", "error")),
            summary=str(data.get("summary", "")),
            detail=str(data.get("detail", "") or ""),
            address=data.get("address"),
            filename=rng.get("filename"),
            line=start.get("line"),
        )


@dataclass(frozen=True)
class CommandResult:
    """What one terraform invocation did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")


class TerraformError(RuntimeError):
    """A terraform command failed; the message names the stage and terraform's own errors."""

    def __init__(self, stage: str, result: CommandResult | None, message: str = "") -> None:
        self.stage = stage
        self.result = result
        super().__init__(message or _failure_message(stage, result))


class TerraformTimeout(TerraformError):
    """A terraform command ran longer than its timeout and was interrupted."""


class TerraformNotFound(TerraformError):
    """The terraform binary is not on PATH."""


def _failure_message(stage: str, result: CommandResult | None) -> str:
    if result is None:
        return f"terraform {stage} failed"
    lines = [f"terraform {stage} failed (exit {result.returncode})"]
    errors = result.errors
    if errors:
        lines.extend(f"  {d.one_line()}" for d in errors)
    else:
        tail = [ln for ln in result.stderr.strip().splitlines() if ln.strip()][-15:]
        if not tail:
            tail = [ln for ln in result.stdout.strip().splitlines() if ln.strip()][-15:]
        lines.extend(f"  {ln}" for ln in tail)
    return "\n".join(lines)


@dataclass(frozen=True)
class OutputValue:
    """One root module output, from `terraform output -json`."""

    value: Any
    type: Any
    sensitive: bool

    def display(self) -> str:
        if self.sensitive:
            return "<sensitive>"
        if isinstance(self.value, str):
            return self.value
        return json.dumps(self.value, sort_keys=True)


@dataclass(frozen=True)
class PlanResult:
    """A saved plan: the plan file, whether it changes anything, and its `show -json` document."""

    plan_file: Path
    has_changes: bool
    plan_json: dict[str, Any]
    command: CommandResult


@dataclass(frozen=True)
class StateInfo:
    """Identity of a state snapshot: `serial` and `lineage` (None when there is no state yet)."""

    serial: int | None
    lineage: str | None


@dataclass(frozen=True)
class ApplyResult:
    """A finished apply and the root outputs after it."""

    command: CommandResult
    outputs: dict[str, OutputValue] = field(default_factory=dict)


def _message_of(event: Mapping[str, Any]) -> str:
    kind = event.get("type")
    msg = str(event.get("@message", ""))
    if kind == "diagnostic":
        diag = event.get("diagnostic") or {}
        return Diagnostic.from_json(diag).one_line()
    return msg


class Terraform:
    """Runs terraform in one root module directory.

    `progress` receives one line per stage (`[plan] ...`); `on_output` receives terraform's own
    output, one human-readable line at a time. `env` is added to the process environment.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        binary: str = "terraform",
        env: Mapping[str, str] | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        progress: Progress | None = None,
        on_output: Progress | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        found = shutil.which(binary)
        if found is None:
            raise TerraformNotFound(
                "setup",
                None,
                f"terraform binary {binary!r} not found on PATH: install Terraform >= 1.5 "
                "(https://developer.hashicorp.com/terraform/install) and retry",
            )
        self.binary = found
        self.env = dict(env or {})
        self.timeout_s = timeout_s
        self.progress: Progress = progress or _ignore
        self.on_output: Progress = on_output or _ignore

    # -- process handling -------------------------------------------------------------------

    def _environ(self) -> dict[str, str]:
        environ = dict(os.environ)
        environ["TF_IN_AUTOMATION"] = "1"
        environ["TF_INPUT"] = "0"
        environ.update(self.env)
        return environ

    def run(
        self,
        stage: str,
        args: Sequence[str],
        *,
        json_ui: bool = False,
        ok_codes: Sequence[int] = (0,),
        timeout_s: float | None = None,
        stream: bool = True,
    ) -> CommandResult:
        """Run `terraform ARGS`; stream output; raise TerraformError unless the exit code is ok."""
        argv = (self.binary, *args)
        limit = self.timeout_s if timeout_s is None else timeout_s
        started = time.monotonic()
        self.progress(f"[{stage}] terraform {' '.join(args)}")
        proc = subprocess.Popen(
            argv,
            cwd=self.workdir,
            env=self._environ(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
        out_lines: list[str] = []
        err_lines: list[str] = []
        diagnostics: list[Diagnostic] = []

        def read_stdout() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                out_lines.append(raw)
                line = raw.rstrip("\n")
                if json_ui and line.startswith("{"):
                    try:
                        event = json.loads(line)
                    except ValueError:
                        event = None
                    if isinstance(event, dict):
                        if event.get("type") == "diagnostic":
                            diagnostics.append(Diagnostic.from_json(event.get("diagnostic") or {}))
                        if stream and event.get("type") != "version":
                            self.on_output(_message_of(event))
                        continue
                if stream and line.strip():
                    self.on_output(line)

        def read_stderr() -> None:
            assert proc.stderr is not None
            for raw in proc.stderr:
                err_lines.append(raw)

        readers = [threading.Thread(target=read_stdout), threading.Thread(target=read_stderr)]
        for t in readers:
            t.daemon = True
            t.start()
        timed_out = False
        try:
            proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            _interrupt(proc)
        for t in readers:
            t.join(timeout=5)
        result = CommandResult(
            args=tuple(args),
            returncode=proc.returncode if proc.returncode is not None else -1,
            stdout="".join(out_lines),
            stderr="".join(err_lines),
            duration_s=time.monotonic() - started,
            diagnostics=tuple(diagnostics),
        )
        if timed_out:
            raise TerraformTimeout(
                stage,
                result,
                f"terraform {stage} timed out after {limit:.0f}s and was interrupted; "
                "if it held a state lock, check it with `terraform force-unlock` before retrying",
            )
        if result.returncode not in ok_codes:
            raise TerraformError(stage, result)
        self.progress(f"[{stage}] done in {result.duration_s:.1f}s")
        return result

    # -- operations ------------------------------------------------------------------------

    def version(self) -> str:
        result = self.run("version", ["version", "-json"], stream=False)
        data = json.loads(result.stdout)
        return str(data["terraform_version"])

    def init(
        self,
        *,
        backend: bool = True,
        backend_config: Mapping[str, str] | None = None,
        reconfigure: bool = True,
        upgrade: bool = False,
    ) -> CommandResult:
        args = ["init", "-input=false", "-no-color", "-json"]
        if not backend:
            args.append("-backend=false")
        if reconfigure and backend:
            args.append("-reconfigure")
        if upgrade:
            args.append("-upgrade")
        for key, value in (backend_config or {}).items():
            args.append(f"-backend-config={key}={value}")
        return self.run("init", args, json_ui=True)

    def validate(self) -> list[Diagnostic]:
        """`terraform validate -json`; returns diagnostics, raises if the config is invalid."""
        result = self.run("validate", ["validate", "-json", "-no-color"], ok_codes=(0, 1))
        data = json.loads(result.stdout)
        diags = [Diagnostic.from_json(d) for d in data.get("diagnostics", [])]
        if not data.get("valid", False):
            failed = CommandResult(
                result.args, result.returncode, result.stdout, result.stderr,
                result.duration_s, tuple(diags),
            )
            raise TerraformError("validate", failed)
        return diags

    def plan(
        self,
        out: Path,
        *,
        variables: Mapping[str, str] | None = None,
        var_files: Sequence[Path] = (),
        refresh: bool = True,
        replace: Sequence[str] = (),
    ) -> PlanResult:
        """`plan -out=OUT -detailed-exitcode -json`, then `show -json OUT`. `replace` forces
        replacement of these resource addresses (`-replace=ADDR`)."""
        out = Path(out).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        args = ["plan", "-input=false", "-no-color", "-json", "-detailed-exitcode", f"-out={out}"]
        if not refresh:
            args.append("-refresh=false")
        for address in replace:
            args.append(f"-replace={address}")
        for vf in var_files:
            args.append(f"-var-file={vf}")
        for key, value in (variables or {}).items():
            args.append(f"-var={key}={value}")
        result = self.run("plan", args, json_ui=True, ok_codes=(0, 2))
        plan_json = self.show_plan(out)
        return PlanResult(
            plan_file=out, has_changes=result.returncode == 2, plan_json=plan_json, command=result
        )

    def show_plan(self, plan_file: Path) -> dict[str, Any]:
        result = self.run("show", ["show", "-json", "-no-color", str(plan_file)], stream=False)
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def state_info(self) -> StateInfo:
        """`terraform state pull`: serial and lineage of the current state (None if empty)."""
        result = self.run("state", ["state", "pull"], stream=False)
        text = result.stdout.strip()
        if not text:
            return StateInfo(serial=None, lineage=None)
        data = json.loads(text)
        serial = data.get("serial")
        return StateInfo(
            serial=int(serial) if serial is not None else None, lineage=data.get("lineage")
        )

    def apply_plan(self, plan_file: Path) -> CommandResult:
        """Apply exactly a saved plan (terraform applies saved plans without prompting)."""
        args = ["apply", "-input=false", "-no-color", "-json", str(Path(plan_file).resolve())]
        return self.run("apply", args, json_ui=True)

    def output(self, *, state_file: Path | None = None) -> dict[str, OutputValue]:
        """Root outputs (`output -json`); `state_file` reads a local state snapshot instead."""
        args = ["output", "-json", "-no-color"]
        if state_file is not None:
            args.append(f"-state={state_file}")
        result = self.run("output", args, stream=False)
        text = result.stdout.strip() or "{}"
        data = json.loads(text)
        return parse_outputs(data)


def parse_outputs(data: Mapping[str, Any]) -> dict[str, OutputValue]:
    """`terraform output -json` document -> typed outputs."""
    return {
        name: OutputValue(
            value=item.get("value"), type=item.get("type"), sensitive=bool(item.get("sensitive"))
        )
        for name, item in data.items()
    }


def _interrupt(proc: subprocess.Popen[str]) -> None:
    """SIGINT first (terraform stops gracefully and unlocks state), then SIGKILL."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=_INTERRUPT_GRACE_S)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
