"""scripts/rollback.py and scripts/publish_artifacts.py against local fakes of GitHub, Cloud
Storage and Vertex AI: what a rejected candidate produced is deleted, a revert pull request is
opened, and a second run changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import publish_artifacts
import pytest
import rollback
from cicd_fakeapi import FakeApi

SHA = "c" * 40
OLD = "a" * 40
PARENT = "projects/acme-dev-1a2b/locations/us-central1"
MODEL = f"{PARENT}/models/42"
ENDPOINT = f"{PARENT}/endpoints/7"
BUCKET = "acme-dev-1a2b-pipeline-root"

CONFIG = """\
environment: dev
project_id: acme-dev-1a2b
region: us-central1
branch: dev
next_environment: staging
next_branch: staging
buckets:
  data: acme-dev-1a2b-data
  pipeline_root: acme-dev-1a2b-pipeline-root
pipeline_root_prefixes:
  runs: runs/
  scheduled: scheduled/
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    d.mkdir()
    (d / "dev.yaml").write_text(CONFIG)
    return d


def world(api: FakeApi) -> None:
    api.objects[BUCKET] = {
        f"runs/{SHA}/build/metrics.json": b"{}",
        f"runs/{SHA}/pipeline/model.joblib": b"x",
        f"runs/{OLD}/build/metrics.json": b"{}",
    }
    api.jobs = {
        f"{PARENT}/pipelineJobs/run-new": {"name": f"{PARENT}/pipelineJobs/run-new",
                                           "state": "PIPELINE_STATE_RUNNING",
                                           "labels": {"commit": SHA}},
        f"{PARENT}/pipelineJobs/run-old": {"name": f"{PARENT}/pipelineJobs/run-old",
                                           "state": "PIPELINE_STATE_SUCCEEDED",
                                           "labels": {"commit": OLD}},
    }
    api.models = {MODEL: [
        {"versionId": "1", "versionAliases": [], "labels": {"commit": OLD},
         "versionCreateTime": "2026-01-01T00:00:00Z",
         "deployedModels": [{"endpoint": ENDPOINT, "deployedModelId": "d1"}]},
        {"versionId": "2", "versionAliases": ["default"], "labels": {"commit": SHA},
         "versionCreateTime": "2026-02-01T00:00:00Z",
         "deployedModels": [{"endpoint": ENDPOINT, "deployedModelId": "d2"}]},
    ]}
    api.endpoints = {ENDPOINT: {"name": ENDPOINT,
                                "deployedModels": [{"id": "d1"}, {"id": "d2"}],
                                "trafficSplit": {"d1": 20, "d2": 80}}}
    api.refs = {"dev": "devhead", "staging": "staginghead"}
    api.commits = {"devhead": {"tree": "devtree"}, "staginghead": {"tree": "stagingtree"}}
    api.trees = {"stagingtree": [
        {"path": "terraform/envs/dev/main.tf", "mode": "100644", "type": "blob", "sha": "oldmain"},
        {"path": "terraform/old.tf", "mode": "100644", "type": "blob", "sha": "oldfile"},
        {"path": "README.md", "mode": "100644", "type": "blob", "sha": "readme"},
    ]}
    api.compare["staging...dev"] = {
        "ahead_by": 1, "base_commit": {"sha": "staginghead"},
        "files": [
            {"filename": "terraform/envs/dev/main.tf", "status": "modified"},
            {"filename": "terraform/new.tf", "status": "added"},
            {"filename": "terraform/renamed.tf", "status": "renamed",
             "previous_filename": "terraform/old.tf"},
            {"filename": "pipelines/pipeline.py", "status": "modified"},
        ],
        "commits": [{"sha": SHA, "commit": {"message": "candidate"}}],
    }
    api.pull_commits[12] = [SHA]


def run(config_dir: Path, *extra: str) -> int:
    return rollback.main(["--env", "dev", "--commit", SHA, "--pr", "12",
                          "--repo", "acme/acme-mlops", "--source-branch", "dev",
                          "--target-branch", "staging", "--config-dir", str(config_dir),
                          "--wait-seconds", "0", *extra])


