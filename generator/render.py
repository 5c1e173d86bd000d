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
from generator.client_repo import ANSWERS_FILE
from generator.errors import AnswersError, InputError, Problem, RenderError
from generator.gitenv import git_env
from generator.template import Release, recorded_release, template_root


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
    template_url: str | None = None,
    defaults: bool = True,
    quiet: bool = True,
) -> None:
    """Render with copier. On failure, a destination copier created is removed. Without
    `template`, renders this install's template: its checkout, or the release a wheel carries
    (then the repo records the release's URL, or `template_url`, and its tag)."""
    import copier

    root = None if template else template_root()
    release = recorded_release(root, template_url) if root else None
    if release and vcs_ref:
        raise InputError(
            f"this mlopsgen carries the template of {release.version} only; to render "
            f"{vcs_ref}, pass --template {release.url} --vcs-ref {vcs_ref}"
        )
    src = template or str(root)
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
    if release:
        record_release(dest, release)


def record_release(dest: Path, release: Release) -> None:
    """Make the answers file name the template repo and tag instead of the install path, in
    copier's own layout (`_commit` before `_src_path`), so copier updates from there."""
    path = dest / ANSWERS_FILE
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
             if not ln.startswith(("_commit:", "_src_path:"))]
    at = next((i for i, ln in enumerate(lines) if ln and not ln.startswith("#")), len(lines))
    recorded = yaml.safe_dump({"_commit": release.version, "_src_path": release.url},
                              sort_keys=False, width=1000).splitlines()
    path.write_text("\n".join([*lines[:at], *recorded, *lines[at:]]) + "\n", encoding="utf-8")


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
