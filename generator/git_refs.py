"""Read a clone's refs from its files, without starting git: for reports over hundreds of repos.

Loose refs (`refs/...` files) win over `packed-refs`, as in git. Worktrees (`.git` a file
naming the git directory, `commondir` naming the shared one) are followed. Only reads; any
ref this cannot read (a symbolic ref other than HEAD, a reftable repo) is simply absent.
"""

from __future__ import annotations

import re
from pathlib import Path

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def git_dir(repo: Path) -> Path | None:
    """The repo's git directory (`.git`, or where a `.git` file points); None if none."""
    dot_git = repo / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():
        text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            target = Path(text.removeprefix("gitdir:").strip())
            target = target if target.is_absolute() else (repo / target)
            return target if target.is_dir() else None
    return None


def _common_dir(gitdir: Path) -> Path:
    pointer = gitdir / "commondir"
    if pointer.is_file():
        target = Path(pointer.read_text(encoding="utf-8").strip())
        return target if target.is_absolute() else (gitdir / target)
    return gitdir


def _packed(common: Path) -> dict[str, str]:
    path = common / "packed-refs"
    found: dict[str, str] = {}
    if not path.is_file():
        return found
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line or line[0] in "#^":
            continue
        sha, _, name = line.partition(" ")
        if _SHA.match(sha) and name:
            found[name] = sha
    return found


def _loose(common: Path, top: str) -> dict[str, str]:
    base = common / top
    found: dict[str, str] = {}
    if not base.is_dir():
        return found
    for path in base.rglob("*"):
        if path.is_file():
            sha = path.read_text(encoding="utf-8", errors="replace").strip()
            if _SHA.match(sha):
                found[path.relative_to(common).as_posix()] = sha
    return found


def refs(repo: Path, *tops: str) -> dict[str, str]:
    """Full ref name -> sha for refs under each of `tops` (e.g. "refs/heads")."""
    gitdir = git_dir(repo)
    if gitdir is None:
        return {}
    common = _common_dir(gitdir)
    found = {name: sha for name, sha in _packed(common).items()
             if any(name.startswith(top.rstrip("/") + "/") for top in tops)}
    for top in tops:
        found.update(_loose(common, top.rstrip("/")))
    return found


def head(repo: Path) -> str | None:
    """The sha HEAD points at; None for an unborn branch or an unreadable repo."""
    gitdir = git_dir(repo)
    if gitdir is None or not (gitdir / "HEAD").is_file():
        return None
    text = (gitdir / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
    if _SHA.match(text):
        return text  # detached
    if not text.startswith("ref: "):
        return None
    name = text.removeprefix("ref: ").strip()
    common = _common_dir(gitdir)
    loose = common / name
    if loose.is_file():
        sha = loose.read_text(encoding="utf-8", errors="replace").strip()
        return sha if _SHA.match(sha) else None
    return _packed(common).get(name)
