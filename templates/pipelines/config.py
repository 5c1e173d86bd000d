"""Load and check `config/<env>.yaml`, the per-environment names the Terraform creates.

Pure functions plus one reader at the edge (`load`). Other code takes an `EnvConfig`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipelines import quality as quality_mod

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"

FEATURES = ("workbench", "automl", "model_deployment", "model_monitoring", "feature_store", "cmek")
# holdout metrics the trainers report; the gate compares one (lower is better but r_squared)
GATE_METRICS = ("rmse", "mae", "mape", "r_squared")


class ConfigError(ValueError):
    """config/<env>.yaml is missing or malformed; the message says which file and key."""


@dataclass(frozen=True)
class Features:
    workbench: bool
    automl: bool
    model_deployment: bool
    model_monitoring: bool
    feature_store: bool
    cmek: bool


@dataclass(frozen=True)
class GateConfig:
    """Champion/challenger gate (config `gate:`): the candidate replaces the champion when its
    `metric` on the same holdout window is better by at least `min_improvement` (relative), and
    every model, the first included, clears the absolute bar (`min_r_squared`, `max_mape`)."""
    metric: str
    min_improvement: float
    min_r_squared: float
    max_mape: float


@dataclass(frozen=True)
class MonitoringConfig:
    """Model monitoring (config `monitoring:`, used with model_monitoring): request sampling,
    how often the job analyses, per-feature drift/skew thresholds and extra alert channels."""
    sampling_rate: float
    interval_hours: int
    drift_threshold: float
    skew_threshold: float
    notification_channels: tuple[str, ...]


@dataclass(frozen=True)
class EnvConfig:
    environment: str
    project_id: str
    region: str
    branch: str
    next_environment: str | None
    next_branch: str | None
    data_bucket: str
    pipeline_root_bucket: str
    training_dataset: str
    predictions_dataset: str
    # the pipeline's own dataset: its run tables (snapshot, training table, forecast input)
    runs_dataset: str
    pipeline_service_account: str
    notebook_service_account: str | None
    docker_repo: str
    kfp_repo: str
    pubsub_topic: str
    tensorboard_display_name: str
    endpoint_display_name: str | None
    notification_email: str
    features: Features
    # object-name prefixes in the pipeline-root bucket the retention rule deletes under
    runs_prefix: str
    scheduled_prefix: str
    # the key every Vertex AI resource of a run is encrypted with (cmek), else None
    vertex_ai_kms_key: str | None
    gate: GateConfig
    monitoring: MonitoringConfig
    # the data quality gate of the training data (config `quality:`, pipelines/quality.py)
    quality: quality_mod.QualityConfig

    def pipeline_root(self, commit: str) -> str:
        """Where one commit's runs keep their artifacts (under the retained runs prefix)."""
        return f"gs://{self.pipeline_root_bucket}/{self.runs_prefix}{commit}"

    def image(self, name: str, tag: str) -> str:
        """A container image in this environment's Docker repository."""
        return f"{self.docker_repo}/{name}:{tag}"


