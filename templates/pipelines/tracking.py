"""Traceability: labels, run names and artifact locations that tie every run, dataset and model
to the commit, environment and data snapshot it came from. Pure functions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

PIPELINE_NAME = "inventory-forecast"
TRAINER_IMAGE = "forecast-trainer"
SKLEARN_SERVING_VERSION = "1-5"  # matches scikit-learn in pipelines/trainer/Dockerfile

_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def label_value(text: str) -> str:
    """A Google Cloud label value: <= 63 lowercase letters, digits, '_' or '-'."""
    lowered = unicodedata.normalize("NFKC", str(text)).lower()
    cleaned = re.sub(r"[^a-z0-9_-]", "-", lowered)
    return re.sub(r"-+", "-", cleaned).strip("-")[:63]


def labels(**values: str) -> dict[str, str]:
    """Label dict from keyword values; keys are checked, values cleaned."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if not _LABEL_KEY.match(key):
            raise ValueError(f"invalid label key {key!r}")
        out[key] = label_value(value)
    return out


def run_labels(commit: str, environment: str) -> dict[str, str]:
    """Labels of a pipeline job (and, through the pipeline, its datasets and models)."""
    if not commit:
        raise ValueError("a run needs the commit it was built from (--commit)")
    return labels(commit=commit[:40], environment=environment, pipeline=PIPELINE_NAME)


def job_id(environment: str, commit: str, timestamp: str) -> str:
    """A unique, readable PipelineJob id: [a-z0-9-], <= 128 chars, starts with a letter."""
    raw = f"{PIPELINE_NAME}-{environment}-{commit[:12]}-{timestamp}"
    cleaned = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", raw.lower())).strip("-")
    return cleaned[:128]


def experiment_name(environment: str) -> str:
    """Vertex AI Experiment the runs of one environment are grouped in."""
    return label_value(f"{PIPELINE_NAME}-{environment}")


def experiment_run_name(run_id: str, prefix: str = "nb") -> str:
    """A Vertex AI Experiment run name: [a-z0-9-], starts with a letter or digit, <= 128."""
    cleaned = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", f"{prefix}-{run_id}".lower()))
    return cleaned.strip("-")[:128] or prefix


def prediction_image(region: str, version: str = SKLEARN_SERVING_VERSION) -> str:
    """Vertex AI's prebuilt scikit-learn serving image from the multi-region nearest `region`."""
    prefix = region.split("-", 1)[0]
    if prefix in ("europe", "me"):
        multi = "europe"
    elif prefix in ("asia", "australia"):
        multi = "asia"
    elif prefix in ("us", "northamerica", "southamerica"):
        multi = "us"
    else:
        raise ValueError(f"no prebuilt prediction image multi-region known for region {region!r}")
    return f"{multi}-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.{version}:latest"


def bq_uri(project: str, dataset: str, table: str | None = None) -> str:
    """bq://project.dataset[.table], the form Vertex AI batch prediction takes."""
    return f"bq://{project}.{dataset}" + (f".{table}" if table else "")


def template_tags(commit: str, environment: str) -> list[str]:
    """Tags of an uploaded pipeline template version in the KFP Artifact Registry repo."""
    return [label_value(f"commit-{commit[:40]}"), label_value(f"{environment}-latest")]


def describe(values: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())
