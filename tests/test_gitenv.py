"""The identity of the commits mlopsgen makes: the consultant's when git has one, a fallback
only when it has none (real git, a HOME of the test's own)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from generator import render
from generator.gitenv import git_env

FALLBACK = "mlopsgen <mlopsgen@localhost>"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME and no system config: git knows no identity until a test gives one."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    return home


def _author_and_committer(repo: Path) -> str:
    return subprocess.run(
        ["git", "log", "-1", "--format=%an <%ae> / %cn <%ce>"], cwd=repo, check=True,
        capture_output=True, text=True,
    ).stdout.strip()


def _commit_once(tmp_path: Path) -> Path:
    repo = tmp_path / "client"
    repo.mkdir()
    (repo / "README.md").write_text("hello\n")
    render.git_init_commit(repo, "Initial client repo rendered by mlopsgen")
    return repo


def test_a_configured_identity_wins(home: Path, tmp_path: Path) -> None:
    (home / ".gitconfig").write_text("[user]\n\tname = Ada Lovelace\n\temail = ada@example.com\n")
    repo = _commit_once(tmp_path)
    assert _author_and_committer(repo) == (
        "Ada Lovelace <ada@example.com> / Ada Lovelace <ada@example.com>"
    )


def test_fallback_only_where_git_has_no_identity(home: Path, tmp_path: Path) -> None:
    repo = _commit_once(tmp_path)
    assert _author_and_committer(repo) == f"{FALLBACK} / {FALLBACK}"


def test_environment_and_partial_config(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / ".gitconfig").write_text("[user]\n\temail = ada@example.com\n")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Ada (env)")
    env = git_env()
    assert env["GIT_AUTHOR_NAME"] == "Ada (env)"  # the environment's own value is kept
    assert "GIT_AUTHOR_EMAIL" not in env and "GIT_COMMITTER_EMAIL" not in env  # git config's
    assert env["GIT_COMMITTER_NAME"] == "mlopsgen"  # set nowhere: the fallback
