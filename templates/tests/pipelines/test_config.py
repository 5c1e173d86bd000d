from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines import config

EXPECTED_KEYS = {
    "environment", "project_id", "region", "branch", "next_environment", "next_branch", "buckets",
    "datasets", "service_accounts", "artifact_registry", "pubsub_topic",
    "tensorboard_display_name", "endpoint_display_name", "notification_email", "features",
    "pipeline_root_prefixes", "vertex_ai_kms_key", "workbench_instance", "data_scientists",
    "gate", "monitoring", "quality", "retraining", "serving_slo",
}


def _raw(cfg: config.EnvConfig) -> dict[str, Any]:
    path = config.config_path(cfg.environment)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_every_rendered_config_parses_with_exactly_the_documented_keys(env_configs):
    for name, cfg in env_configs.items():
        raw = _raw(cfg)
        assert set(raw) == EXPECTED_KEYS, name
        assert cfg.environment == name
        assert cfg.docker_repo.startswith(f"{cfg.region}-docker.pkg.dev/{cfg.project_id}/")
        assert cfg.kfp_repo.startswith(f"https://{cfg.region}-kfp.pkg.dev/{cfg.project_id}/")
        assert cfg.pubsub_topic.startswith(f"projects/{cfg.project_id}/topics/")
        assert (cfg.endpoint_display_name is not None) == cfg.features.model_deployment
        assert (cfg.notebook_service_account is not None) == cfg.features.workbench
        assert (cfg.vertex_ai_kms_key is not None) == cfg.features.cmek
        # run tables go to the pipeline's own dataset; curated training data is read-only to it
        assert cfg.runs_dataset not in (cfg.training_dataset, cfg.predictions_dataset)
        assert (raw["workbench_instance"] is not None) == cfg.features.workbench
        if cfg.vertex_ai_kms_key:
            assert cfg.vertex_ai_kms_key.startswith(
                f"projects/{cfg.project_id}/locations/{cfg.region}/keyRings/")


def test_promotion_order_follows_next_environment(env_configs):
    order = config.promotion_order(env_configs)
    assert sorted(order) == sorted(env_configs)
    for here, nxt in itertools.pairwise(order):
        assert env_configs[here].next_environment == nxt
    assert env_configs[order[-1]].next_environment is None
    assert config.load().environment == order[0]


def test_pipeline_root_is_per_commit_under_the_retained_runs_prefix(first_config):
    """Runs go where the bucket's retention rule deletes (config pipeline_root_prefixes.runs)."""
    assert first_config.runs_prefix == "runs/"
    assert first_config.pipeline_root("abc123") == (
        f"gs://{first_config.pipeline_root_bucket}/runs/abc123"
    )
    moved = config.parse({**_raw(first_config),
                          "pipeline_root_prefixes": {"runs": "kept/", "scheduled": "s/"}})
    assert moved.pipeline_root("abc123") == f"gs://{first_config.pipeline_root_bucket}/kept/abc123"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("project_id"), "missing key 'project_id'"),
        (lambda d: d["buckets"].pop("pipeline_root"), "missing key 'pipeline_root'"),
        (lambda d: d.update(region=""), "'region' must not be empty"),
        (lambda d: d["features"].update(automl="yes"), "features.automl must be true or false"),
        (lambda d: d.update(project_id=123), "'project_id' must be a string"),
        (lambda d: (d["features"].update(model_deployment=True),
                    d.update(endpoint_display_name=None)), "endpoint_display_name is null"),
        (lambda d: d["artifact_registry"].update(kfp="europe-kfp.pkg.dev/x/y"), "https://"),
        (lambda d: d.pop("pipeline_root_prefixes"), "missing key 'pipeline_root_prefixes'"),
        (lambda d: d["pipeline_root_prefixes"].update(runs="runs"), "ending in '/'"),
        (lambda d: d["pipeline_root_prefixes"].update(scheduled="/s/"), "ending in '/'"),
        (lambda d: d.pop("vertex_ai_kms_key"), "missing key 'vertex_ai_kms_key'"),
        (lambda d: (d["features"].update(cmek=True), d.update(vertex_ai_kms_key=None)),
         "set exactly when features.cmek is on"),
        (lambda d: (d["features"].update(cmek=False), d.update(vertex_ai_kms_key="k")),
         "set exactly when features.cmek is on"),
        (lambda d: (d["features"].update(cmek=True),
                    d.update(vertex_ai_kms_key="projects/other/locations/x/keyRings/r/cryptoKeys/k")),
         "must be a key of"),
        (lambda d: d.pop("gate"), "missing key 'gate'"),
        (lambda d: d["gate"].update(metric="accuracy"), "metric must be one of"),
        (lambda d: d["gate"].update(min_improvement="2%"), "'min_improvement' must be a number"),
        (lambda d: d["gate"].update(max_mape=-1), "'max_mape' must be a number"),
        (lambda d: d["monitoring"].update(sampling_rate=0), "'sampling_rate' must be a number"),
        (lambda d: d["monitoring"].update(interval_hours=1.5), "whole number of hours"),
        (lambda d: d["monitoring"].update(drift_threshold=True), "'drift_threshold' must be"),
        (lambda d: d["monitoring"].update(notification_channels=["email-channel"]),
         "notification_channels must be a list"),
    ],
)
def test_parse_names_the_bad_key(first_config, mutate, message):
    data = copy.deepcopy(_raw(first_config))
    mutate(data)
    with pytest.raises(config.ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        config.parse(data, where="cfg.yaml")


def test_gate_and_monitoring_sections_parse(first_config):
    assert first_config.gate == config.GateConfig(metric="rmse", min_improvement=0.0,
                                                  min_r_squared=0.5, max_mape=0.5)
    mon = first_config.monitoring
    assert 0 < mon.sampling_rate <= 1 and mon.interval_hours >= 1
    assert mon.notification_channels == ()
    data = copy.deepcopy(_raw(first_config))
    data["monitoring"]["notification_channels"] = ["projects/p/notificationChannels/123"]
    assert config.parse(data).monitoring.notification_channels == (
        "projects/p/notificationChannels/123",)


def test_unknown_environment_lists_the_known_ones(env_configs):
    with pytest.raises(config.ConfigError, match="known: " + ", ".join(sorted(env_configs))):
        config.load("nosuchenv")


def test_promotion_order_rejects_cycles(first_config, tmp_path: Path):
    a = first_config.__class__(**{**first_config.__dict__, "environment": "a",
                                  "next_environment": "b"})
    b = first_config.__class__(**{**first_config.__dict__, "environment": "b",
                                  "next_environment": "a"})
    with pytest.raises(config.ConfigError, match="cannot order"):
        config.promotion_order({"a": a, "b": b})
    with pytest.raises(config.ConfigError, match="no config"):
        config.load(config_dir=tmp_path)
