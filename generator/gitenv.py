"""The environment for git commands mlopsgen runs on a consultant's behalf."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

FALLBACK_NAME = "mlopsgen"
FALLBACK_EMAIL = "mlopsgen@localhost"

# (environment variable, git config keys that set the same value, in git's order)
_IDENTITY = (
    ("GIT_AUTHOR_NAME", ("author.name", "user.name"), FALLBACK_NAME),
    ("GIT_AUTHOR_EMAIL", ("author.email", "user.email"), FALLBACK_EMAIL),
    ("GIT_COMMITTER_NAME", ("committer.name", "user.name"), FALLBACK_NAME),
    ("GIT_COMMITTER_EMAIL", ("committer.email", "user.email"), FALLBACK_EMAIL),
)


def configured_identity(cwd: Path | None = None) -> set[str]:
    """The identity keys git's configuration sets (system, global, and the repo at `cwd`)."""
    result = subprocess.run(
        ["git", "config", "--get-regexp", r"^(user|author|committer)\.(name|email)$"],
        cwd=cwd if cwd is not None and cwd.is_dir() else None,
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )
    return {
        line.split(" ", 1)[0].lower()
        for line in result.stdout.splitlines()
        if " " in line and line.split(" ", 1)[1].strip()
    }


def git_env(cwd: Path | None = None) -> dict[str, str]:
    """os.environ plus a fallback identity for what neither the environment nor git's
    configuration sets (CI runners, fresh laptops), so commits work there; a configured
    identity always wins, because git prefers GIT_AUTHOR_* variables over `user.name`."""
    env = dict(os.environ)
    configured = configured_identity(cwd)
    for variable, keys, fallback in _IDENTITY:
        if not env.get(variable) and not configured.intersection(keys):
            env[variable] = fallback
    return env
