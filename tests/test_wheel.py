"""mlopsgen installs like any Python tool: a fresh venv with only the built wheel renders,
validates, plans and later updates a client repo, from a directory that is no checkout.

The template repo the wheel records is a local git repo (built from this working tree and
tagged as the wheel's version), so `mlopsgen update` clones it the way it would clone GitHub.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator import __version__
from tests.upgrade import builder

ROOT = Path(__file__).resolve().parent.parent
VERSION = __version__

pytestmark = [
    pytest.mark.slow,
    pytest.mark.terraform,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="needs terraform on PATH"),
]


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the template git repo the wheel names, the venv's mlopsgen)."""
    base = tmp_path_factory.mktemp("wheel")
    # named like a remote (".git"), so copier treats its file:// URL as a git repo, as it does
    # https://github.com/<org>/mlops-foundations.git
    tpl = builder.build_template_repo(base / "mlops-foundations.git", versions=1)
    builder.git(tpl, "tag", "-f", f"v{VERSION}")  # the wheel's release is this commit
    env = {**os.environ, "MLOPSGEN_TEMPLATE_URL": tpl.as_uri()}
    built = _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", base / "dist",
                 tpl, cwd=base, env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (base / "dist").glob("*.whl")
    venv = base / "venv"
    assert _run(sys.executable, "-m", "venv", venv, cwd=base).returncode == 0
    pip = _run(venv / "bin" / "pip", "install", "-q", wheel, cwd=base)
    assert pip.returncode == 0, pip.stderr[-3000:]
    return tpl, venv / "bin" / "mlopsgen"


def _clean_env() -> dict[str, str]:
    """No PYTHONPATH into this checkout: the venv must stand on the wheel alone."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def test_wheel_renders_validates_plans_and_updates(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    tpl, mlopsgen = installed
    work = tmp_path / "elsewhere"
    work.mkdir()
    answers = work / "answers.yml"
    shutil.copy(ROOT / "examples" / "minimal.yml", answers)
    env = _clean_env()

    new = _run(mlopsgen, "new", "client", "--data-file", answers, cwd=work, env=env)
    assert new.returncode == 0, new.stdout[-3000:] + new.stderr[-3000:]
    assert "OK in" in new.stdout  # mlopsgen validate ran, offline, from the wheel
    client = work / "client"
    recorded = yaml.safe_load((client / ".copier-answers.yml").read_text())
    assert (recorded["_src_path"], recorded["_commit"]) == (tpl.as_uri(), f"v{VERSION}")

    plan = _run(mlopsgen, "plan", client, "--env", "prod", "--offline", "--quiet", cwd=work,
                env=env)
    assert plan.returncode == 2, plan.stdout[-2000:] + plan.stderr[-2000:]

    # a later release of the template; the installed mlopsgen brings the repo to it
    readme = tpl / "templates" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\n## Later release\n\nNew runbook section.\n")
    builder.git(tpl, "commit", "-q", "-am", "later release")
    builder.git(tpl, "tag", "v99.0.0")
    update = _run(mlopsgen, "update", client, "--vcs-ref", "v99.0.0", "--no-validate", cwd=work,
                  env=env)
    assert update.returncode == 0, update.stdout[-3000:] + update.stderr[-3000:]
    assert "## Later release" in (client / "README.md").read_text()
    assert yaml.safe_load((client / ".copier-answers.yml").read_text())["_commit"] == "v99.0.0"


def test_wheel_refuses_another_version_without_a_template(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _tpl, mlopsgen = installed
    res = _run(mlopsgen, "new", tmp_path / "c", "--data-file", ROOT / "examples" / "minimal.yml",
               "--vcs-ref", "v0.0.1", cwd=tmp_path, env=_clean_env())
    assert res.returncode == 1
    assert f"carries the template of v{VERSION} only" in res.stderr
    assert not (tmp_path / "c").exists()