def test_traffic_without() -> None:
    assert rollback.traffic_without({"a": 20, "b": 80}, "b", ["a"]) == {"a": 100}
    assert rollback.traffic_without({"a": 10, "b": 30, "c": 60}, "c", ["a", "b"]) == \
        {"a": 25, "b": 75}
    assert rollback.traffic_without({"b": 100}, "b", ["a"]) == {"a": 100}
    assert rollback.traffic_without({"b": 100}, "b", []) == {}


def test_revert_entries_only_under_paths() -> None:
    blobs = {"terraform/a.tf": {"sha": "s1", "mode": "100644"},
             "terraform/old.tf": {"sha": "s2", "mode": "100644"}}
    files = [{"filename": "terraform/a.tf"}, {"filename": "terraform/b.tf"},
             {"filename": "terraform/new.tf", "previous_filename": "terraform/old.tf"},
             {"filename": "pipelines/x.py"}]
    entries = rollback.revert_tree_entries(files, blobs, "terraform/")
    assert entries == [
        {"path": "terraform/a.tf", "mode": "100644", "type": "blob", "sha": "s1"},
        {"path": "terraform/b.tf", "mode": "100644", "type": "blob", "sha": None},
        {"path": "terraform/new.tf", "mode": "100644", "type": "blob", "sha": None},
        {"path": "terraform/old.tf", "mode": "100644", "type": "blob", "sha": "s2"},
    ]


def test_rollback_deletes_the_candidate_and_opens_a_revert(api: FakeApi,
                                                          config_dir: Path) -> None:
    world(api)
    assert run(config_dir) == 0
    # artifacts of the candidate only
    assert sorted(api.objects[BUCKET]) == [f"runs/{OLD}/build/metrics.json"]
    # its pipeline job was cancelled, then deleted; the old one stays
    assert list(api.jobs) == [f"{PARENT}/pipelineJobs/run-old"]
    assert any(c.path.endswith("run-new:cancel") for c in api.calls)
    # its model version was undeployed (traffic back to d1) and deleted; default alias moved
    assert api.endpoints[ENDPOINT]["deployedModels"] == [{"id": "d1"}]
    assert api.endpoints[ENDPOINT]["trafficSplit"] == {"d1": 100}
    assert [v["versionId"] for v in api.models[MODEL]] == ["1"]
    assert api.models[MODEL][0]["versionAliases"] == ["default"]
    # a revert pull request into dev restoring terraform/ as staging has it
    revert = [p for p in api.pulls if p["base"]["ref"] == "dev"]
    assert len(revert) == 1 and revert[0]["head"]["ref"] == f"rollback/dev-{SHA[:12]}"
    commit = api.commits[api.refs[f"rollback/dev-{SHA[:12]}"]]
    assert commit["parents"] == ["devhead"]
    entries = {e["path"]: e["sha"] for e in api.trees[commit["tree"]]}
    assert entries == {"terraform/envs/dev/main.tf": "oldmain", "terraform/new.tf": None,
                       "terraform/renamed.tf": None, "terraform/old.tf": "oldfile"}


def test_rollback_is_idempotent(api: FakeApi, config_dir: Path) -> None:
    world(api)
    assert run(config_dir) == 0
    writes = len(api.writes())
    state = json.dumps([api.objects[BUCKET].keys().__repr__(), api.jobs, api.models,
                        api.endpoints, api.refs, len(api.pulls)], sort_keys=True, default=str)
    assert run(config_dir) == 0
    assert len(api.writes()) == writes, [c.path for c in api.writes()[writes:]]
    assert json.dumps([api.objects[BUCKET].keys().__repr__(), api.jobs, api.models,
                       api.endpoints, api.refs, len(api.pulls)], sort_keys=True,
                      default=str) == state


def test_revert_branch_left_by_an_interrupted_run_is_reused(api: FakeApi,
                                                            config_dir: Path) -> None:
    world(api)
    api.refs[f"rollback/dev-{SHA[:12]}"] = "earlier"
    assert run(config_dir) == 0
    assert api.refs[f"rollback/dev-{SHA[:12]}"] == "earlier"
    assert not any(c.path.endswith(("git/commits", "git/refs")) for c in api.writes())
    assert len([p for p in api.pulls if p["base"]["ref"] == "dev"]) == 1


