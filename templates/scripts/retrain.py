"""Decide whether a model monitoring alert retrains the environment, without loops.

Run by cloudbuild/retrain.yaml, which the environment's retrain trigger (a Cloud Build Pub/Sub
trigger on the environment's retrain topic, terraform/bootstrap) starts for every alert Cloud
Monitoring publishes there through the environment's pubsub notification channel. A retraining
starts only when all of these hold (config/<env>.yaml, `retraining:`):

- retraining is enabled (the model_monitoring feature) and the alert's incident is open (a
  closing incident retrains nothing);
- fewer than `max_in_flight` pipeline runs of the environment are in flight (any run: a
  retraining never races the regular pipeline);
- no run of the environment started in the last `cooldown_hours` (a fresh model gets time to
  show whether it drifts too).

Runs are the environment's Vertex AI PipelineJobs, found by their `environment` label (the label
pipelines/submit.py puts on every run). The decision (`decide`) is a pure function; this script
reads the jobs through the REST API (scripts/gcpapi.py), prints the reason and writes `run` or
`skip` to --output for the build's next steps. It always exits 0 unless it cannot decide.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import envconfig
from gcpapi import Gcp

# PipelineJob states that hold (or will hold) resources: a run in flight
IN_FLIGHT = frozenset({
    "PIPELINE_STATE_QUEUED", "PIPELINE_STATE_PENDING", "PIPELINE_STATE_RUNNING",
    "PIPELINE_STATE_CANCELLING", "PIPELINE_STATE_PAUSED",
})


class RetrainError(RuntimeError):
    """The script cannot decide (bad configuration or message, API failure)."""


@dataclass(frozen=True)
class Policy:
    enabled: bool
    cooldown_hours: float
    max_in_flight: int


@dataclass(frozen=True)
class Run:
    name: str
    state: str
    created: dt.datetime


@dataclass(frozen=True)
class Decision:
    retrain: bool
    reason: str


def decide(policy: Policy, incident_state: str, runs: Iterable[Run], now: dt.datetime
           ) -> Decision:
    """Whether an alert whose incident is `incident_state` starts a retraining now."""
    if not policy.enabled:
        return Decision(False, "retraining is off in this environment (retraining.enabled)")
    if incident_state.lower() != "open":
        return Decision(False, f"the incident is {incident_state or 'of no state'}, not open")
    runs = list(runs)
    flying = [r for r in runs if r.state in IN_FLIGHT]
    if len(flying) >= policy.max_in_flight:
        names = ", ".join(sorted(r.name.rsplit("/", 1)[-1] for r in flying))
        return Decision(False, f"{len(flying)} run(s) in flight (at most "
                               f"{policy.max_in_flight}): {names}")
    if runs:
        latest = max(runs, key=lambda r: r.created)
        age = now - latest.created
        cooldown = dt.timedelta(hours=policy.cooldown_hours)
        if age < cooldown:
            return Decision(False, f"cool-down: the last run "
                                   f"({latest.name.rsplit('/', 1)[-1]}) started "
                                   f"{_hours(age)} h ago, less than {policy.cooldown_hours:g} h")
    return Decision(True, "open incident, nothing in flight, cool-down over: retraining")


def _hours(delta: dt.timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}"


def policy_from_config(cfg: Mapping[str, Any]) -> Policy:
    section = cfg.get("retraining")
    if not isinstance(section, Mapping):
        raise RetrainError("config has no retraining: section")
    try:
        policy = Policy(bool(section["enabled"]), float(section["cooldown_hours"]),
                        int(section["max_in_flight"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise RetrainError(f"retraining: needs enabled, cooldown_hours and max_in_flight "
                           f"({exc!r})") from exc
    if policy.cooldown_hours < 0 or policy.max_in_flight < 1:
        raise RetrainError("retraining: cooldown_hours must be >= 0 and max_in_flight >= 1")
    return policy


def incident_state(message: str) -> str:
    """The incident state of a Cloud Monitoring pubsub notification (its JSON `incident.state`);
    a bare state (as the trigger's substitution binds it) is taken as it is."""
    text = message.strip()
    if not text.startswith("{"):
        return text
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RetrainError(f"the alert message is not JSON: {exc}") from exc
    incident = data.get("incident") if isinstance(data, dict) else None
    return str(incident.get("state", "")) if isinstance(incident, dict) else ""


def parse_runs(jobs: Sequence[Mapping[str, Any]]) -> list[Run]:
    runs = []
    for job in jobs:
        created = str(job.get("createTime", ""))
        try:
            when = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError as exc:
            raise RetrainError(f"pipeline job {job.get('name')!r} has no createTime") from exc
        runs.append(Run(str(job.get("name", "")), str(job.get("state", "")), when))
    return runs


def environment_runs(gcp: Gcp, cfg: Mapping[str, Any]) -> list[Run]:
    parent = f"projects/{cfg['project_id']}/locations/{cfg['region']}"
    jobs = gcp.vertex_list(f"{parent}/pipelineJobs", "pipelineJobs",
                           filter=f'labels.environment="{cfg["environment"]}"')
    return parse_runs(jobs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--incident", default="",
                        help="the alert: Monitoring's notification JSON, or its incident state")
    parser.add_argument("--output", type=Path, required=True,
                        help="file that receives `run` or `skip`")
    parser.add_argument("--config-dir", type=Path, default=envconfig.CONFIG_DIR)
    args = parser.parse_args(argv)
    try:
        cfg = envconfig.load(args.env, args.config_dir)
        policy = policy_from_config(cfg)
        state = incident_state(args.incident)
        runs = environment_runs(Gcp(str(cfg["region"])), cfg) if policy.enabled else []
        decision = decide(policy, state, runs, dt.datetime.now(dt.UTC))
    except (RetrainError, envconfig.ConfigError, RuntimeError) as exc:
        print(f"retrain: cannot decide: {exc}", file=sys.stderr)
        return 1
    args.output.write_text("run\n" if decision.retrain else "skip\n", encoding="utf-8")
    print(f"retrain {args.env}: {'yes' if decision.retrain else 'no'}: {decision.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
