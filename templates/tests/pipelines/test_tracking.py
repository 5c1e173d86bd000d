from __future__ import annotations

import re

import pytest

from pipelines import tracking


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Dev", "dev"), ("feature/ABC 1", "feature-abc-1"), ("--x--", "x"), ("A" * 70, "a" * 63)],
)
def test_label_value(text, expected):
    value = tracking.label_value(text)
    assert value == expected and len(value) <= 63


def test_run_labels_need_a_commit():
    assert tracking.run_labels("A" * 50, "prod") == {
        "commit": "a" * 40, "environment": "prod", "pipeline": tracking.PIPELINE_NAME}
    with pytest.raises(ValueError, match="commit"):
        tracking.run_labels("", "prod")


def test_job_id_is_a_valid_unique_id():
    job = tracking.job_id("staging", "0123456789abcdef", "20240101120000")
    assert job == "inventory-forecast-staging-0123456789ab-20240101120000"
    assert re.fullmatch(r"[a-z][a-z0-9-]{0,127}", job)


def test_experiment_run_name():
    assert tracking.experiment_run_name("Build_42/a") == "nb-build-42-a"
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,127}", tracking.experiment_run_name("x" * 300))


@pytest.mark.parametrize(
    ("region", "multi"),
    [("europe-west4", "europe"), ("us-central1", "us"), ("asia-southeast1", "asia"),
     ("australia-southeast1", "asia"), ("northamerica-northeast1", "us")],
)
def test_prediction_image(region, multi):
    assert tracking.prediction_image(region) == (
        f"{multi}-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-5:latest")


def test_prediction_image_unknown_region():
    with pytest.raises(ValueError, match="mars-north1"):
        tracking.prediction_image("mars-north1")


def test_bq_uri_and_tags():
    assert tracking.bq_uri("p", "d") == "bq://p.d"
    assert tracking.bq_uri("p", "d", "t") == "bq://p.d.t"
    assert tracking.template_tags("ABC", "dev") == ["commit-abc", "dev-latest"]
