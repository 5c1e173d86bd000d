"""Terraform runner over the terraform CLI and its JSON interfaces.

The one way mlopsgen runs terraform (validate, plan, apply and the tests): `init`, `validate`,
`plan -out`, `show -json`, `apply <planfile>`, `test`, `fmt -check`, `output -json`, `state pull`.
Operations that speak terraform's machine-readable UI (`-json`) are streamed line by line to a
callback as human-readable messages; their events are kept, and their diagnostics as typed
`Diagnostic`s. A failing command raises `TerraformError` (with the diagnostics and the tail of
stderr) unless the caller asks for the result instead (`check=False`, for `validate`, which
reports rather than stops); a command that outlives its timeout is interrupted (SIGINT, so
terraform can release its state lock), then killed, and raises `TerraformTimeout`. The binary
must be at least `generator.versions.MIN_TERRAFORM` (checked once per binary).

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

from generator.errors import TerraformError, TerraformNotFound, TerraformTimeout
from generator.versions import MIN_TERRAFORM, version_tuple

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "CommandResult",
    "Diagnostic",
    "OutputValue",
    "PlanOptions",
    "PlanResult",
    "StateInfo",
    "Terraform",
    "TerraformError",
    "TerraformNotFound",
    "TerraformTimeout",
    "parse_json_lines",
]

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
    events: tuple[dict[str, Any], ...] = ()  # the `-json` UI's events, in order

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    def output_tail(self, count: int) -> list[str]:
        """The last non-empty lines of stderr (of stdout when stderr is empty)."""
        for text in (self.stderr, self.stdout):
            tail = [ln for ln in text.strip().splitlines() if ln.strip()][-count:]
            if tail:
                return tail
        return []


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
class PlanOptions:
    """How to plan: `replace` forces replacement of these addresses (`-replace=ADDR`)."""

    variables: Mapping[str, str] = field(default_factory=dict)
    var_files: Sequence[Path] = ()
    refresh: bool = True
    replace: Sequence[str] = ()
    lock: bool = True
    parallelism: int | None = None

    def args(self, out: Path) -> list[str]:
        args = ["plan", "-input=false", "-no-color", "-json", "-detailed-exitcode", f"-out={out}"]
        if not self.refresh:
            args.append("-refresh=false")
        if not self.lock:
            args.append("-lock=false")
        if self.parallelism is not None:
            args.append(f"-parallelism={self.parallelism}")
        args += [f"-replace={address}" for address in self.replace]
        args += [f"-var-file={vf}" for vf in self.var_files]
        args += [f"-var={key}={value}" for key, value in self.variables.items()]
        return args


@dataclass(frozen=True)
class StateInfo:
    """Identity of a state snapshot: `serial` and `lineage` (None when there is no state yet)."""

    serial: int | None
    lineage: str | None


def _message_of(event: Mapping[str, Any]) -> str:
    if event.get("type") == "diagnostic":
        return Diagnostic.from_json(event.get("diagnostic") or {}).one_line()
    return str(event.get("@message", ""))


def parse_json_lines(text: str) -> list[dict[str, Any]]:
    """terraform's `-json` UI: one JSON object per line (other lines ignored)."""
    events: list[dict[str, Any]] = []
    for line in text.splitlines():
        event = _json_event(line.strip())
        if event is not None:
            events.append(event)
    return events


