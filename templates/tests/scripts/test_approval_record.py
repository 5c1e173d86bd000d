"""scripts/approval_record.py: the approval record of promoted and rejected candidates, built
purely from GitHub's answers and written through local fakes of GitHub, Cloud Storage and
Vertex AI (the promotion and rollback scripts' hooks included)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import approval_record as ar
import promote
import pytest
import rollback
from cicd_fakeapi import FakeApi
from hypothesis import given
from hypothesis import strategies as st

SHA = "c" * 40
PROJECT = "acme-staging-1a2b"
PARENT = f"projects/{PROJECT}/locations/us-central1"
MODEL = f"{PARENT}/models/42"
BUCKET = f"{PROJECT}-pipeline-root"
CONFIG = f"""\
environment: staging
project_id: {PROJECT}
region: us-central1
buckets:
  data: {PROJECT}-data
  pipeline_root: {BUCKET}
pipeline_root_prefixes:
  runs: runs/
  scheduled: scheduled/
"""
REVIEWS = [
    {"user": {"login": "Ana-Lima"}, "state": "CHANGES_REQUESTED",
     "submitted_at": "2026-03-01T10:00:00Z", "commit_id": "b" * 40},
    {"user": {"login": "sam"}, "state": "APPROVED", "submitted_at": "2026-03-01T11:00:00Z",
     "commit_id": SHA},
    {"user": {"login": "Ana-Lima"}, "state": "APPROVED", "submitted_at": "2026-03-02T09:00:00Z",
     "commit_id": SHA},
    {"user": {"login": "sam"}, "state": "COMMENTED", "submitted_at": "2026-03-02T10:00:00Z",
     "commit_id": SHA},
]
LABEL = re.compile(r"^[a-z0-9_-]{0,63}$")


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    d.mkdir()
    (d / "staging.yaml").write_text(CONFIG)
    return d


def merged_pull(number: int = 7) -> dict:
    return {"number": number, "state": "closed", "title": "Promote dev → staging",
            "html_url": f"https://github.com/acme/acme-mlops/pull/{number}",
            "body": "<!-- mlopsgen:promotion env=dev -->\n## Promote",
            "head": {"ref": "dev", "sha": SHA}, "base": {"ref": "staging"},
            "merged_at": "2026-03-02T12:00:00Z", "closed_at": "2026-03-02T12:00:00Z",
            "merge_commit_sha": "m" * 40, "merged_by": {"login": "lead"}}


def world(api: FakeApi) -> None:
    api.pulls = [merged_pull()]
    api.reviews[7] = REVIEWS
    api.events[7] = [{"event": "closed", "actor": {"login": "lead"}}]
    api.models = {MODEL: [
        {"versionId": "1", "labels": {"commit": "a" * 40}},
        {"versionId": "2", "labels": {"commit": SHA, "data-snapshot": "acme_runs_snap_1"}},
    ]}


# --- pure --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [
    ("Ana-Lima", "ana-lima"),
    ("dependabot[bot]", "dependabot-bot-"),
    ("12", "12"),
    ("x" * 70, "x" * 63),
    ("a" * 62 + "!b", "a" * 62),
    ("Zoë O'Brien", "zo-o-brien"),
    ("", ""),
])
def test_label_value_follows_gcp_label_rules(text: str, value: str) -> None:
    assert ar.label_value(text) == value


@given(st.text())
def test_every_label_value_is_valid(text: str) -> None:
    assert LABEL.fullmatch(ar.label_value(text))


def test_approvers_are_last_decisive_reviews() -> None:
    # Ana requested changes, then approved; Sam approved, then only commented
    assert ar.approvers(REVIEWS) == ["sam", "Ana-Lima"]
    dismissed = [*REVIEWS, {"user": {"login": "sam"}, "state": "DISMISSED",
                            "submitted_at": "2026-03-03T00:00:00Z"}]
    assert ar.approvers(dismissed) == ["Ana-Lima"]
    assert ar.approvers([]) == []


def test_record_of_a_rejection_names_who_closed_it() -> None:
    pull = {**merged_pull(), "merged_at": None, "merged_by": None}
    events = [{"event": "reopened", "actor": {"login": "x"}},
              {"event": "closed", "actor": {"login": "first"}},
              {"event": "closed", "actor": {"login": "risk-officer"}}]
    doc = ar.build_record(env="dev", commit=SHA, pull=pull, reviews=[], events=events,
                          metrics={"mae": 2.5}, data_snapshot="snap", model_versions=["m@2"],
                          build_url=None, recorded_at="2026-03-02T12:00:00+00:00")
    assert doc["decision"] == "rejected" and doc["closed_by"] == "risk-officer"
    assert doc["merged_by"] is None and doc["pull_request"]["merge_commit_sha"] is None
    assert ar.record_labels(doc) == {"approval": "rejected", "decided-by": "risk-officer",
                                     "approval-pr": "7"}
    assert json.loads(json.dumps(doc)) == doc


def test_run_facts_read_metrics_and_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"metrics": {"mae": 1.5}, "snapshot_table": "p.d.t_snapshot_r"}))
    assert ar.run_facts(path) == ({"mae": 1.5}, "p.d.t_snapshot_r")
    assert ar.run_facts(tmp_path / "missing.json") == ({}, None)


# --- through the fakes ---------------------------------------------------------------------------


def test_promotion_record_labels_comment_and_json(api: FakeApi, config_dir: Path) -> None:
    world(api)
    code = ar.main(["--env", "staging", "--commit", SHA, "--repo", "acme/acme-mlops",
                    "--branch", "staging", "--config-dir", str(config_dir)])
    assert code == 0
    name = f"approvals/staging/{SHA}-pr7.json"
    doc = api.objects[BUCKET][name]
    assert doc["decision"] == "promoted" and doc["commit"] == SHA
    assert doc["approved_by"] == ["sam", "Ana-Lima"] and doc["merged_by"] == "lead"
    assert doc["pull_request"]["number"] == 7 and doc["pull_request"]["head_sha"] == SHA
    assert doc["data_snapshot"] == "acme_runs_snap_1"
    assert doc["model_versions"] == [f"{MODEL}@2"]
    # the commit's model version carries the decision; the other one is untouched
    assert api.models[MODEL][1]["labels"] == {
        "commit": SHA, "data-snapshot": "acme_runs_snap_1", "approval": "promoted",
        "approved-by": "sam", "approval-pr": "7"}
    assert api.models[MODEL][0]["labels"] == {"commit": "a" * 40}
    # the promotion pull request links the record
    (comment,) = api.comments[7]
    assert f"gs://{BUCKET}/{name}" in comment["body"] and "approved by: sam, Ana-Lima" in \
        comment["body"]


def test_a_record_is_written_once(api: FakeApi, config_dir: Path) -> None:
    world(api)
    args = ["--env", "staging", "--commit", SHA, "--repo", "acme/acme-mlops", "--pr", "7",
            "--config-dir", str(config_dir)]
    assert ar.main(args) == 0
    writes = len(api.writes())
    first = api.objects[BUCKET][f"approvals/staging/{SHA}-pr7.json"]
    api.reviews[7] = []  # what GitHub says later does not rewrite history
    assert ar.main(args) == 0
    assert api.objects[BUCKET][f"approvals/staging/{SHA}-pr7.json"] == first
    # one refused upload, no second comment or label change
    assert [c.method for c in api.writes()[writes:]] == ["POST"]
    assert len(api.comments[7]) == 1


def test_commit_without_a_merged_promotion_records_nothing(api: FakeApi,
                                                           config_dir: Path) -> None:
    world(api)
    api.pulls[0]["body"] = "a feature pull request"
    assert ar.main(["--env", "staging", "--commit", SHA, "--repo", "acme/acme-mlops",
                    "--config-dir", str(config_dir)]) == 0
    assert api.writes() == []


def test_promote_records_the_promotion_that_brought_its_commit(
        api: FakeApi, config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world(api)
    # promote.py reads the repo's config/; here the test's
    monkeypatch.setitem(ar.record_arrival.__kwdefaults__, "config_dir", config_dir)
    api.compare["prod...staging"] = {"ahead_by": 1, "files": [{"filename": "x"}],
                                     "commits": [{"sha": SHA, "commit": {"message": "m"}}]}
    assert promote.main(["--env", "staging", "--next-env", "prod", "--source-branch", "staging",
                         "--target-branch", "prod", "--commit", SHA,
                         "--repo", "acme/acme-mlops"]) == 0
    assert f"approvals/staging/{SHA}-pr7.json" in api.objects[BUCKET]
    assert any(p["base"]["ref"] == "prod" for p in api.pulls)


def test_promotion_survives_a_record_that_cannot_be_written(
        api: FakeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    world(api)
    monkeypatch.setitem(ar.record_arrival.__kwdefaults__, "config_dir", tmp_path)  # no config
    api.compare["prod...staging"] = {"ahead_by": 1, "files": [{"filename": "x"}],
                                     "commits": [{"sha": SHA, "commit": {"message": "m"}}]}
    assert promote.main(["--env", "staging", "--next-env", "prod", "--source-branch", "staging",
                         "--target-branch", "prod", "--commit", SHA,
                         "--repo", "acme/acme-mlops"]) == 0
    assert "warning: no approval record" in capsys.readouterr().err
    assert any(p["base"]["ref"] == "prod" for p in api.pulls)


def test_rollback_records_the_rejection_before_deleting(api: FakeApi, config_dir: Path) -> None:
    world(api)
    rejected = {**merged_pull(12), "merged_at": None, "merged_by": None,
                "head": {"ref": "staging", "sha": SHA}, "base": {"ref": "prod"}}
    api.pulls = [rejected]
    api.events[12] = [{"event": "closed", "actor": {"login": "risk-officer"}}]
    api.pull_commits[12] = [SHA]
    api.refs = {"staging": "s", "prod": "p"}
    api.commits = {"s": {"tree": "t"}, "p": {"tree": "t"}}
    api.trees = {"t": []}
    api.compare["prod...staging"] = {"ahead_by": 0, "base_commit": {"sha": "p"}, "files": []}
    assert rollback.main(["--env", "staging", "--commit", SHA, "--pr", "12",
                          "--repo", "acme/acme-mlops", "--source-branch", "staging",
                          "--target-branch", "prod", "--config-dir", str(config_dir),
                          "--wait-seconds", "0"]) == 0
    doc = api.objects[BUCKET][f"approvals/staging/{SHA}-pr12.json"]
    assert doc["decision"] == "rejected" and doc["closed_by"] == "risk-officer"
    # recorded while the version still existed; then the rollback deleted it
    assert doc["model_versions"] == [f"{MODEL}@2"]
    assert [v["versionId"] for v in api.models[MODEL]] == ["1"]
    assert "approval record" in api.comments[12][0]["body"].lower()
