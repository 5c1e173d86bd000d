"""Fleet commands draw a progress bar on stderr when it is a terminal, and nothing otherwise:
stdout (the table, the --json document) is the same either way."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator import fleet
from generator.progress import progress
from tests.fleet_synthetic import git, make_client, make_template

ROOT = Path(__file__).resolve().parents[1]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_only_on_a_terminal() -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        with progress(2, "fleet status", stream=stream) as bar:
            bar.advance("a")
            bar.extend(1)
            bar.advance("b")
    assert "fleet status" in terminal.getvalue() and "2/3" in terminal.getvalue()
    assert pipe.getvalue() == ""


def _run(args: list[str], *, tty: bool) -> tuple[int, str, str]:
    """The CLI in a child process, stdout piped, stderr a pseudo-terminal or a pipe."""
    command = [sys.executable, "-m", "generator.cli", *args]
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    if not tty:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env,
                              timeout=120, check=False)
        return done.returncode, done.stdout, done.stderr
    leader, follower = pty.openpty()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL) as child:
        os.close(follower)
        assert child.stdout is not None
        stdout = child.stdout.read().decode()
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = child.wait(timeout=120)
    os.close(leader)
    return code, stdout, b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("progress")
    tpl = str(make_template(base / "template"))
    for i, version in enumerate(("v0.1.0", "v0.2.0", "v0.3.0")):
        make_client(base / "clients" / f"c{i}", tpl, version)
    return base / "clients"


def _without_time(document: str) -> dict[str, Any]:
    report = json.loads(document)
    report.pop("generated_at")
    return dict(report)


def test_fleet_status_progress_on_a_terminal_only(clients: Path) -> None:
    args = ["fleet", "status", "--repos", str(clients), "--json"]
    code_tty, out_tty, err_tty = _run(args, tty=True)
    code_pipe, out_pipe, err_pipe = _run(args, tty=False)
    assert code_tty == code_pipe == 4
    assert "fleet status" in err_tty and "━" in err_tty  # the bar, on the terminal
    assert err_pipe == ""  # nothing when stderr is not a terminal
    assert _without_time(out_tty) == _without_time(out_pipe)  # --json unchanged


def test_fleet_validate_progress_and_each_result_reported(tmp_path: Path) -> None:
    """Repos that fail fast (no answers file) so no terraform runs."""
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        git(tmp_path / name, "init", "-q")
    code, out, err = _run(["fleet", "validate", "--repos", str(tmp_path), "-j", "2"], tty=True)
    assert code == 4 and "fleet validate" in err and "━" in err
    assert out.splitlines()[-1] == "3 repos, 3 need attention"
    code, out, err = _run(["fleet", "validate", "--repos", str(tmp_path), "-j", "2"], tty=False)
    assert (code, err) == (4, "")
    seen: list[str] = []
    results = fleet.run_fleet("validate", [tmp_path / n for n in "abc"], jobs=2,
                              on_done=lambda r: seen.append(Path(r.repo).name))
    assert sorted(seen) == ["a", "b", "c"]
    assert [Path(r.repo).name for r in results] == ["a", "b", "c"]  # order kept
