"""Compile the pipeline offline for each feature combination and inspect the spec."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import compiler

from pipelines import config, submit
from pipelines.pipeline import build


def _compile(cfg: config.EnvConfig, tmp_path: Path) -> dict[str, Any]:
    f = cfg.features
    out = tmp_path / (f"{cfg.environment}-{f.automl}-{f.model_deployment}-{f.model_monitoring}"
                      f"-{f.cmek}.yaml")
    compiler.Compiler().compile(build(cfg, image_tag="test-tag"), str(out))
    spec = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert isinstance(spec, dict)
    return spec


def _components(spec: dict[str, Any]) -> set[str]:
    """Component names of every task, however deeply nested (exit handler, conditions)."""
    found: set[str] = set()

    def walk(dag: dict[str, Any]) -> None:
        for task in dag.get("tasks", {}).values():
            name = task["componentRef"]["name"]
            found.add(name)
            inner = spec["components"][name].get("dag")
            if inner:
                walk(inner)

    walk(spec["root"]["dag"])
    return found


def _variant(cfg: config.EnvConfig, automl: bool, deploy: bool,
             monitoring: bool = False) -> config.EnvConfig:
    features = dataclasses.replace(cfg.features, automl=automl, model_deployment=deploy,
                                   model_monitoring=monitoring)
    return dataclasses.replace(cfg, features=features,
                               endpoint_display_name=cfg.endpoint_display_name or "test-endpoint")


def _key_inputs(spec: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """(component, input) -> value of every encryption key input of every task, however deeply
    nested: the task's constant, else the component's default."""
    found: dict[tuple[str, str], Any] = {}

    def walk(dag: dict[str, Any]) -> None:
        for task in dag.get("tasks", {}).values():
            name = task["componentRef"]["name"]
            component = spec["components"][name]
            given = task.get("inputs", {}).get("parameters", {})
            declared = component.get("inputDefinitions", {}).get("parameters", {})
            for key in {*given, *declared}:
                if "encryption_spec_key_name" in key:
                    value = given.get(key, {}).get("runtimeValue", {}).get(
                        "constant", declared.get(key, {}).get("defaultValue"))
                    found[name, key] = value
            if component.get("dag"):
                walk(component["dag"])

    walk(spec["root"]["dag"])
    return found


# every step that creates a Vertex AI resource, and the input that names its key
KEYED = {
    "comp-time-series-dataset-create": {"encryption_spec_key_name"},
    "comp-automl-forecasting-training-job": {"training_encryption_spec_key_name",
                                             "model_encryption_spec_key_name"},
    "comp-train-forecaster": {"encryption_spec_key_name"},
    "comp-model-upload": {"encryption_spec_key_name"},
    "comp-model-batch-predict": {"encryption_spec_key_name"},
    "comp-batch-predict-monitored": {"encryption_spec_key_name"},
    "comp-automl-backtest": {"encryption_spec_key_name"},
    "comp-configure-monitoring": {"encryption_spec_key_name"},
}


@pytest.mark.parametrize("automl", [True, False])
@pytest.mark.parametrize("cmek", [True, False])
@pytest.mark.parametrize("deploy", [True, False])
def test_every_vertex_resource_uses_the_environment_key(first_config, tmp_path, automl, cmek,
                                                        deploy):
    """With cmek, the dataset, training job, model and batch prediction use the environment's key
    (constraints/gcp.restrictNonCmekServices refuses them otherwise); without, none is set."""
    key = (f"projects/{first_config.project_id}/locations/{first_config.region}/keyRings/"
           "ring/cryptoKeys/aiplatform")
    cfg = _variant(first_config, automl, deploy=deploy, monitoring=True)
    cfg = dataclasses.replace(cfg, features=dataclasses.replace(cfg.features, cmek=cmek),
                              vertex_ai_kms_key=key if cmek else None)
    spec = _compile(cfg, tmp_path)
    found = _key_inputs(spec)
    present = _components(spec)
    expected = {(c, i) for c, inputs in KEYED.items() if c in present for i in inputs}
    assert expected and expected <= set(found)
    assert all(value == (key if cmek else "") for value in found.values()), found
    p = submit.plan(cfg, commit="0123abc", template="t.yaml",
                    now=datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC))
    assert p.encryption_spec_key_name == (key if cmek else None)


def _tasks(spec: dict[str, Any], component: str) -> dict[str, Any]:
    return dict(spec["components"][component]["dag"]["tasks"])


@pytest.mark.parametrize("automl", [True, False])
@pytest.mark.parametrize("deploy", [True, False])
@pytest.mark.parametrize("monitoring", [True, False])
def test_spec_reflects_the_feature_toggles(first_config, tmp_path, automl, deploy, monitoring):
    cfg = _variant(first_config, automl, deploy, monitoring)
    spec = _compile(cfg, tmp_path)
    names = _components(spec)
    assert {"comp-exit-handler-1", "comp-vertex-pipelines-notification-email",
            "comp-prepare-training-data", "comp-champion-gate", "comp-find-registry-model",
            "comp-set-aliases", "comp-run-labels"} <= names
    assert ("comp-automl-forecasting-training-job" in names) == automl
    assert ("comp-automl-backtest" in names) == automl
    assert ("comp-train-forecaster" in names) == (not automl)
    assert ("comp-model-upload" in names) == (not automl)
    assert ("comp-model-deploy" in names) == deploy
    assert ("comp-plan-retirement" in names) == deploy
    assert ("comp-retire-previous" in names) == deploy
    assert ("comp-promote-champion" in names) == (not deploy)
    assert ("comp-configure-monitoring" in names) == (deploy and monitoring)
    assert ("comp-batch-predict-monitored" in names) == (monitoring and not deploy)
    assert "comp-model-batch-predict" in names


@pytest.mark.parametrize("automl", [True, False])
def test_every_run_uploads_a_version_of_the_environments_model(first_config, tmp_path, automl):
    """Registry: the new model is a version of the one found by find-registry-model."""
    spec = _compile(_variant(first_config, automl, deploy=True), tmp_path)
    handler = _tasks(spec, "comp-exit-handler-1")
    found = handler["find-registry-model"]["inputs"]["parameters"]["display_name"]
    assert found["runtimeValue"]["constant"] == f"inventory-forecast-{first_config.environment}"
    if automl:
        train = handler["automl-forecasting-training-job"]["inputs"]["parameters"]
        assert train["parent_model"]["taskOutputParameter"] == {
            "outputParameterKey": "parent_model", "producerTask": "find-registry-model"}
        assert train["is_default_version"]["runtimeValue"]["constant"] is False
        assert train["model_labels"]["taskOutputParameter"]["producerTask"] == "run-labels"
    else:
        upload = handler["model-upload"]["inputs"]
        assert upload["artifacts"]["parent_model"]["taskOutputArtifact"]["producerTask"] == \
            "importer-2"
        assert upload["parameters"]["labels"]["taskOutputParameter"]["producerTask"] == \
            "run-labels"
        trainer = handler["train-forecaster"]["inputs"]["parameters"]
        assert trainer["champion_model_uri"]["taskOutputParameter"] == {
            "outputParameterKey": "champion_artifact_uri", "producerTask": "find-registry-model"}
    alias = handler["set-aliases"]["inputs"]["parameters"]["aliases"]
    assert alias["runtimeValue"]["constant"] == ["candidate"]


def test_spec_uses_only_the_environment_names(first_config, tmp_path):
    cfg = _variant(first_config, automl=False, deploy=False)
    spec = _compile(cfg, tmp_path)
    text = json.dumps(spec)
    params = spec["root"]["inputDefinitions"]["parameters"]
    assert params["project"]["defaultValue"] == cfg.project_id
    assert params["location"]["defaultValue"] == cfg.region
    assert params["environment"]["defaultValue"] == cfg.environment
    assert cfg.image("forecast-trainer", "test-tag") in text
    assert cfg.pipeline_service_account in text
    assert cfg.notification_email in text
    exit_task = spec["root"]["dag"]["tasks"]["vertex-pipelines-notification-email"]
    assert exit_task["triggerPolicy"]["strategy"] == "ALL_UPSTREAM_TASKS_COMPLETED"


@pytest.mark.parametrize("automl", [True, False])
@pytest.mark.parametrize("monitoring", [True, False])
def test_the_gate_stops_a_losing_challenger_before_deploy(first_config, tmp_path, automl,
                                                          monitoring):
    """Predict, deploy, retirement, champion alias and monitoring run only when the gate
    passes; earlier models are undeployed only after the deploy, monitoring only after that."""
    cfg = _variant(first_config, automl=automl, deploy=True, monitoring=monitoring)
    spec = _compile(cfg, tmp_path)
    handler = _tasks(spec, "comp-exit-handler-1")
    condition = handler["condition-2"]
    assert condition["triggerPolicy"]["condition"] == (
        "inputs.parameter_values['pipelinechannel--champion-gate-verdict'] == 'pass'")
    gated = _tasks(spec, "comp-condition-2")
    assert {"model-batch-predict", "model-deploy", "endpoint-state", "plan-retirement",
            "retire-previous"} <= set(gated)
    assert ("configure-monitoring" in gated) == monitoring
    assert not {"model-deploy", "retire-previous", "configure-monitoring"} & set(handler)
    assert "model-deploy" in gated["endpoint-state"]["dependentTasks"]
    assert gated["retire-previous"]["inputs"]["parameters"]["plan_json"][
        "taskOutputParameter"]["producerTask"] == "plan-retirement"
    if monitoring:
        job = gated["configure-monitoring"]
        assert "retire-previous" in job["dependentTasks"]
        params = job["inputs"]["parameters"]
        assert params["sampling_rate"]["runtimeValue"]["constant"] == \
            cfg.monitoring.sampling_rate
        assert params["drift_threshold"]["runtimeValue"]["constant"] == \
            cfg.monitoring.drift_threshold
    gate = handler["champion-gate"]["inputs"]["parameters"]
    assert gate["metric"]["runtimeValue"]["constant"] == cfg.gate.metric
    assert gate["champion"]["taskOutputParameter"]["producerTask"] == "find-registry-model"
    scores = "automl-backtest" if automl else "train-forecaster"
    assert gate["champion_metrics_json"]["taskOutputParameter"]["producerTask"] == scores
    defaults = spec["root"]["inputDefinitions"]["parameters"]
    assert defaults["min_r_squared"]["defaultValue"] == cfg.gate.min_r_squared


def test_batch_only_monitoring_monitors_the_batch_prediction(first_config, tmp_path):
    cfg = _variant(first_config, automl=False, deploy=False, monitoring=True)
    gated = _tasks(_compile(cfg, tmp_path), "comp-condition-2")
    params = gated["batch-predict-monitored"]["inputs"]["parameters"]
    assert params["skew_threshold"]["runtimeValue"]["constant"] == cfg.monitoring.skew_threshold
    assert params["training_bq_uri"] == {
        "componentInputParameter": "pipelinechannel--prepare-training-data-train_bq_uri"}
    assert "batch-predict-monitored" in gated["promote-champion"]["dependentTasks"]


def test_submit_plan_and_template_check(first_config, tmp_path):
    spec = _compile(first_config, tmp_path)
    submit.check_template(spec, first_config.environment)
    with pytest.raises(ValueError, match="compiled for"):
        submit.check_template(spec, first_config.environment + "x")
    p = submit.plan(first_config, commit="0123abc", template="t.yaml",
                    now=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC))
    assert p.pipeline_root == f"gs://{first_config.pipeline_root_bucket}/runs/0123abc"
    assert p.service_account == first_config.pipeline_service_account
    assert p.labels["commit"] == "0123abc" and p.labels["environment"] == first_config.environment
    assert p.parameter_values["commit"] == "0123abc"
    assert p.job_id.endswith("-20240102030405")
    assert p.registry_host == first_config.kfp_repo


def test_submit_dry_run_makes_no_cloud_call(first_config, tmp_path, capsys):
    template = tmp_path / "pipeline.yaml"
    template.write_text(yaml.safe_dump(_compile(first_config, tmp_path)), encoding="utf-8")
    code = submit.main(["--env", first_config.environment, "--commit", "abc", "--template",
                        str(template), "--dry-run", "--param", "min_r_squared=0.9"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["dry_run"] is True and printed["parameter_values"]["min_r_squared"] == 0.9
    assert submit.main(["--env", first_config.environment, "--commit", "abc", "--template",
                        str(tmp_path / "missing.yaml"), "--dry-run"]) == 2


def test_submit_upload_only_dry_run_publishes_the_env_latest_tag(first_config, tmp_path, capsys):
    template = tmp_path / "pipeline.yaml"
    template.write_text(yaml.safe_dump(_compile(first_config, tmp_path)), encoding="utf-8")
    code = submit.main(["--env", first_config.environment, "--commit", "abc", "--template",
                        str(template), "--upload-only", "--dry-run"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["upload_only"] is True
    assert f"{first_config.environment}-latest" in printed["template_tags"]



def test_the_gate_record_reaches_metrics_json(tmp_path):
    """submit --wait --gate-output: the champion-gate task's record, read from the run's task
    details (PipelineTaskDetail as a dict), merged into the build's metrics.json."""
    from google.cloud import aiplatform_v1

    record = {"verdict": "fail", "reason": "rmse 2.3 vs champion 2.1",
              "candidate_metrics": {"rmse": 2.3}, "champion_metrics": {"rmse": 2.1}}
    task = aiplatform_v1.PipelineTaskDetail(task_name="champion-gate", outputs={
        "gate": aiplatform_v1.PipelineTaskDetail.ArtifactList(
            artifacts=[aiplatform_v1.Artifact(metadata=record)])})
    other = aiplatform_v1.PipelineTaskDetail(task_name="run-labels")
    details = [type(t).to_dict(t) for t in (other, task)]
    assert submit.gate_record(details) == record
    assert submit.gate_record(details[:1]) is None
    out = tmp_path / "build" / "metrics.json"
    out.parent.mkdir()
    out.write_text(json.dumps({"metrics": {"rmse": 2.3}, "commit": "abc"}))
    submit.merge_gate_record(out, record)
    assert json.loads(out.read_text()) == {"metrics": {"rmse": 2.3}, "commit": "abc",
                                           "gate": record}
    assert submit.merge_gate_record(tmp_path / "new.json", None)["verdict"] == "none"
