"""Shared fixtures for the ML workload's unit tests (no cloud access anywhere)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def env_configs() -> dict[str, config.EnvConfig]:
    names = config.available_environments()
    assert names, f"no config/<env>.yaml in {config.CONFIG_DIR}"
    return {name: config.load(name) for name in names}


@pytest.fixture(scope="session")
def first_config(env_configs: dict[str, config.EnvConfig]) -> config.EnvConfig:
    return env_configs[config.promotion_order(env_configs)[0]]
