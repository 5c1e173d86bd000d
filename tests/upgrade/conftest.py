"""Fixtures for update tests: one template repo with three tagged versions per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.upgrade import builder


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Template git repo: v0.1.0 (this working tree), v0.2.0, v0.3.0 (see builder.CHANGES)."""
    return builder.build_template_repo(tmp_path_factory.mktemp("tpl") / "mlops-foundations")


@pytest.fixture(scope="session")
def answers() -> dict[str, Any]:
    data = yaml.safe_load((builder.ROOT / "examples" / "minimal.yml").read_text())
    assert isinstance(data, dict)
    return data
