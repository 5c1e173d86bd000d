"""`mlopsgen plan --offline` / `apply --offline`: a scratch copy with a local backend and the
stand-in providers of generator.offline (issue 3), on fixture repos and a rendered example."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from hookfixtures import ClientRepo, needs_terraform

from generator.cli import main

pytestmark = [needs_terraform, pytest.mark.terraform, pytest.mark.usefixtures("tf_env")]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_offline_plan_and_rehearsal_apply(client_repo: ClientRepo) -> None:
    repo = str(client_repo.path)
    res = run("plan", repo, "--env", "dev", "--offline", "--quiet")
    assert res.exit_code == 2, res.output
    assert "Plan for dev (offline preview)" in res.stdout
    rec = json.loads((client_repo.plan_dir("dev", offline=True) / "summary.json").read_text())
    assert rec["offline"] is True
    # the real root is untouched: no init there, no state in its backend
    assert not (client_repo.root("dev") / ".terraform").exists()
    assert not client_repo.state_file("dev").exists()
    # an offline preview is never applied for real
    res = run("apply", repo, "--env", "dev", "--quiet")
    assert res.exit_code == 1 and "no saved plan for 'dev'" in res.stderr

    res = run("apply", repo, "--env", "dev", "--offline", "--quiet")
    assert res.exit_code == 0, res.output
    assert "Applied the saved plan to offline rehearsal state." in res.stdout
    assert not client_repo.state_file("dev").exists()
    assert run("plan", repo, "--env", "dev", "--offline", "--quiet").exit_code == 0

    client_repo.set_vars("dev", bucket_name="acme-dev-renamed")
    args = ("plan", repo, "--env", "dev", "--offline", "--quiet",
            "--protect-type", "terraform_data")
    assert run(*args).exit_code == 3
    assert run(*args, "--allow-destroy", "terraform_data.bucket").exit_code == 2


def _rendered(render_repo, example: str = "full") -> Path:  # type: ignore[no-untyped-def]
    return Path(render_repo(yaml.safe_load((EXAMPLES / f"{example}.yml").read_text())))


@pytest.mark.slow
def test_rendered_full_example_plans_offline(render_repo) -> None:  # type: ignore[no-untyped-def]
    dest = _rendered(render_repo)
    envs = yaml.safe_load((dest / ".copier-answers.yml").read_text())["environments"]
    for env in envs:
        res = run("plan", str(dest), "--env", env, "--offline", "--quiet", "--json")
        assert res.exit_code == 2, res.output
        body = json.loads(res.stdout)
        assert body["status"] == "changes"
        assert body["summary"]["totals"]["create"] > 0
        assert body["summary"]["by_type"]["google_storage_bucket"]["create"] >= 1


@pytest.mark.slow
def test_rendered_bucket_replacement_is_refused_then_allowed(
    render_repo, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    dest = tmp_path / "repo"
    shutil.copytree(_rendered(render_repo, "minimal"), dest)  # the smallest render: one env
    env = "prod"
    res = run("plan", str(dest), "--env", env, "--offline", "--quiet", "--json")
    assert res.exit_code == 2, res.output
    plan = json.loads(Path(json.loads(res.stdout)["plan_json"]).read_text())
    [bucket] = [rc["address"] for rc in plan["resource_changes"]
                if rc["type"] == "google_storage_bucket" and ".data_bucket." in rc["address"]]
    assert run("apply", str(dest), "--env", env, "--offline", "--quiet").exit_code == 0
    # replacing the data bucket (as a rename or a forced replacement does) is refused...
    res = run("plan", str(dest), "--env", env, "--offline", "--quiet", "--json",
              "--replace", bucket)
    assert res.exit_code == 3, res.output
    body = json.loads(res.stdout)
    assert [(v["rule"], v["address"], v["allowed"]) for v in body["policy"]["violations"]] == [
        ("protected-destroy", bucket, False)
    ]
    assert body["summary"]["destructive"] == [{
        "address": bucket, "type": "google_storage_bucket", "action": "replace",
        "action_reason": "replace_by_request",
    }]
    # ...until --allow-destroy names it
    res = run("plan", str(dest), "--env", env, "--offline", "--quiet", "--replace", bucket,
              "--allow-destroy", bucket)
    assert res.exit_code == 2, res.output
    assert f"ALLOWED: plan would replace protected google_storage_bucket {bucket}" in res.stdout


@pytest.mark.slow
def test_offline_plan_of_a_git_sourced_render_needs_no_network(
    render_repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    """`module_source: git` renders reference the template by URL; `plan --offline` must plan
    them from the local template (the same workspace validate uses), never fetching."""
    answers = yaml.safe_load((EXAMPLES / "minimal.yml").read_text())
    answers.update(module_source="git",
                   module_git_url="https://github.com/example-consultancy/mlops-foundations.git")
    dest = tmp_path / "repo"
    shutil.copytree(Path(render_repo(answers)), dest)
    main_tf = (dest / "terraform" / "envs" / "prod" / "main.tf").read_text()
    assert "git::https://github.com/example-consultancy/mlops-foundations.git//" in main_tf
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file")  # any fetch over the network fails at once
    res = run("plan", str(dest), "--env", "prod", "--offline", "--quiet", "--json")
    assert res.exit_code == 2, res.output
    body = json.loads(res.stdout)
    assert body["summary"]["by_type"]["google_storage_bucket"]["create"] >= 1
