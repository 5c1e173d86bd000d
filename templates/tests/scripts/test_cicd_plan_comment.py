"""scripts/plan_comment.py: the plan summary comment on a pull request."""

from __future__ import annotations

from pathlib import Path

import plan_comment
from cicd_fakeapi import FakeApi

PLAN_OK = """
Terraform will perform the following actions:
  # google_storage_bucket.data will be created
Plan: 3 to add, 1 to change, 0 to destroy.
"""


def test_summarize() -> None:
    assert plan_comment.summarize(PLAN_OK, 0) == "3 to add, 1 to change, 0 to destroy"
    assert "destroys" in plan_comment.summarize("Plan: 0 to add, 0 to change, 2 to destroy.", 0)
    assert plan_comment.summarize("No changes. Your infrastructure matches.", 0) == "no changes"
    assert plan_comment.summarize(PLAN_OK, 1).startswith("❌ plan failed")
    colored = "\x1b[1mPlan:\x1b[0m 1 to add, 0 to change, 0 to destroy."
    assert plan_comment.summarize(plan_comment._ANSI.sub("", colored), 0).startswith("1 to add")


def test_body_truncates_and_defuses_fences() -> None:
    body = plan_comment.comment_body("dev", "```\n" + "x" * 70000, 0)
    assert "truncated" in body
    assert body.count("```") == 2
    assert len(body) < 61000


def _run(tmp_path: Path, *extra: str, rc: str = "0") -> int:
    plan = tmp_path / "plan.txt"
    plan.write_text(PLAN_OK)
    (tmp_path / "plan.rc").write_text(rc)
    return plan_comment.main(["--env", "dev", "--pr", "7", "--repo", "acme/acme-mlops",
                              "--plan-file", str(plan), "--exit-code-file",
                              str(tmp_path / "plan.rc"), *extra])


def test_posts_once_then_edits(api: FakeApi, tmp_path: Path) -> None:
    assert _run(tmp_path) == 0
    assert _run(tmp_path) == 0
    thread = api.comments[7]
    assert len(thread) == 1
    assert "<!-- mlopsgen:plan env=dev -->" in thread[0]["body"]
    assert "3 to add, 1 to change, 0 to destroy" in thread[0]["body"]
    assert [c.method for c in api.writes()] == ["POST", "PATCH"]
    assert all(c.auth == "Bearer test-token" for c in api.calls)


def test_failed_plan_is_commented_and_fails(api: FakeApi, tmp_path: Path) -> None:
    assert _run(tmp_path, rc="1") == 1
    assert "plan failed" in api.comments[7][0]["body"]


def test_other_environment_gets_its_own_comment(api: FakeApi, tmp_path: Path) -> None:
    api.comments[7] = [{"id": 99, "body": "<!-- mlopsgen:plan env=staging -->\nold"}]
    assert _run(tmp_path) == 0
    assert len(api.comments[7]) == 2
    assert api.comments[7][0]["body"].endswith("old")


def test_dry_run_writes_nothing(api: FakeApi, tmp_path: Path) -> None:
    assert _run(tmp_path, "--dry-run") == 0
    assert api.writes() == []
    assert any(c.method == "GET" for c in api.calls)
