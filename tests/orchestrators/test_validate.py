"""`mlopsgen validate` passes on renders with both orchestrators and Cloud Composer, and the
environment roots plan one Composer environment each (real terraform, offline providers)."""

from __future__ import annotations

import shutil
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


JENKINS_OIDC = """
jenkins_oidc = {
  issuer_uri = "https://jenkins.example.com/job/ml/oidc"
  audience   = "https://iam.googleapis.com/mlops"
  subject    = "jenkins:ml-platform"
}
"""


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_render_with_orchestrators_validates(
    variant: str, render_repo: Render, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(render_repo(VARIANTS[variant]), repo, symlinks=True)
    # the consultant's step for Jenkins: the controller's issuer in the bootstrap tfvars
    with (repo / "terraform" / "bootstrap" / "terraform.tfvars").open("a") as tfvars:
        tfvars.write(JENKINS_OIDC)
    report = validate_repo(repo, skip=("test", "cloudbuild"))
    assert report.ok, [p.one_line() for p in report.problems]
    envs = [r for r in report.roots if r.root.startswith("terraform/envs/")]
    assert envs and all(r.stages["plan"] == "ok" for r in envs)
    for root in envs:
        assert root.to_add.get("google_composer_environment") == 1, root.root
        assert root.to_add.get("google_service_account", 0) >= 1
    bootstrap = next(r for r in report.roots if r.root == "terraform/bootstrap")
    assert bootstrap.stages["plan"] == "ok"
    # Jenkins may impersonate each environment's plan and apply accounts
    assert bootstrap.to_add.get("google_service_account_iam_member", 0) >= 2 * len(envs)
    assert (repo / "terraform" / "bootstrap" / "jenkins.tf").is_file()
