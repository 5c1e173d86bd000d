"""The environment for git commands mlopsgen runs on a consultant's behalf."""

from __future__ import annotations

import os


def git_env() -> dict[str, str]:
    """os.environ plus a fallback identity, so commits work where git has no user configured
    (CI runners, fresh laptops); a configured identity always wins."""
    env = dict(os.environ)
    env.setdefault("GIT_AUTHOR_NAME", "mlopsgen")
    env.setdefault("GIT_AUTHOR_EMAIL", "mlopsgen@localhost")
    env.setdefault("GIT_COMMITTER_NAME", env["GIT_AUTHOR_NAME"])
    env.setdefault("GIT_COMMITTER_EMAIL", env["GIT_AUTHOR_EMAIL"])
    return env
