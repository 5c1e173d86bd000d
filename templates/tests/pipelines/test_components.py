"""Pure logic of the lightweight components, called through KFP's `python_func`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

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