def _get(data: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
    if key not in data:
        raise ConfigError(f"{where}: missing key {key!r}")
    value = data[key]
    if value is None and optional:
        return None
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ConfigError(f"{where}: key {key!r} must not be empty")
    return value


def _str(data: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
    value = _get(data, key, where, optional=optional)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: key {key!r} must be a string, got {type(value).__name__}")
    return value


def _section(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = _get(data, key, where)
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: key {key!r} must be a mapping")
    return value


def _prefix(prefixes: Mapping[str, Any], key: str, where: str) -> str:
    value = str(_str(prefixes, key, where))
    if value.startswith("/") or not value.endswith("/"):
        raise ConfigError(f"{where}: {key!r} must be a relative prefix ending in '/', "
                          f"got {value!r}")
    return value


def _number(data: Mapping[str, Any], key: str, where: str, low: float, high: float) -> float:
    value = _get(data, key, where)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{where}: {key!r} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def _gate(data: Mapping[str, Any], where: str) -> GateConfig:
    gate = _section(data, "gate", where)
    where = f"{where}: gate"
    metric = _str(gate, "metric", where)
    if metric not in GATE_METRICS:
        raise ConfigError(f"{where}: metric must be one of {', '.join(GATE_METRICS)}, "
                          f"got {metric!r}")
    return GateConfig(
        metric=metric,
        min_improvement=_number(gate, "min_improvement", where, -1.0, 1.0),
        min_r_squared=_number(gate, "min_r_squared", where, -1e9, 1.0),
        max_mape=_number(gate, "max_mape", where, 0.0, 1e9),
    )


def _monitoring(data: Mapping[str, Any], where: str) -> MonitoringConfig:
    mon = _section(data, "monitoring", where)
    where = f"{where}: monitoring"
    hours = _number(mon, "interval_hours", where, 1, 24 * 7)
    if not hours.is_integer():
        raise ConfigError(f"{where}: interval_hours must be a whole number of hours")
    channels = _get(mon, "notification_channels", where, optional=True) or []
    if not isinstance(channels, list) or not all(
            isinstance(c, str) and c.startswith("projects/") and "/notificationChannels/" in c
            for c in channels):
        raise ConfigError(f"{where}: notification_channels must be a list of "
                          "projects/<project>/notificationChannels/<id> names")
    return MonitoringConfig(
        sampling_rate=_number(mon, "sampling_rate", where, 0.0001, 1.0),
        interval_hours=int(hours),
        drift_threshold=_number(mon, "drift_threshold", where, 0.0, 1.0),
        skew_threshold=_number(mon, "skew_threshold", where, 0.0, 1.0),
        notification_channels=tuple(channels),
    )


def _quality(data: Mapping[str, Any], where: str) -> quality_mod.QualityConfig:
    try:
        return quality_mod.parse(_section(data, "quality", where), f"{where}: quality")
    except quality_mod.QualityError as exc:
        raise ConfigError(str(exc)) from exc


def parse(data: Any, where: str = "config") -> EnvConfig:
    """An EnvConfig from the parsed YAML of one config file; ConfigError names the bad key."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping at the top level")
    buckets = _section(data, "buckets", where)
    prefixes = _section(data, "pipeline_root_prefixes", where)
    datasets = _section(data, "datasets", where)
    accounts = _section(data, "service_accounts", where)
    registry = _section(data, "artifact_registry", where)
    features = _section(data, "features", where)
    flags = {}
    for name in FEATURES:
        value = _get(features, name, f"{where}: features")
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: features.{name} must be true or false")
        flags[name] = value
    cfg = EnvConfig(
        environment=_str(data, "environment", where),
        project_id=_str(data, "project_id", where),
        region=_str(data, "region", where),
        branch=_str(data, "branch", where),
        next_environment=_str(data, "next_environment", where, optional=True),
        next_branch=_str(data, "next_branch", where, optional=True),
        data_bucket=_str(buckets, "data", f"{where}: buckets"),
        pipeline_root_bucket=_str(buckets, "pipeline_root", f"{where}: buckets"),
        training_dataset=_str(datasets, "training", f"{where}: datasets"),
        predictions_dataset=_str(datasets, "predictions", f"{where}: datasets"),
        runs_dataset=_str(datasets, "runs", f"{where}: datasets"),
        pipeline_service_account=_str(accounts, "pipeline", f"{where}: service_accounts"),
        notebook_service_account=_str(
            accounts, "notebook", f"{where}: service_accounts", optional=True
        ),
        docker_repo=_str(registry, "docker", f"{where}: artifact_registry"),
        kfp_repo=_str(registry, "kfp", f"{where}: artifact_registry"),
        pubsub_topic=_str(data, "pubsub_topic", where),
        tensorboard_display_name=_str(data, "tensorboard_display_name", where),
        endpoint_display_name=_str(data, "endpoint_display_name", where, optional=True),
        notification_email=_str(data, "notification_email", where),
        features=Features(**flags),
        runs_prefix=_prefix(prefixes, "runs", f"{where}: pipeline_root_prefixes"),
        scheduled_prefix=_prefix(prefixes, "scheduled", f"{where}: pipeline_root_prefixes"),
        vertex_ai_kms_key=_str(data, "vertex_ai_kms_key", where, optional=True),
        gate=_gate(data, where),
        monitoring=_monitoring(data, where),
        quality=_quality(data, where),
    )
    _check_consistency(cfg, where)
    return cfg


def _check_consistency(cfg: EnvConfig, where: str) -> None:
    """Rules between keys: what a feature needs, the form of the registry and the key."""
    if cfg.features.model_deployment and not cfg.endpoint_display_name:
        raise ConfigError(f"{where}: model_deployment is on but endpoint_display_name is null")
    if not cfg.kfp_repo.startswith("https://"):
        raise ConfigError(f"{where}: artifact_registry.kfp must be an https:// URL")
    if cfg.features.cmek != (cfg.vertex_ai_kms_key is not None):
        raise ConfigError(f"{where}: vertex_ai_kms_key must be set exactly when features.cmek "
                          "is on")
    if cfg.vertex_ai_kms_key and not cfg.vertex_ai_kms_key.startswith(
            f"projects/{cfg.project_id}/locations/{cfg.region}/keyRings/"):
        raise ConfigError(f"{where}: vertex_ai_kms_key must be a key of {cfg.project_id} in "
                          f"{cfg.region} (projects/.../locations/.../keyRings/.../cryptoKeys/...)")


def config_path(env: str, config_dir: Path = CONFIG_DIR) -> Path:
    return config_dir / f"{env}.yaml"


def available_environments(config_dir: Path = CONFIG_DIR) -> list[str]:
    return sorted(p.stem for p in config_dir.glob("*.yaml"))


def promotion_order(configs: Mapping[str, EnvConfig]) -> list[str]:
    """Environment names in promotion order, following next_environment links."""
    targets = {c.next_environment for c in configs.values() if c.next_environment}
    firsts = [name for name in configs if name not in targets]
    if len(firsts) != 1:
        raise ConfigError(
            f"cannot order environments {sorted(configs)}: expected exactly one that no other "
            f"promotes into, found {sorted(firsts)}"
        )
    order = [firsts[0]]
    while (nxt := configs[order[-1]].next_environment) is not None:
        if nxt not in configs or nxt in order:
            raise ConfigError(f"environment {order[-1]!r} promotes into unknown/cyclic {nxt!r}")
        order.append(nxt)
    return order


def load(env: str | None = None, config_dir: Path = CONFIG_DIR) -> EnvConfig:
    """Read config/<env>.yaml; without `env`, the first environment in promotion order."""
    if env is None:
        names = available_environments(config_dir)
        if not names:
            raise ConfigError(f"no config/<env>.yaml files in {config_dir}")
        configs = {name: _read(config_path(name, config_dir)) for name in names}
        return configs[promotion_order(configs)[0]]
    path = config_path(env, config_dir)
    if not path.is_file():
        known = ", ".join(available_environments(config_dir)) or "none"
        raise ConfigError(f"no config for environment {env!r} ({path}); known: {known}")
    return _read(path)


def _read(path: Path) -> EnvConfig:
    with path.open(encoding="utf-8") as handle:
        return parse(yaml.safe_load(handle), where=str(path))
