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
    prefixes = data.get("pipeline_root_prefixes")
    if not isinstance(prefixes, dict) or not str(prefixes.get("runs") or "").endswith("/"):
        raise ConfigError(f"{path} has no pipeline_root_prefixes.runs (a prefix ending in '/')")
    return data


def run_prefix(cfg: dict[str, Any], commit: str) -> str:
    """Where one commit's run artifacts live in the pipeline-root bucket (`<runs prefix><commit>/`,
    the prefix the bucket's retention rule deletes under)."""
    return f"{cfg['pipeline_root_prefixes']['runs']}{commit}/"