def test_dry_run_deletes_nothing(api: FakeApi, config_dir: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    world(api)
    assert run(config_dir, "--dry-run") == 0
    assert api.writes() == []
    out = capsys.readouterr().out
    assert "dry-run: would DELETE" in out
    assert "dry-run: would POST /repos/acme/acme-mlops/pulls" in out


def test_still_running_job_asks_for_a_rerun(api: FakeApi, config_dir: Path) -> None:
    world(api)
    # a job that does not stop when cancelled
    api.jobs[f"{PARENT}/pipelineJobs/stuck"] = {"name": f"{PARENT}/pipelineJobs/stuck",
                                                "state": "PIPELINE_STATE_PAUSED",
                                                "labels": {"commit": SHA}}
    original = api.vertex

    def stubborn(method: str, path: str, q: dict[str, str], body: object) -> tuple[int, object]:
        if path.endswith("stuck:cancel"):
            return 200, {}
        return original(method, path, q, body)

    api.vertex = stubborn  # type: ignore[method-assign]
    assert run(config_dir) == 3
    assert f"{PARENT}/pipelineJobs/stuck" in api.jobs


def test_bad_commit_is_refused(api: FakeApi, config_dir: Path) -> None:
    assert rollback.main(["--env", "dev", "--commit", "$(rm -rf)", "--repo", "acme/acme-mlops",
                          "--source-branch", "dev", "--target-branch", "staging",
                          "--config-dir", str(config_dir)]) == 1
    assert api.calls == []


def test_missing_config_names_the_file(api: FakeApi, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert rollback.main(["--env", "qa", "--commit", SHA, "--repo", "acme/acme-mlops",
                          "--source-branch", "qa", "--target-branch", "main",
                          "--config-dir", str(tmp_path)]) == 1
    assert "qa.yaml" in capsys.readouterr().err


def test_publish_then_rollback_removes_everything_published(api: FakeApi, config_dir: Path,
                                                            tmp_path: Path) -> None:
    build = tmp_path / "build"
    (build / "sub").mkdir(parents=True)
    (build / "metrics.json").write_text("{}")
    (build / "sub" / "pipeline.yaml").write_text("x: 1")
    assert publish_artifacts.main(["--env", "dev", "--commit", SHA, "--source", str(build),
                                   "--config-dir", str(config_dir)]) == 0
    assert sorted(api.objects[BUCKET]) == [f"runs/{SHA}/build/metrics.json",
                                           f"runs/{SHA}/build/sub/pipeline.yaml"]
    api.refs = {"dev": "devhead", "staging": "staginghead"}
    api.commits = {"devhead": {"tree": "t"}, "staginghead": {"tree": "t"}}
    api.trees = {"t": []}
    api.compare["staging...dev"] = {"ahead_by": 0, "base_commit": {"sha": "staginghead"},
                                    "files": []}
    assert rollback.main(["--env", "dev", "--commit", SHA, "--repo", "acme/acme-mlops",
                          "--source-branch", "dev", "--target-branch", "staging",
                          "--config-dir", str(config_dir)]) == 0
    assert api.objects[BUCKET] == {}
    assert api.pulls == []  # nothing under terraform/ to revert


def test_artifacts_go_under_the_configured_runs_prefix(api: FakeApi, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Published and deleted under config's pipeline_root_prefixes.runs, the prefix the bucket's
    retention rule deletes under (one source: the generator's model)."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "dev.yaml").write_text(CONFIG.replace("runs: runs/", "runs: kept/runs/"))
    build = tmp_path / "build"
    build.mkdir()
    (build / "metrics.json").write_text("{}")
    assert publish_artifacts.main(["--env", "dev", "--commit", SHA, "--source", str(build),
                                   "--config-dir", str(other)]) == 0
    assert sorted(api.objects[BUCKET]) == [f"kept/runs/{SHA}/build/metrics.json"]
    assert capsys.readouterr().out.strip() == f"gs://{BUCKET}/kept/runs/{SHA}/"
    (other / "dev.yaml").write_text(CONFIG.split("pipeline_root_prefixes:")[0])
    assert publish_artifacts.main(["--env", "dev", "--commit", SHA, "--source", str(build),
                                   "--config-dir", str(other)]) == 1
    assert "pipeline_root_prefixes.runs" in capsys.readouterr().err
