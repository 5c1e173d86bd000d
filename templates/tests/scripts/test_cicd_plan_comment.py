"""scripts/plan_comment.py: the pull request plan comment of the trusted comment build, and the
merge build's comment of the plan it will apply."""

from __future__ import annotations

from typing import Any

import plan_comment
import pytest
from cicd_fakeapi import FakeApi

SHA = "0123456789abcdef0123456789abcdef01234567"
RECORD = {
    "summary": {"totals": {"create": 3, "update": 1, "delete": 0, "replace": 0}},
    "policy": {"refused": False, "violations": [], "unused_allowances": []},
    "plan_sha256": "ab" * 32,
}
REFUSED = {
    "summary": {"totals": {"create": 0, "update": 0, "delete": 1, "replace": 0}},
    "policy": {"refused": True, "violations": [{"address": "x", "allowed": False}]},
}
SUMMARY = "Plan for dev\nresource type ...\n\nPolicy gate: passed\nSaved in /workspace/x\n" \
          "Apply it with: mlopsgen apply /workspace --env dev\n"


def test_headline() -> None:
    assert plan_comment.headline(RECORD) == ("3 to create, 1 to update, 0 to delete, "
                                             "0 to replace; policy gate passed")
    assert "refused by the policy gate" in plan_comment.headline(REFUSED)
    assert plan_comment.headline(None).startswith("❌ no plan")
    unused = {**RECORD, "policy": {**RECORD["policy"], "unused_allowances": ["a.b`\n@x"]}}
    assert plan_comment.refusal(RECORD) is None
    assert plan_comment.headline(unused).endswith(
        "allow-destroy.txt allows what this plan does not destroy: `a.b' @x` (remove those lines)")


def test_summary_is_fenced_beyond_any_backtick_run_and_loses_laptop_hints() -> None:
    text = "x ```` y"
    fenced = plan_comment.fenced(text)
    assert fenced.startswith("`````text\n") and fenced.endswith("\n`````")
    cleaned = plan_comment.clean_summary(SUMMARY)
    assert "Saved in" not in cleaned and "Apply it with" not in cleaned
    assert cleaned.endswith("Policy gate: passed")
    long = plan_comment.clean_summary("y" * (plan_comment.MAX_TEXT + 10))
    assert long.endswith("(truncated; the full summary is in the plans bucket)")


def test_bodies_say_what_is_applied() -> None:
    pr = plan_comment.pr_body(env="dev", commit=SHA, status="SUCCESS", record=RECORD,
                              summary=SUMMARY, log_url="https://log")
    assert pr.startswith("<!-- mlopsgen:plan env=dev -->")
    assert "Nothing is applied from it" in pr and "[log](https://log)" in pr
    merge = plan_comment.merge_body(env="dev", commit=SHA, build_id="b1", record=RECORD,
                                    summary=SUMMARY, plan_uri="gs://p/dev/merge/x/b1/",
                                    apply_url="https://apply", approval_required=True)
    assert "waits for an approver" in merge and "`gs://p/dev/merge/x/b1/`" in merge
    refused = plan_comment.merge_body(env="dev", commit=SHA, build_id="b2", record=REFUSED,
                                      summary=None, plan_uri="gs://p/dev/merge/x/b2/",
                                      apply_url=None, approval_required=True)
    assert "Nothing is applied" in refused


def _main(*extra: str, status: str = "SUCCESS", trigger: str = "dev-terraform-plan",
          commit: str = SHA) -> int:
    return plan_comment.main([
        "--env", "dev", "--repo", "acme/acme-mlops", "--pr", "7", "--commit", commit,
        "--plan-build", "b1", "--status", status, "--bucket", "plans", "--trigger", trigger,
        "--expected-trigger", "dev-terraform-plan", "--log-url", "https://log", *extra])


@pytest.fixture
def pull(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    api.pulls.append({"number": 7, "state": "open", "head": {"ref": "feature", "sha": SHA},
                      "base": {"ref": "dev"}})
    loaded: list[Any] = []

    def load(bucket: str, prefix: str) -> tuple[dict[str, Any], str]:
        loaded.append((bucket, prefix))
        return RECORD, SUMMARY

    monkeypatch.setattr(plan_comment, "_load", load)
    return loaded


def test_posts_once_then_edits(api: FakeApi, pull: list[Any]) -> None:
    assert _main() == 0
    assert _main(status="FAILURE") == 0
    thread = api.comments[7]
    assert len(thread) == 1 and "plan build failure" in thread[0]["body"]
    assert pull == [("plans", f"dev/pr/{SHA}/b1/")] * 2
    assert [c.method for c in api.writes()] == ["POST", "PATCH"]
    assert all(c.auth == "Bearer test-token" for c in api.calls)


def test_nothing_for_other_triggers_unfinished_builds_or_an_old_commit(
    api: FakeApi, pull: list[Any]
) -> None:
    assert _main(trigger="prod-terraform-plan") == 0
    assert _main(status="WORKING") == 0
    assert _main(commit="f" * 40) == 0  # the pull request moved on
    assert api.writes() == [] and pull == []


def test_other_environment_gets_its_own_comment(api: FakeApi, pull: list[Any]) -> None:
    api.comments[7] = [{"id": 99, "body": "<!-- mlopsgen:plan env=staging -->\nold"}]
    assert _main() == 0
    assert len(api.comments[7]) == 2
    assert api.comments[7][0]["body"].endswith("old")


def test_dry_run_writes_nothing(api: FakeApi, pull: list[Any]) -> None:
    assert _main("--dry-run") == 0
    assert api.writes() == []
    assert any(c.method == "GET" for c in api.calls)


def test_the_merged_pull_request_of_a_commit(api: FakeApi) -> None:
    from ghapi import GitHub

    api.pulls.append({"number": 9, "state": "closed", "merged_at": "2025-01-01T00:00:00Z",
                      "merge_commit_sha": SHA, "head": {"ref": "f", "sha": "e" * 40},
                      "base": {"ref": "dev"}})
    gh = GitHub("acme/acme-mlops")
    assert plan_comment.merged_pull(gh, SHA) == 9
    assert plan_comment.merged_pull(gh, "d" * 40) is None
