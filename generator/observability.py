"""Serving SLOs and model-monitoring retraining of one environment (issue 14): the names and
rules the environment root, the bootstrap root and config/<env>.yaml share. Pure; model.py
calls `env_context` once per environment.

Retraining (with model_monitoring): Cloud Monitoring publishes the environment's alerts through a
pubsub notification channel (terraform/modules/retraining_channel, in the environment's project)
on the environment's retrain topic in the CI/CD project; the retrain trigger listens there and
runs cloudbuild/retrain.yaml, whose scripts/retrain.py retrains only with nothing in flight and
the cool-down over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RETRAIN_COOLDOWN_HOURS = 24
RETRAIN_MAX_IN_FLIGHT = 1
RETRAIN_CONFIG = "cloudbuild/retrain.yaml"


def channel_names(client_name: str, env: str) -> dict[str, str]:
    """Display names of the environment's notification channels, as mlops_platform names them
    (`ML platform alerts: <client> (<env>)`, `Retraining: <client> (<env>)`): the deploy step
    finds their ids by these names (projects.notificationChannels.list)."""
    display = f"{client_name} ({env})"
    return {"alerts": f"ML platform alerts: {display}", "retraining": f"Retraining: {display}"}


def env_context(
    *, env: str, client_name: str, cicd_project: str, features: Mapping[str, bool],
    slo_latency_p99_ms: Any, slo_error_rate_percent: Any,
) -> dict[str, Any]:
    """`env.observability`: the serving SLO (thresholds as the platform takes them) and the
    retraining names and limits (`enabled` only with model_monitoring)."""
    enabled = bool(features.get("model_monitoring"))
    topic_name = f"{env}-retrain"
    channels = channel_names(client_name, env)
    return {
        "slo": {
            "latency_p99_ms": int(slo_latency_p99_ms),
            # the answer is a percent, the platform takes a share of responses
            "error_rate": round(float(slo_error_rate_percent) / 100, 6),
        },
        "retraining": {
            "enabled": enabled,
            "topic_name": topic_name,
            "topic": f"projects/{cicd_project}/topics/{topic_name}" if enabled else None,
            "trigger": f"{env}-retrain" if enabled else None,
            "config": RETRAIN_CONFIG,
            "cooldown_hours": RETRAIN_COOLDOWN_HOURS,
            "max_in_flight": RETRAIN_MAX_IN_FLIGHT,
            "channels": {
                "alerts": channels["alerts"],
                "retraining": channels["retraining"] if enabled else None,
            },
        },
    }
