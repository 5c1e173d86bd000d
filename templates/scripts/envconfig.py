"""Read config/<env>.yaml (written from the answers; the same names the Terraform creates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


class ConfigError(ValueError):
    pass


def load(env: str, config_dir: Path = CONFIG_DIR) -> dict[str, Any]:
    path = config_dir / f"{env}.yaml"
    if not path.is_file():
        raise ConfigError(f"no configuration for environment {env!r}: {path} does not exist")
    try:
        import yaml
    except ImportError as err:  # pragma: no cover - depends on the image
        raise ConfigError("PyYAML is needed to read config/*.yaml (pip install pyyaml)") from err
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a mapping")
    for key in ("environment", "project_id", "region", "buckets"):
        if key not in data:
            raise ConfigError(f"{path} has no {key!r}")
    if not data["buckets"].get("pipeline_root"):
        raise ConfigError(f"{path} has no buckets.pipeline_root")
    return data
