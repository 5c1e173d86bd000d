"""Idempotent building blocks for migrations; `repo` is the client repo being updated.

Only the standard library and PyYAML (a dependency of copier, which runs the migrations)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

ANSWERS_FILE = ".copier-answers.yml"


def _tracked(repo: Path, rel: str) -> bool:
    result = subprocess.run(
        ["git", "ls-files", "--error-unmatch", "--", rel],
        cwd=repo, capture_output=True, check=False,
    )
    return result.returncode == 0


def move_path(repo: Path, old: str, new: str) -> list[str]:
    """Move `old` to `new` (with `git mv` when tracked, so copier's merge sees the client's
    content under the new name). Nothing to do when `old` is gone; refuses to overwrite a
    different file already at `new`."""
    src, dst = repo / old, repo / new
    if not src.exists():
        return []
    if dst.exists():
        if dst.is_file() and src.is_file() and dst.read_bytes() == src.read_bytes():
            src.unlink()
            return [f"removed {old} (same content already at {new})"]
        raise SystemExit(
            f"cannot move {old} to {new}: both exist and differ; merge them by hand, delete "
            f"{old}, commit, and run the update again"
        )
    dst.parent.mkdir(parents=True, exist_ok=True)
    if _tracked(repo, old):
        subprocess.run(["git", "mv", "--", old, new], cwd=repo, check=True, capture_output=True)
    else:
        src.rename(dst)
    return [f"moved {old} -> {new}"]


def rename_answer(repo: Path, old: str, new: str) -> list[str]:
    """Rename an answer key in the answers file (run it in the `before` stage)."""
    path = repo / ANSWERS_FILE
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if old not in data:
        return []
    value = data.pop(old)
    data.setdefault(new, value)
    header = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return [f"answer {old} renamed to {new}"]
