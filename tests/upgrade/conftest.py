"""Fixtures for update tests: one template repo with three tagged versions per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.upgrade import builder

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test here runs copier over template release chains: `make test-fast` skips them."""
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.upgrade)


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Template git repo: v0.1.0 (this working tree), v0.2.0, v0.3.0 (see builder.CHANGES)."""
    return builder.build_template_repo(tmp_path_factory.mktemp("tpl") / "mlops-foundations")


@pytest.fixture(scope="session")
def answers() -> dict[str, Any]:
    data = yaml.safe_load((builder.ROOT / "examples" / "minimal.yml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="session")
def other_answers() -> dict[str, Any]:
    """Beyond the examples: two projects, CMEK, a name that needs escaping everywhere."""
    return {
        "client_name": 'Fabrikam "Retail" & Co',
        "client_slug": "fabrikam",
        "gcp_parent": "folders/123456789012",
        "billing_account": "01AB23-45CD67-89EF01",
        "project_layout": "per_environment",
        "environments": ["dev", "prod"],
        "region": "europe-west4",
        "github_owner": "fabrikam",
        "github_repo": "fabrikam-ml",
        "approvers": ["@fabrikam/ml-leads"],
        "notification_email": "ml@fabrikam.example",
        "features": ["workbench", "cmek", "model_deployment"],
        "module_source": "vendored",
    }
