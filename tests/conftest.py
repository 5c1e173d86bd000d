"""Shared fixtures: the template root, rendering with real copier, terraform availability."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.worktree import copy_working_tree

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if shutil.which("terraform") is None and shutil.which("tofu") is None:
        # pytest-terraform refuses to start without a binary, which would stop the whole
        # suite; in replay mode it starts, and tests that need terraform skip (below)
        try:
            from pytest_terraform import tf as pytest_terraform_tf
        except ImportError:
            return
        pytest_terraform_tf.LazyReplay.value = True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("terraform") is None:
        skip = pytest.mark.skip(reason="terraform is not on PATH (CI has terraform 1.11)")
        for item in items:
            if "terraform" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def template_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working tree as a committed git repo, so copier renders exactly what is here now
    (committed or not) without dirty-repo warnings."""
    snap = tmp_path_factory.mktemp("template")
    copy_working_tree(snap)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=snap, check=True, env=env, capture_output=True)
    return snap


def copier_copy(
    template: Path, dest: Path, data: Mapping[str, Any]
) -> subprocess.CompletedProcess[str]:
    """Plain `copier copy` (the CLI a consultant runs), answers from a data file."""
    answers = dest.parent / f"{dest.name}-answers.yml"
    answers.write_text(yaml.safe_dump(dict(data), allow_unicode=True))
    beside = Path(sys.executable).with_name("copier")
    copier = str(beside) if beside.exists() else shutil.which("copier") or "copier"
    return subprocess.run(
        [copier, "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD",
         "--data-file", str(answers), str(template), str(dest)],
        capture_output=True, text=True, check=False,
    )


@pytest.fixture(scope="session")
def render_repo(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> Callable[[Mapping[str, Any]], Path]:
    """Render answers with real copier; cached per answer set for the session."""
    cache: dict[str, Path] = {}

    def _render(data: Mapping[str, Any]) -> Path:
        key = yaml.safe_dump(dict(data), sort_keys=True)
        if key not in cache:
            dest = tmp_path_factory.mktemp("render") / "repo"
            result = copier_copy(template_snapshot, dest, data)
            assert result.returncode == 0, result.stderr[-3000:]
            cache[key] = dest
        return cache[key]

    return _render


def load_example(name: str) -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / f"{name}.yml").read_text())
    assert isinstance(data, dict)
    return data
