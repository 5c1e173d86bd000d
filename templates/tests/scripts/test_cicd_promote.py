"""scripts/promote.py: the promotion pull request to the next environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import promote
import pytest
from cicd_fakeapi import FakeApi

COMPARE = {
    "ahead_by": 2,
    "files": [{"filename": "terraform/envs/dev/main.tf", "status": "modified"}],
    "commits": [{"sha": "a" * 40, "commit": {"message": "Add a feature\n\nbody"}},
                {"sha": "b" * 40, "commit": {"message": "Tune the model"}}],
}
ARGS = ["--env", "dev", "--next-env", "staging", "--source-branch", "dev",
        "--target-branch", "staging", "--commit", "b" * 40, "--repo", "acme/acme-mlops"]


def test_body_lists_metrics_links_and_commits() -> None:
    body = promote.pull_body(env="dev", next_env="staging", commit="c" * 40,
                             metrics={"rmse": 1.23456, "r_squared": 0.9},
                             artifacts="gs://b/runs/c/", build_url="https://build",
                             commits=["`aaa` first"])
    assert "| rmse | 1.235 |" in body and "| r_squared | 0.9 |" in body
    assert "gs://b/runs/c/" in body and "https://build" in body and "`aaa` first" in body
    assert body.startswith("<!-- mlopsgen:promotion env=dev -->")


def test_load_metrics_reads_the_notebook_record(tmp_path: Path) -> None:
    record = tmp_path / "metrics.json"
    record.write_text(json.dumps({"metrics": {"mae": 2.5}, "params": {"x": 1}, "commit": "c"}))
    assert promote.load_metrics(record) == {"mae": 2.5}
    assert promote.load_metrics(tmp_path / "missing.json") == {}


def test_opens_then_updates_one_pull_request(api: FakeApi, tmp_path: Path) -> None:
    api.compare["staging...dev"] = COMPARE
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"metrics": {"mae": 2.5}}))
    assert promote.main([*ARGS, "--metrics", str(metrics)]) == 0
    assert promote.main([*ARGS, "--metrics", str(metrics)]) == 0
    assert len(api.pulls) == 1
    pull = api.pulls[0]
    assert (pull["head"]["ref"], pull["base"]["ref"]) == ("dev", "staging")
    assert "| mae | 2.5 |" in pull["body"] and "Add a feature" in pull["body"]
    assert [c.method for c in api.writes()] == ["POST", "PATCH"]


def test_nothing_to_promote(api: FakeApi) -> None:
    api.compare["staging...dev"] = {"ahead_by": 0, "files": [], "commits": []}
    assert promote.main(ARGS) == 0
    assert api.pulls == [] and api.writes() == []


def test_dry_run_cli_writes_nothing(api: FakeApi, scripts_dir: Path) -> None:
    api.compare["staging...dev"] = COMPARE
    env = {**os.environ, "GITHUB_TOKEN": ""}
    done = subprocess.run([sys.executable, str(scripts_dir / "promote.py"), *ARGS, "--dry-run"],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "dry-run: would POST /repos/acme/acme-mlops/pulls" in done.stdout
    assert api.writes() == [] and api.pulls == []


def test_missing_token_is_an_actionable_error(api: FakeApi, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    assert promote.main(ARGS) == 1
    assert "GITHUB_TOKEN is not set" in capsys.readouterr().err
    assert api.calls == []


GATE = {"verdict": "pass", "reason": "rmse 1.9 beats champion 2.1 (9.52%)", "metric": "rmse",
        "min_improvement": 0.02, "champion": "projects/p/locations/l/models/42@3",
        "candidate_metrics": {"rmse": 1.9, "r_squared": 0.81},
        "champion_metrics": {"rmse": 2.1, "r_squared": 0.78}}


def test_body_shows_the_candidate_beside_the_champion(api: FakeApi, tmp_path: Path) -> None:
    api.compare["staging...dev"] = COMPARE
    record = tmp_path / "metrics.json"
    record.write_text(json.dumps({"metrics": {"mae": 2.5}, "gate": GATE}))
    assert promote.main([*ARGS, "--metrics", str(record)]) == 0
    body = api.pulls[0]["body"]
    assert "### Champion/challenger gate" in body and "Verdict: **pass**" in body
    assert "| rmse | 1.9 | 2.1 |" in body and "| r_squared | 0.81 | 0.78 |" in body
    assert "champion `projects/p/locations/l/models/42@3`" in body
    first = promote.gate_lines({**GATE, "champion": None, "champion_metrics": {}})
    assert "No champion yet" in "\n".join(first) and "| rmse | 1.9 | - |" in first


def test_a_losing_challenger_opens_no_pull_request(api: FakeApi, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    api.compare["staging...dev"] = COMPARE
    record = tmp_path / "metrics.json"
    lost = {**GATE, "verdict": "fail", "reason": "rmse 2.3 vs champion 2.1: improvement -9.52%"}
    record.write_text(json.dumps({"metrics": {}, "gate": lost}))
    assert promote.main([*ARGS, "--metrics", str(record)]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == "rejected"
    assert "lost the champion/challenger gate in dev: rmse 2.3 vs champion 2.1" in out.err
    assert api.pulls == [] and api.calls == []
