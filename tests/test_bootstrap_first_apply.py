"""The bootstrap root's first apply with a person's credentials (issue 12, likely findings):
the API key goes through a provider configuration that names a quota project, and with the
GitHub App's installation id answered before the first apply, the Cloud Build connection waits
for a token in the secret that apply creates (a check that says so, instead of the API's error).

Plans the rendered bootstrap offline (stand-in providers) and reads the plan's configuration;
the check's condition is evaluated by real terraform on the rendered block."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from generator.workspace import offline_workspace

from .conftest import load_example

pytestmark = pytest.mark.terraform

CHECK = 'resource "terraform_data" "github_token_stored"'


def _run(root: Path, args: list[str], env: Mapping[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["terraform", f"-chdir={root}", *args], env=env, capture_output=True,
                          text=True, check=False, timeout=600)


@pytest.fixture(scope="module", params=["full", "minimal"])
def bootstrap_plan(request: pytest.FixtureRequest, render_repo: Any
                   ) -> tuple[dict[str, Any], Path, dict[str, Any]]:
    """(answers, rendered repo, `terraform show -json` of the bootstrap's offline plan)."""
    answers = load_example(request.param)
    repo = render_repo(answers)
    with offline_workspace(repo) as ws:
        root = ws.path("terraform/bootstrap")
        env = {**ws.env, "PATH": "/usr/local/bin:/usr/bin:/bin"}
        for args in (["init", "-input=false", "-no-color"],
                     ["plan", "-input=false", "-no-color", "-refresh=false", "-lock=false",
                      "-out=tfplan"]):
            done = _run(root, args, env)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        shown = _run(root, ["show", "-json", "tfplan"], env)
        assert shown.returncode == 0, shown.stderr
        return answers, repo, json.loads(shown.stdout)


def test_api_key_names_the_cicd_project_as_quota_project(
    bootstrap_plan: tuple[dict[str, Any], Path, dict[str, Any]],
) -> None:
    """API Keys refuses user ADC without a quota project (provider issue #24500)."""
    _, _, plan = bootstrap_plan
    config = plan["configuration"]
    (key,) = [r for r in config["root_module"]["resources"] if r["type"] == "google_apikeys_key"]
    assert key["provider_config_key"] == "google.cicd_quota"
    quota = config["provider_config"]["google.cicd_quota"]["expressions"]
    assert quota["user_project_override"]["constant_value"] is True
    assert quota["billing_project"]["references"][0] == "var.cicd_project.id"
    # the default configuration (which also creates the CI/CD project) names no quota project
    assert "user_project_override" not in config["provider_config"]["google"]["expressions"]


def test_connection_waits_for_the_token_check(
    bootstrap_plan: tuple[dict[str, Any], Path, dict[str, Any]],
) -> None:
    answers, _, plan = bootstrap_plan
    connected = bool(answers.get("github_app_installation_id"))
    root = plan["configuration"]["root_module"]
    calls = root["module_calls"]
    assert "terraform_data.github_token_stored" in calls["cloudbuild_github_connection"][
        "depends_on"]
    planned = {rc["address"] for rc in plan["resource_changes"]}
    assert ("terraform_data.github_token_stored[0]" in planned) is connected
    assert any(a.startswith("module.cloudbuild_github_connection[0].") for a in planned) \
        is connected


def _check_block(repo: Path) -> str:
    """The rendered check, with the secret's create_time as a variable and always counted."""
    text = (repo / "terraform" / "bootstrap" / "cicd.tf").read_text()
    start = text.index(CHECK)
    end = text.index("\n}\n", start) + 3
    block = text[start:end]
    assert "google_secret_manager_secret.github_token.create_time" in block
    block = block.replace("google_secret_manager_secret.github_token.create_time",
                          "var.create_time")
    return re.sub(r"count\s*=.*", "count = 1", block, count=1)


@pytest.mark.parametrize(("created", "stops"), [
    ("2999-01-01T00:00:00.123456Z", True),   # created by this apply: after the plan started
    ("2024-05-01T08:30:00.654321Z", False),  # created by an earlier apply
])
def test_the_check_stops_an_apply_that_created_the_secret(
    bootstrap_plan: tuple[dict[str, Any], Path, dict[str, Any]], tmp_path: Path,
    created: str, stops: bool,
) -> None:
    _, repo, _ = bootstrap_plan
    (tmp_path / "main.tf").write_text(
        'variable "create_time" {\n  type = string\n}\n\n' + _check_block(repo))
    env = {"TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1",
           "PATH": "/usr/local/bin:/usr/bin:/bin"}
    assert _run(tmp_path, ["init", "-input=false", "-no-color"], env).returncode == 0
    done = _run(tmp_path, ["apply", "-auto-approve", "-input=false", "-no-color",
                           f"-var=create_time={created}"], env)
    assert (done.returncode != 0) is stops, done.stdout + done.stderr
    if stops:
        message = " ".join(done.stderr.split())
        assert "github-token secret was created by this apply" in message
        assert "docs/promotion.md" in message and "terraform apply again" in message
