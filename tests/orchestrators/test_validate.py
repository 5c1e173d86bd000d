"""`mlopsgen validate` passes on renders with both orchestrators and Cloud Composer, and the
environment roots plan one Composer environment each (real terraform, offline providers)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from generator.validate import validate_repo
from tests.conftest import load_example
from tests.offline.conftest import needs_terraform

pytestmark = [needs_terraform, pytest.mark.terraform]

Render = Callable[[Mapping[str, Any]], Path]

VARIANTS = {
    "full-both-composer": {**load_example("full"), "orchestrators": ["airflow", "jenkins"],
                           "composer": True, "retrain_schedule": "30 4 * * 1-5"},
    "single-project-composer": {**load_example("minimal"), "environments": ["dev", "prod"],
                                "orchestrators": ["airflow", "jenkins"], "composer": True},
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_render_with_orchestrators_validates(variant: str, render_repo: Render) -> None:
    repo = render_repo(VARIANTS[variant])
    report = validate_repo(repo, skip=("test", "cloudbuild"))
    assert report.ok, [p.one_line() for p in report.problems]
    envs = [r for r in report.roots if r.root.startswith("terraform/envs/")]
    assert envs and all(r.stages["plan"] == "ok" for r in envs)
    for root in envs:
        assert root.to_add.get("google_composer_environment") == 1, root.root
        assert root.to_add.get("google_service_account", 0) >= 1
