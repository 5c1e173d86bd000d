"""Fixtures for the infra hook tests (helpers live in hookfixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookfixtures import ClientRepo, make_client_repo


@pytest.fixture
def client_repo(tmp_path: Path) -> ClientRepo:
    return make_client_repo(tmp_path / "client")


@pytest.fixture
def tf_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A terraform CLI config that exists (the machine's may not); no stray TF_* settings."""
    rc = tmp_path / "terraformrc"
    rc.write_text("")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(rc))
    for var in ("TF_DATA_DIR", "TF_WORKSPACE", "TF_CLI_ARGS", "TF_CLI_ARGS_plan",
                "TF_CLI_ARGS_apply", "TF_CLI_ARGS_init"):
        monkeypatch.delenv(var, raising=False)
