"""The scheduled template-update build in rendered repos: the answers switch it on (the default)
and off, the schedule is an answer, and a connected bootstrap plans it offline (real copier,
real terraform with the stand-in providers): a manual trigger that Cloud Scheduler runs as its
own account, a build account that reads the GitHub token and writes logs and nothing else (no
state, no plans bucket, no builds), and the validate stages (cloudbuild, iam) prove it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from generator import model
from generator.errors import AnswersError
from generator.validate import validate_repo

from .conftest import load_example

MINIMAL = load_example("minimal")
FULL = load_example("full")
CONFIG = "cloudbuild/template-update.yaml"
BOOTSTRAP = "terraform/bootstrap/template_update.tf"
Render = Callable[[Mapping[str, Any]], Path]


def test_on_by_default_with_a_weekly_schedule() -> None:
    ctx = model.build_context(model.validate_answers(MINIMAL), template_ref="HEAD")
    update = ctx["ci"]["template_update"]
    assert update["enabled"] and update["schedule"] == "0 6 * * 1"
    assert update["base_branch"] == ctx["first_environment"]["branch"]
    assert update["email"].startswith("ci-template-update@")


@pytest.mark.parametrize("schedule", ["every monday", "* * * *", "61 * * * *"])
def test_a_bad_schedule_is_refused(schedule: str) -> None:
    with pytest.raises(AnswersError, match="template_update_schedule"):
        model.validate_answers({**MINIMAL, "template_update_schedule": schedule})


def test_the_answer_decides_the_files(render_repo: Render) -> None:
    on = render_repo({**MINIMAL, "template_update_schedule": "30 5 * * *"})
    assert (on / CONFIG).is_file() and (on / BOOTSTRAP).is_file()
    text = (on / BOOTSTRAP).read_text()
    assert 'schedule              = "30 5 * * *"' in text
    assert 'base_branch           = "main"' in text
    off = render_repo({**MINIMAL, "template_updates": False})
    assert not (off / CONFIG).exists() and not (off / BOOTSTRAP).exists()
    assert "template_update" not in (off / "terraform/bootstrap/cicd.tf").read_text()


def _after(plan: Mapping[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [rc["change"]["after"] for rc in plan["resource_changes"]
            if rc["type"] == rtype and "create" in rc["change"]["actions"]]


def _grants_to(plan: Mapping[str, Any], email: str) -> list[tuple[str, str, str]]:
    member = f"serviceAccount:{email}"
    found = []
    for rc in plan["resource_changes"]:
        after = rc["change"]["after"] or {}
        if rc["type"].endswith("_iam_member") and after.get("member") == member:
            where = (after.get("secret_id") or after.get("bucket") or after.get("project")
                     or rc["type"])
            found.append((rc["type"], str(where), after["role"]))
    return sorted(found)


@pytest.mark.terraform
@pytest.mark.slow
@pytest.mark.parametrize("answers", [MINIMAL, FULL], ids=["minimal", "full"])
def test_connected_bootstrap_plans_the_scheduled_update(render_repo: Render,
                                                        answers: Mapping[str, Any]) -> None:
    answers = {**answers, "github_app_installation_id": "4242"}
    repo = render_repo(answers)
    report = validate_repo(repo, skip=("test", "checkov"))
    assert report.ok, "\n".join(p.one_line() for p in report.problems)
    stages = report.to_json()["stages"]
    assert stages["cloudbuild"] == "ok" and stages["iam"] == "ok"
    ctx = model.build_context(model.validate_answers(answers), template_ref="HEAD")
    update, cicd = ctx["ci"]["template_update"], ctx["cicd_project"]["id"]
    plan = report.plans["terraform/bootstrap"]

    (trigger,) = [t for t in _after(plan, "google_cloudbuild_trigger")
                  if t["name"] == "template-update"]
    assert trigger["service_account"] == f"projects/{cicd}/serviceAccounts/{update['email']}"
    assert not trigger.get("repository_event_config") and not trigger.get("pubsub_config")
    assert trigger["source_to_build"][0]["ref"] == f"refs/heads/{update['base_branch']}"
    assert trigger["git_file_source"][0]["path"] == CONFIG
    assert trigger["git_file_source"][0]["revision"] == f"refs/heads/{update['base_branch']}"
    assert trigger["substitutions"]["_TEMPLATE_TOKEN_SECRET"] == "github-token"

    (job,) = _after(plan, "google_cloud_scheduler_job")
    assert job["schedule"] == "0 6 * * 1" and job["time_zone"] == "Etc/UTC"
    target = job["http_target"][0]
    assert target["http_method"] == "POST"
    assert target["oauth_token"][0]["service_account_email"] == update["scheduler_email"]

    # least privilege: the build reads the token and writes logs; nothing of Terraform's
    assert _grants_to(plan, update["email"]) == [
        ("google_project_iam_member", cicd, "roles/logging.logWriter"),
        ("google_secret_manager_secret_iam_member", "github-token",
         "roles/secretmanager.secretAccessor"),
    ]
    assert [g for g in _grants_to(plan, update["scheduler_email"])
            if g[0] != "google_service_account_iam_member"] == [
        ("google_project_iam_member", cicd, "roles/cloudbuild.builds.editor")]
    for root, other in report.plans.items():
        if root != "terraform/bootstrap":
            assert _grants_to(other, update["email"]) == [], root
            assert _grants_to(other, update["scheduler_email"]) == [], root


@pytest.mark.terraform
@pytest.mark.slow
def test_turned_off_plans_no_trigger_and_no_account(render_repo: Render) -> None:
    answers = {**MINIMAL, "github_app_installation_id": "4242", "template_updates": False}
    report = validate_repo(render_repo(answers), skip=("test", "checkov"))
    assert report.ok, "\n".join(p.one_line() for p in report.problems)
    plan = report.plans["terraform/bootstrap"]
    assert [t["name"] for t in _after(plan, "google_cloudbuild_trigger")
            if t["name"] == "template-update"] == []
    assert _after(plan, "google_cloud_scheduler_job") == []
    accounts = {a["account_id"] for a in _after(plan, "google_service_account")}
    assert not accounts & {"ci-template-update", "ci-template-update-cron"}
