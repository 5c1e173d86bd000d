"""Render a client repo with copier's API, then make it a git repo with an initial commit."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from generator import model
from generator.answers import QUESTION_BY_NAME
from generator.errors import AnswersError, InputError, Problem, RenderError
from generator.gitenv import git_env


def template_root() -> Path:
    """The template this package belongs to (a checkout with copier.yml at its root)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "copier.yml").is_file():
        raise RenderError(
            f"no copier.yml next to the generator package ({root}); install mlopsgen from a "
            "checkout of the template repo (pip install -e .) or pass --template URL"
        )
    return root


def load_answers_file(path: Path) -> dict[str, Any]:
    """Read a YAML answers file; reject anything but a mapping."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"cannot read answers file {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise InputError(f"answers file {path} is not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"answers file {path} must be a YAML mapping of question: answer")
    return {str(k): v for k, v in data.items()}


def check_answers(data: Mapping[str, Any], *, defaults: bool) -> dict[str, Any]:
    """Validate before anything is written. With `defaults`, the full set (defaults filled);
    otherwise only what was given (copier asks for the rest, validating each answer)."""
    if defaults:
        return model.validate_answers(data)
    problems: list[Problem] = []
    for key, value in data.items():
        question = QUESTION_BY_NAME.get(key)
        if question is None:
            problems.append(Problem(key, value, "is not a question of this template"))
            continue
        message = question.rule(value, data)
        if message:
            problems.append(Problem(key, value, message))
    if problems:
        raise AnswersError(problems)
    return dict(data)


def ensure_empty_destination(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InputError(f"destination {dest} exists and is not empty; choose a new folder")


def render(
    dest: Path,
    data: Mapping[str, Any],
    *,
    template: str | None = None,
    vcs_ref: str | None = None,
    defaults: bool = True,
    quiet: bool = True,
) -> None:
    """Render with copier. On failure, a destination copier created is removed."""
    import copier

    src = template or str(template_root())
    try:
        copier.run_copy(
            src,
            str(dest),
            data=dict(data),
            vcs_ref=vcs_ref,
            defaults=defaults,
            unsafe=True,
            quiet=quiet,
            overwrite=False,
        )
    except Exception as error:  # copier raises many types; report them as one
        raise RenderError(f"copier could not render {src} into {dest}: {error}") from error


def git_init_commit(dest: Path, message: str) -> None:
    """Make `dest` a git repo with one commit, so `copier update` can merge later."""
    if shutil.which("git") is None:
        raise RenderError("git is not on PATH; install git so the client repo can be updated")
    env = git_env(dest)
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "--no-verify", "-m", message],
    ):
        result = subprocess.run(
            ["git", *args], cwd=dest, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RenderError(f"git {' '.join(args)} failed in {dest}: {result.stderr.strip()}")