def _json_event(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _isolated_away(name: str) -> bool:
    return name.startswith(("TF_VAR_", "TF_CLI_ARGS")) or name in (
        "TF_WORKSPACE", "TF_DATA_DIR", "TF_REATTACH_PROVIDERS"
    )


_checked_binaries: dict[str, str] = {}
_checked_lock = threading.Lock()


def check_version(binary: str) -> str:
    """The binary's version; TerraformNotFound when older than MIN_TERRAFORM (once per path)."""
    with _checked_lock:
        if binary in _checked_binaries:
            return _checked_binaries[binary]
        proc = subprocess.run(
            [binary, "version", "-json"], capture_output=True, text=True, check=False,
            stdin=subprocess.DEVNULL, env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        )
        try:
            version = str(json.loads(proc.stdout)["terraform_version"])
        except (ValueError, KeyError, TypeError):
            version = proc.stdout.split("\n", 1)[0].removeprefix("Terraform v").strip() or "?"
        if version_tuple(version) < version_tuple(MIN_TERRAFORM):
            raise TerraformNotFound(
                "setup", None,
                f"{binary} is terraform {version}; mlopsgen and the client repos need "
                f">= {MIN_TERRAFORM} (https://developer.hashicorp.com/terraform/install)",
            )
        _checked_binaries[binary] = version
        return version


class _Collector:
    """Reads one process's stdout (the `-json` UI or plain text) and stderr."""

    def __init__(self, json_ui: bool, stream: Progress | None) -> None:
        self.json_ui = json_ui
        self.stream = stream
        self.out: list[str] = []
        self.err: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.diagnostics: list[Diagnostic] = []

    def stdout_line(self, raw: str) -> None:
        self.out.append(raw)
        line = raw.rstrip("\n")
        event = _json_event(line) if self.json_ui else None
        if event is None:
            if self.stream and line.strip():
                self.stream(line)
            return
        self.events.append(event)
        if event.get("type") == "diagnostic":
            self.diagnostics.append(Diagnostic.from_json(event.get("diagnostic") or {}))
        if self.stream and event.get("type") != "version":
            self.stream(_message_of(event))

    def read(self, proc: subprocess.Popen[str]) -> list[threading.Thread]:
        def read_stdout() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                self.stdout_line(raw)

        def read_stderr() -> None:
            assert proc.stderr is not None
            self.err.extend(proc.stderr)

        readers = [threading.Thread(target=read_stdout, daemon=True),
                   threading.Thread(target=read_stderr, daemon=True)]
        for reader in readers:
            reader.start()
        return readers


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
        isolated: bool = False,
    ) -> None:
        """`isolated` drops the caller's TF_VAR_*, TF_CLI_ARGS*, TF_WORKSPACE and TF_DATA_DIR
        (offline checks must plan the repo as committed, not as this shell configures it)."""
        self.workdir = Path(workdir)
        self.isolated = isolated
        found = shutil.which(binary)
        if found is None:
            raise TerraformNotFound(
                "setup",
                None,
                f"terraform binary {binary!r} not found on PATH: install Terraform >= "
                f"{MIN_TERRAFORM} (https://developer.hashicorp.com/terraform/install) and retry",
            )
        self.binary = found
        self.binary_version = check_version(found)
        self.env = dict(env or {})
        self.timeout_s = timeout_s
        self.progress: Progress = progress or _ignore
        self.on_output: Progress = on_output or _ignore

    # -- process handling -------------------------------------------------------------------

    def _environ(self) -> dict[str, str]:
        environ = dict(os.environ)
        if self.isolated:
            environ = {k: v for k, v in environ.items() if not _isolated_away(k)}
        environ["TF_IN_AUTOMATION"] = "1"
        environ["TF_INPUT"] = "0"
        environ["CHECKPOINT_DISABLE"] = "1"
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
        check: bool = True,
    ) -> CommandResult:
        """Run `terraform ARGS`; stream output. Unless `check` is False, raise TerraformError
        when the exit code is not in `ok_codes`. A timeout always raises TerraformTimeout."""
        limit = self.timeout_s if timeout_s is None else timeout_s
        started = time.monotonic()
        self.progress(f"[{stage}] terraform {' '.join(args)}")
        proc = subprocess.Popen(
            (self.binary, *args),
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
        collector = _Collector(json_ui, self.on_output if stream else None)
        readers = collector.read(proc)
        timed_out = False
        try:
            proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            _interrupt(proc)
        for reader in readers:
            reader.join(timeout=5)
        result = CommandResult(
            args=tuple(args),
            returncode=proc.returncode if proc.returncode is not None else -1,
            stdout="".join(collector.out),
            stderr="".join(collector.err),
            duration_s=time.monotonic() - started,
            diagnostics=tuple(collector.diagnostics),
            events=tuple(collector.events),
        )
        if timed_out:
            raise TerraformTimeout(
                stage,
                result,
                f"terraform {stage} timed out after {limit:.0f}s and was interrupted; "
                "if it held a state lock, check it with `terraform force-unlock` before retrying",
            )
        if check and result.returncode not in ok_codes:
            raise TerraformError(stage, result)
        self.progress(f"[{stage}] done in {result.duration_s:.1f}s")
        return result

    # -- operations ------------------------------------------------------------------------

    def version(self) -> str:
        return self.binary_version

    def init(
        self,
        *,
        backend: bool = True,
        backend_config: Mapping[str, str] | None = None,
        reconfigure: bool = True,
        upgrade: bool = False,
        check: bool = True,
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
        return self.run("init", args, json_ui=True, check=check)

    def validate_result(self) -> CommandResult:
        """`terraform validate -json`: the result with its diagnostics (never raises for an
        invalid configuration; `returncode` 1 says it is invalid)."""
        result = self.run(
            "validate", ["validate", "-json", "-no-color"], ok_codes=(0, 1), stream=False
        )
        try:
            data = json.loads(result.stdout)
        except ValueError:
            return result
        diags = tuple(Diagnostic.from_json(d) for d in data.get("diagnostics", []))
        return CommandResult(
            result.args, result.returncode, result.stdout, result.stderr, result.duration_s,
            diags, (data,),
        )

    def validate(self) -> list[Diagnostic]:
        """`terraform validate -json`; returns diagnostics, raises if the config is invalid."""
        result = self.validate_result()
        if result.returncode != 0:
            raise TerraformError("validate", result)
        return list(result.diagnostics)

    def plan(
        self, out: Path, options: PlanOptions | None = None, *, check: bool = True
    ) -> PlanResult:
        """`plan -out=OUT -detailed-exitcode -json`, then `show -json OUT`. With `check=False` a
        failed plan returns a PlanResult whose `plan_json` is empty and whose `command` says
        why."""
        out = Path(out).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        args = (options or PlanOptions()).args(out)
        result = self.run("plan", args, json_ui=True, ok_codes=(0, 2), check=check)
        if result.returncode not in (0, 2):
            return PlanResult(plan_file=out, has_changes=False, plan_json={}, command=result)
        plan_json = self.show_plan(out)
        return PlanResult(
            plan_file=out, has_changes=result.returncode == 2, plan_json=plan_json, command=result
        )

    def show_plan(self, plan_file: Path) -> dict[str, Any]:
        result = self.run("show", ["show", "-json", "-no-color", str(plan_file)], stream=False)
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def test(self, *, check: bool = False) -> CommandResult:
        """`terraform test -json` (module tests); by default returns the result to report."""
        return self.run("test", ["test", "-no-color", "-json"], json_ui=True, check=check)

    def fmt_check(self, target: Path | None = None) -> list[str]:
        """`terraform fmt -check -recursive`: the files it would change, relative to the workdir
        (or to `target`); [] when all are canonical."""
        args = ["fmt", "-check", "-recursive", "-list=true", "-no-color"]
        if target is not None:
            args.append(str(target))
        result = self.run("fmt", args, ok_codes=(0, 3), stream=False, check=False)
        if result.returncode == 0:
            return []
        files = [ln.strip() for ln in result.stdout.splitlines() if ln.strip()]
        if not files:
            raise TerraformError("fmt", result)
        return files

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
