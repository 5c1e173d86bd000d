"""Pure logic of the lightweight components, called through KFP's `python_func`."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from kfp import dsl

from pipelines import components

REPO = Path(__file__).resolve().parents[2]


def test_run_labels_are_valid_label_values():
    labels = components.run_labels.python_func(
        commit="ABCDEF0123456789" * 3, environment="Prod",
        run_name="inventory-forecast-20240101:120000")
    assert labels == {"commit": ("abcdef0123456789" * 3)[:40],
                      "run-id": "inventory-forecast-20240101-120000",
                      "environment": "prod", "pipeline": "inventory-forecast"}
    assert all(re.fullmatch(r"[a-z0-9_-]{1,63}", v) for v in labels.values())


def test_run_labels_never_empty():
    labels = components.run_labels.python_func(commit="", environment="", run_name="***")
    assert set(labels.values()) == {"unknown", "inventory-forecast"}


def _metrics() -> dsl.Metrics:
    return dsl.Metrics(name="metrics", uri="/tmp/unused", metadata={})


@pytest.mark.parametrize(("r2", "threshold", "decision"),
                         [(0.8, 0.5, "pass"), (0.5, 0.5, "pass"), (0.49, 0.5, "fail")])
def test_check_metrics_gate(r2, threshold, decision):
    out = _metrics()
    result = components.check_metrics.python_func(
        metrics_json=json.dumps({"r_squared": r2, "rmse": 3, "flag": True, "note": "x"}),
        min_r_squared=threshold, metrics=out)
    assert result == decision
    assert out.metadata == {"r_squared": r2, "rmse": 3.0, "min_r_squared": threshold}


def test_check_metrics_needs_r_squared():
    with pytest.raises(ValueError, match="r_squared"):
        components.check_metrics.python_func(metrics_json="{}", min_r_squared=0.1,
                                             metrics=_metrics())


def _pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return dict(dep.split("==", 1) for dep in project["dependencies"])


def test_component_runtime_packages_match_the_pinned_versions():
    pins = _pins()
    for requirement in [*components.BIGQUERY, *components.AIPLATFORM]:
        name, version = requirement.split("==", 1)
        assert pins[name] == version, requirement


def test_trainer_image_matches_the_pinned_versions():
    dockerfile = (REPO / "pipelines" / "trainer" / "Dockerfile").read_text(encoding="utf-8")
    pins = _pins()
    for name in ("scikit-learn", "pandas", "numpy", "joblib", "google-cloud-bigquery",
                 "db-dtypes"):
        assert f"{name}=={pins[name]}" in dockerfile, name
    sklearn = pins["scikit-learn"].split(".")
    from pipelines.tracking import SKLEARN_SERVING_VERSION
    assert f"{sklearn[0]}-{sklearn[1]}" == SKLEARN_SERVING_VERSION
