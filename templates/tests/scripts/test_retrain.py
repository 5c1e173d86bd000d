"""scripts/retrain.py: the retraining decision (a pure function: cool-down, at most one run in
flight, only open incidents) and the script against a local fake of the Vertex AI API."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import retrain
from cicd_fakeapi import FakeApi

PARENT = "projects/acme-dev-1a2b/locations/us-central1"
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
POLICY = retrain.Policy(enabled=True, cooldown_hours=24, max_in_flight=1)

CONFIG = """\
environment: dev
project_id: acme-dev-1a2b
region: us-central1
buckets:
  pipeline_root: acme-dev-1a2b-pipeline-root
pipeline_root_prefixes:
  runs: runs/
retraining:
  enabled: {enabled}
  cooldown_hours: 24
  max_in_flight: 1
"""


def run(name: str, state: str, hours_ago: float) -> retrain.Run:
    return retrain.Run(f"{PARENT}/pipelineJobs/{name}", state, NOW - dt.timedelta(hours=hours_ago))


def test_an_open_incident_retrains_when_nothing_flies_and_the_cooldown_is_over() -> None:
    old = [run("a", "PIPELINE_STATE_SUCCEEDED", 30), run("b", "PIPELINE_STATE_FAILED", 25)]
    decision = retrain.decide(POLICY, "open", old, NOW)
    assert decision.retrain, decision.reason
    assert retrain.decide(POLICY, "open", [], NOW).retrain  # the first run of all


@pytest.mark.parametrize("state", ["PIPELINE_STATE_RUNNING", "PIPELINE_STATE_PENDING",
                                   "PIPELINE_STATE_QUEUED", "PIPELINE_STATE_CANCELLING"])
def test_a_run_in_flight_blocks_another(state: str) -> None:
    decision = retrain.decide(POLICY, "open", [run("busy", state, 48)], NOW)
    assert not decision.retrain
    assert "in flight" in decision.reason and "busy" in decision.reason


def test_max_in_flight_allows_that_many() -> None:
    two = retrain.Policy(enabled=True, cooldown_hours=0, max_in_flight=2)
    one_flying = [run("busy", "PIPELINE_STATE_RUNNING", 48)]
    assert retrain.decide(two, "open", one_flying, NOW).retrain
    assert not retrain.decide(two, "open", one_flying * 2, NOW).retrain


def test_the_cooldown_counts_from_the_latest_run_of_any_kind() -> None:
    runs = [run("old", "PIPELINE_STATE_SUCCEEDED", 100), run("new", "PIPELINE_STATE_FAILED", 3)]
    decision = retrain.decide(POLICY, "open", runs, NOW)
    assert not decision.retrain
    assert "cool-down" in decision.reason and "new" in decision.reason
    assert "3.0 h" in decision.reason
    edge = [run("edge", "PIPELINE_STATE_SUCCEEDED", 24)]
    assert retrain.decide(POLICY, "open", edge, NOW).retrain


@pytest.mark.parametrize("state", ["closed", "", "acknowledged"])
def test_only_an_open_incident_retrains(state: str) -> None:
    assert not retrain.decide(POLICY, state, [], NOW).retrain


def test_disabled_retrains_nothing() -> None:
    off = retrain.Policy(enabled=False, cooldown_hours=0, max_in_flight=1)
    assert "off" in retrain.decide(off, "open", [], NOW).reason


def test_incident_state_from_monitorings_message_or_a_bare_state() -> None:
    message = json.dumps({"version": "1.2", "incident": {"state": "open", "policy_name": "p"}})
    assert retrain.incident_state(message) == "open"
    assert retrain.incident_state("closed") == "closed"
    assert retrain.incident_state('{"incident": "odd"}') == ""
    with pytest.raises(retrain.RetrainError):
        retrain.incident_state("{not json")


def test_the_policy_comes_from_the_config_and_is_checked() -> None:
    cfg = {"retraining": {"enabled": True, "cooldown_hours": 6, "max_in_flight": 1}}
    assert retrain.policy_from_config(cfg) == retrain.Policy(True, 6.0, 1)
    for bad in ({}, {"retraining": {"enabled": True}},
                {"retraining": {"enabled": True, "cooldown_hours": 1, "max_in_flight": 0}}):
        with pytest.raises(retrain.RetrainError):
            retrain.policy_from_config(bad)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    d.mkdir()
    (d / "dev.yaml").write_text(CONFIG.format(enabled="true"))
    return d


def job(name: str, state: str, created: dt.datetime, env: str = "dev") -> dict[str, object]:
    return {"name": f"{PARENT}/pipelineJobs/{name}", "state": state,
            "createTime": created.isoformat().replace("+00:00", "Z"),
            "labels": {"environment": env, "commit": "c" * 40}}


def main(config_dir: Path, incident: str, out: Path) -> int:
    return retrain.main(["--env", "dev", "--incident", incident, "--output", str(out),
                         "--config-dir", str(config_dir)])


def test_script_retrains_then_refuses_while_that_run_flies(
    api: FakeApi, config_dir: Path, tmp_path: Path
) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    api.jobs = {j["name"]: j for j in (  # type: ignore[misc]
        job("last-week", "PIPELINE_STATE_SUCCEEDED", long_ago),
        job("other-env", "PIPELINE_STATE_RUNNING", long_ago, env="prod"),
    )}
    out = tmp_path / "decision"
    alert = json.dumps({"incident": {"state": "open"}})
    assert main(config_dir, alert, out) == 0
    assert out.read_text() == "run\n"
    listed = [c for c in api.calls if c.path.endswith("/pipelineJobs")]
    assert listed and listed[0].query["filter"] == 'labels.environment="dev"'
    assert listed[0].path == f"/v1/{PARENT}/pipelineJobs"
    assert listed[0].auth == "Bearer test-gcp-token"

    # the retraining it started is now in flight: the next alert waits
    started = job("retrain", "PIPELINE_STATE_RUNNING", dt.datetime.now(dt.UTC))
    api.jobs[str(started["name"])] = started
    assert main(config_dir, alert, out) == 0
    assert out.read_text() == "skip\n"


def test_script_skips_a_closed_incident_without_reading_runs_it_need_not(
    api: FakeApi, config_dir: Path, tmp_path: Path
) -> None:
    (config_dir / "dev.yaml").write_text(CONFIG.format(enabled="false"))
    out = tmp_path / "decision"
    assert main(config_dir, "open", out) == 0
    assert out.read_text() == "skip\n"
    assert not [c for c in api.calls if c.path.endswith("/pipelineJobs")]


def test_script_fails_on_a_config_without_retraining(
    api: FakeApi, config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config_dir / "dev.yaml").write_text(CONFIG.split("retraining:")[0])
    assert main(config_dir, "open", tmp_path / "d") == 1
    assert "retraining" in capsys.readouterr().err
