"""Fixtures of the offline verification tests: the fixture repo and a terraform runner that
uses the stand-in providers."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TERRAFORM = shutil.which("terraform")

needs_terraform = pytest.mark.skipif(
    TERRAFORM is None, reason="terraform is not on PATH (CI has terraform 1.11)"
)


@pytest.fixture
def fixture_repo(tmp_path: Path) -> Path:
    """A private copy of tests/offline/fixtures/repo (a small rendered-repo look-alike)."""
    dest = tmp_path / "repo"
    shutil.copytree(FIXTURES / "repo", dest)
    return dest


@pytest.fixture(scope="session")
def reattach_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment for terraform with one long-lived stand-in server (fast)."""
    from generator.offline import offline_providers

    if TERRAFORM is None:
        pytest.skip("terraform is not on PATH (CI has terraform 1.11)")
    with offline_providers(tmp_path_factory.mktemp("offline"), reattach=True) as env:
        yield {**os.environ, **env}


TF = Callable[..., subprocess.CompletedProcess[str]]


def terraform_in(directory: Path, env: dict[str, str]) -> TF:
    def tf(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert TERRAFORM is not None
        result = subprocess.run(
            [TERRAFORM, *args, "-no-color"],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert result.returncode == 0, f"terraform {args[0]}:\n{result.stdout}\n{result.stderr}"
        return result

    return tf
