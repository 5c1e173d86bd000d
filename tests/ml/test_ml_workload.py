"""The ML workload a client repo arrives with (issue 6), checked on real renders.

For each feature combination: the rendered repo's documented commands compile the Vertex AI
pipeline offline (`make compile`) into a spec whose tasks follow the toggles, the experiment
notebook runs in local mode under papermill and writes its metrics (`make notebook-local`), and
the client repo's own unit tests pass (`make test`). No cloud calls: compile and `--dry-run`
need none, local mode uses synthetic data.

Needs the `ml` extra (pip install -e '.[test,ml]'); skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import model as model_mod

from ..conftest import load_example

REQUIREMENTS = Path(__file__).with_name("requirements.txt")
_NEEDED = ("kfp", "google_cloud_pipeline_components", "google.cloud.aiplatform", "papermill",
           "ipykernel", "nbformat", "pandas", "sklearn", "yaml", "pytest")


def _find_ml_python() -> tuple[str | None, str]:
    """The interpreter that runs the client's commands, or None and why not.

    MLOPSGEN_ML_PYTHON names it (a venv from tests/ml/requirements.txt); without it, the
    interpreter running these tests is used if it happens to have the ML packages."""
    probe = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in %r))"
    named = os.environ.get("MLOPSGEN_ML_PYTHON")
    candidate = named or sys.executable
    try:
        ok = subprocess.run([candidate, "-c", probe % (_NEEDED,)], capture_output=True,
                            check=False, timeout=60).returncode == 0
    except OSError as exc:
        ok = False
        if named:
            return None, f"MLOPSGEN_ML_PYTHON={named} cannot run: {exc}"
    if ok:
        return candidate, ""
    if named:
        return None, (f"MLOPSGEN_ML_PYTHON={named} lacks some of {', '.join(_NEEDED)}: "
                      f"pip install -r {REQUIREMENTS}")
    return None, ("no interpreter with the ML packages: create a venv from "
                  f"{REQUIREMENTS} and set MLOPSGEN_ML_PYTHON to its python")


ML_PYTHON, _WHY_NOT = _find_ml_python()
# not configured: skip; configured but broken (CI sets it): fail, so the suite cannot go quiet
_CONFIGURED = bool(os.environ.get("MLOPSGEN_ML_PYTHON"))
pytestmark = [pytest.mark.ml,
              pytest.mark.skipif(ML_PYTHON is None and not _CONFIGURED, reason=_WHY_NOT)]


@pytest.fixture(scope="module", autouse=True)
def _ml_python_works() -> None:
    if ML_PYTHON is None:
        pytest.fail(_WHY_NOT)

MAKE = shutil.which("make")

CONFIG_KEYS = {
    "environment", "project_id", "region", "branch", "next_environment", "next_branch",
    "buckets", "datasets", "service_accounts", "artifact_registry", "pubsub_topic",
    "tensorboard_display_name", "endpoint_display_name", "notification_email", "features",
    "pipeline_root_prefixes", "vertex_ai_kms_key", "workbench_instance", "data_scientists",
    "gate", "monitoring", "quality", "retraining", "serving_slo",
}


def _with_features(base: str, features: list[str], **extra: Any) -> dict[str, Any]:
    answers = load_example(base)
    answers["features"] = features
    answers.update(extra)
    return answers


# name -> answers; full/minimal are the examples, the others isolate one toggle each
VARIANTS: dict[str, Callable[[], dict[str, Any]]] = {
    "full": lambda: load_example("full"),
    "minimal": lambda: load_example("minimal"),
    "automl-only": lambda: _with_features(
        "full", ["automl"], environments=["dev", "prod"], region="us-east1"),
    "deploy-only": lambda: _with_features(  # two environments sharing one project
        "minimal", ["model_deployment", "workbench"], region="asia-southeast1",
        environments=["dev", "prod"]),
    # model_monitoring without an endpoint deployment: the batch predictions are monitored
    "monitoring-batch": lambda: _with_features("minimal", ["model_monitoring"]),
}


def _run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False,
                          timeout=timeout, env=env)


def _make(repo: Path, target: str, *extra: str) -> subprocess.CompletedProcess[str]:
    if MAKE is None:
        pytest.skip("make is not installed")
    return _run([MAKE, "--no-print-directory", target, f"PYTHON={ML_PYTHON}", *extra], repo)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.stdout[-4000:] + "\n" + result.stderr[-4000:])
    return result.stdout


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest, render_repo: Any
            ) -> tuple[str, dict[str, Any], dict[str, Any], Path]:
    """(name, answers, mlops context, rendered repo): one real copier render per variant."""
    answers = VARIANTS[request.param]()
    context = model_mod.build_context(model_mod.validate_answers(answers))
    return request.param, answers, context, render_repo(answers)


def _task_components(spec: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(dag: Mapping[str, Any]) -> None:
        for task in dag.get("tasks", {}).values():
            name = task["componentRef"]["name"]
            found.add(name)
            if "dag" in spec["components"][name]:
                walk(spec["components"][name]["dag"])

    walk(spec["root"]["dag"])
    return found


_COMPILED: dict[tuple[Path, str | None], dict[str, Any]] = {}


def _compile(repo: Path, env: str | None = None) -> dict[str, Any]:
    """`make compile [ENV=env]` in the render, once per (render, env) per session."""
    if (repo, env) not in _COMPILED:
        build = f"build-{env or 'default'}"
        _ok(_make(repo, "compile", f"BUILD={build}", *([f"ENV={env}"] if env else [])))
        spec = yaml.safe_load((repo / build / "pipeline.yaml").read_text(encoding="utf-8"))
        assert isinstance(spec, dict) and spec["pipelineInfo"]["name"] == "inventory-forecast"
        _COMPILED[repo, env] = spec
    return _COMPILED[repo, env]


def _encryption_keys(spec: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """(component, input) -> the key every step that creates a Vertex AI resource is given (the
    task's constant, else the component's default), however deeply nested."""
    found: dict[tuple[str, str], Any] = {}

    def walk(dag: Mapping[str, Any]) -> None:
        for task in dag.get("tasks", {}).values():
            name = task["componentRef"]["name"]
            component = spec["components"][name]
            given = task.get("inputs", {}).get("parameters", {})
            declared = component.get("inputDefinitions", {}).get("parameters", {})
            for key in {*given, *declared}:
                if "encryption_spec_key_name" in key:
                    found[name, key] = given.get(key, {}).get("runtimeValue", {}).get(
                        "constant", declared.get(key, {}).get("defaultValue"))
            if "dag" in component:
                walk(component["dag"])

    walk(spec["root"]["dag"])
    return found


def test_config_files_carry_the_render_context(variant: Any) -> None:
    _, _, ctx, repo = variant
    files = sorted(p.stem for p in (repo / "config").glob("*.yaml"))
    assert files == sorted(ctx["environment_names"])
    for env in ctx["environments"]:
        cfg = yaml.safe_load((repo / "config" / f"{env['name']}.yaml").read_text())
        assert set(cfg) == CONFIG_KEYS
        project, region = env["project_id"], ctx["region"]
        assert cfg["project_id"] == project and cfg["region"] == region
        assert (cfg["branch"], cfg["next_environment"], cfg["next_branch"]) == (
            env["branch"], env["next"], env["next_branch"])
        assert cfg["buckets"] == env["buckets"] and cfg["datasets"] == env["datasets"]
        emails = env["service_account_emails"]
        assert cfg["service_accounts"] == {
            "pipeline": emails["pipeline"],
            "notebook": emails["notebook"] if ctx["features"]["workbench"] else None}
        assert cfg["artifact_registry"] == {
            "docker": f"{region}-docker.pkg.dev/{project}/{env['artifact_registry']['docker']}",
            "kfp": f"https://{region}-kfp.pkg.dev/{project}/{env['artifact_registry']['kfp']}"}
        assert cfg["pubsub_topic"] == f"projects/{project}/topics/{env['pubsub_topic']}"
        assert cfg["tensorboard_display_name"] == env["tensorboard"]
        assert cfg["endpoint_display_name"] == (
            env["endpoint"] if ctx["features"]["model_deployment"] else None)
        assert cfg["notification_email"] == ctx["notification_email"]
        assert cfg["features"] == ctx["features"]
        assert cfg["pipeline_root_prefixes"] == env["pipeline_root_prefixes"]
        assert cfg["vertex_ai_kms_key"] == env["vertex_ai_kms_key"]
        assert (cfg["vertex_ai_kms_key"] is not None) is ctx["features"]["cmek"]
        assert cfg["workbench_instance"] == env["workbench_instance_name"]
        assert cfg["data_scientists"] == (
            ctx["data_scientists"] if ctx["features"]["workbench"] else [])


def _dag(spec: Mapping[str, Any], component: str) -> dict[str, Any]:
    return dict(spec["components"][component]["dag"]["tasks"])


def test_compiled_spec_follows_the_feature_toggles(variant: Any) -> None:
    _, _, ctx, repo = variant
    spec = _compile(repo)
    tasks = _task_components(spec)
    features = ctx["features"]
    automl, deploy = features["automl"], features["model_deployment"]
    monitoring = features["model_monitoring"]
    assert {"comp-exit-handler-1", "comp-vertex-pipelines-notification-email",
            "comp-prepare-training-data", "comp-find-registry-model", "comp-set-aliases",
            "comp-champion-gate", "comp-model-batch-predict", "comp-condition-2"} <= tasks
    assert ("comp-automl-forecasting-training-job" in tasks) is automl
    assert ("comp-time-series-dataset-create" in tasks) is automl
    assert ("comp-automl-backtest" in tasks) is automl
    assert ("comp-train-forecaster" in tasks) is not automl
    assert ("comp-model-upload" in tasks) is not automl
    assert ("comp-model-deploy" in tasks) is deploy
    assert ("comp-find-endpoint" in tasks) is deploy
    assert ("comp-retire-previous" in tasks) is deploy
    assert ("comp-promote-champion" in tasks) is not deploy
    assert ("comp-configure-monitoring" in tasks) is (monitoring and deploy)
    assert ("comp-batch-predict-monitored" in tasks) is (monitoring and not deploy)
    # the exit handler notifies the owners whatever the run's outcome
    notify = spec["root"]["dag"]["tasks"]["vertex-pipelines-notification-email"]
    assert notify["triggerPolicy"]["strategy"] == "ALL_UPSTREAM_TASKS_COMPLETED"
    recipients = notify["inputs"]["parameters"]["recipients"]["runtimeValue"]["constant"]
    assert recipients == [ctx["notification_email"]]


def test_registry_gate_retirement_and_monitoring_in_the_spec(variant: Any) -> None:
    """Issue 14 as compiled: the run uploads a version of the environment's model
    (parent_model from find-registry-model), the gate decides before anything predicts or
    deploys, earlier models are undeployed only after the new one is deployed, and monitoring
    is configured only with model_monitoring, after that."""
    _, _, ctx, repo = variant
    spec = _compile(repo)
    features = ctx["features"]
    handler = _dag(spec, "comp-exit-handler-1")
    first = ctx["environments"][0]["name"]
    found = handler["find-registry-model"]["inputs"]["parameters"]["display_name"]
    assert found["runtimeValue"]["constant"] == f"inventory-forecast-{first}"
    if features["automl"]:
        train = handler["automl-forecasting-training-job"]["inputs"]["parameters"]
        assert train["parent_model"]["taskOutputParameter"]["producerTask"] == \
            "find-registry-model"
        assert train["is_default_version"]["runtimeValue"]["constant"] is False
    else:
        upload = handler["model-upload"]["inputs"]["artifacts"]["parent_model"]
        importer = handler[upload["taskOutputArtifact"]["producerTask"]]["inputs"]["parameters"]
        assert importer["metadata"]["taskOutputParameter"] == {
            "outputParameterKey": "parent_model", "producerTask": "find-registry-model"}
    condition = handler["condition-2"]["triggerPolicy"]["condition"]
    assert condition == ("inputs.parameter_values['pipelinechannel--champion-gate-verdict'] "
                         "== 'pass'")
    gated = _dag(spec, "comp-condition-2")
    assert "model-batch-predict" in gated and "model-batch-predict" not in handler
    if features["automl"]:
        _assert_automl_version_is_resolved(handler, gated, deploy=features["model_deployment"])
    gate = handler["champion-gate"]["inputs"]["parameters"]
    cfg = yaml.safe_load((repo / "config" / f"{first}.yaml").read_text(encoding="utf-8"))
    assert gate["metric"]["runtimeValue"]["constant"] == cfg["gate"]["metric"]
    assert gate["max_mape"]["runtimeValue"]["constant"] == cfg["gate"]["max_mape"]
    if features["model_deployment"]:
        assert "model-deploy" in gated["endpoint-state"]["dependentTasks"]
        assert gated["retire-previous"]["inputs"]["parameters"]["plan_json"][
            "taskOutputParameter"]["producerTask"] == "plan-retirement"
    if features["model_monitoring"] and features["model_deployment"]:
        job = gated["configure-monitoring"]
        assert "retire-previous" in job["dependentTasks"]
        params = job["inputs"]["parameters"]
        for key in ("sampling_rate", "drift_threshold", "skew_threshold"):
            assert params[key]["runtimeValue"]["constant"] == cfg["monitoring"][key]
        assert params["interval_hours"]["runtimeValue"]["constant"] == \
            cfg["monitoring"]["interval_hours"]
    if features["model_monitoring"] and not features["model_deployment"]:
        params = gated["batch-predict-monitored"]["inputs"]["parameters"]
        assert params["skew_threshold"]["runtimeValue"]["constant"] == \
            cfg["monitoring"]["skew_threshold"]


def _assert_automl_version_is_resolved(handler: Mapping[str, Any], gated: Mapping[str, Any],
                                       deploy: bool) -> None:
    """AutoML's model artifact names the model without a version (the `default` one, i.e. the
    champion): resolve-trained-version finds the run's version and every step after training
    (alias, backtest, batch prediction, deploy) takes that, never the training output."""
    resolve = handler["resolve-trained-version"]["inputs"]
    assert resolve["artifacts"]["model"]["taskOutputArtifact"]["producerTask"] == \
        "automl-forecasting-training-job"
    assert resolve["parameters"]["labels"]["taskOutputParameter"]["producerTask"] == \
        "run-labels"
    importer = handler["set-aliases"]["inputs"]["artifacts"]["model"]["taskOutputArtifact"][
        "producerTask"]
    imported = handler[importer]["inputs"]["parameters"]
    assert imported["metadata"]["taskOutputParameter"] == {
        "outputParameterKey": "resource_name", "producerTask": "resolve-trained-version"}
    assert imported["uri"]["taskOutputParameter"] == {
        "outputParameterKey": "uri", "producerTask": "resolve-trained-version"}
    assert handler["automl-backtest"]["inputs"]["artifacts"]["candidate"][
        "taskOutputArtifact"]["producerTask"] == importer
    for step in ["model-batch-predict", *(["model-deploy"] if deploy else [])]:
        assert gated[step]["inputs"]["artifacts"]["model"] == {
            "componentInputArtifact": f"pipelinechannel--{importer}-artifact"}, step
    readers = {name for name, task in handler.items()
               for source in task.get("inputs", {}).get("artifacts", {}).values()
               if source.get("taskOutputArtifact", {}).get("producerTask")
               == "automl-forecasting-training-job"}
    assert readers == {"resolve-trained-version"}


def test_each_environment_compiles_with_its_own_names(variant: Any) -> None:
    _, _, ctx, repo = variant
    for env in ctx["environments"]:
        # without ENV, `make compile` builds the first environment in promotion order
        spec = _compile(repo, None if env["is_first"] else env["name"])
        params = spec["root"]["inputDefinitions"]["parameters"]
        assert params["project"]["defaultValue"] == env["project_id"]
        assert params["location"]["defaultValue"] == ctx["region"]
        assert params["environment"]["defaultValue"] == env["name"]
        assert params["source_table"]["defaultValue"] == (
            f"{env['project_id']}.{env['datasets']['training']}.sales")
        # run tables go to the pipeline's own dataset, never the curated training data
        assert params["runs_dataset"]["defaultValue"] == env["datasets"]["runs"]
        text = json.dumps(spec)
        assert env["service_account_emails"]["pipeline"] in text
        if not ctx["features"]["automl"]:
            image = (f"{ctx['region']}-docker.pkg.dev/{env['project_id']}/"
                     f"{env['artifact_registry']['docker']}/forecast-trainer:latest")
            assert image in text
        if ctx["features"]["model_deployment"]:
            assert json.dumps(env["endpoint"]) in text
        keys = _encryption_keys(spec)
        assert keys, "no step takes an encryption key"
        assert set(keys.values()) == {env["vertex_ai_kms_key"] or ""}, keys
        others = [e for e in ctx["environments"] if e["name"] != env["name"]]
        for other in others:
            if other["project_id"] != env["project_id"]:
                assert other["project_id"] not in text, other["name"]
            assert other["service_account_emails"]["pipeline"] not in text


def test_submit_dry_run_targets_the_environment(variant: Any) -> None:
    _, _, ctx, repo = variant
    env = ctx["last_environment"]
    template = "build-default" if env["is_first"] else f"build-{env['name']}"
    assert _compile(repo, None if env["is_first"] else env["name"])
    result = _ok(_run([str(ML_PYTHON), "-m", "pipelines.submit", "--env", env["name"],
                       "--commit", "0123456789abcdef0123456789abcdef01234567",
                       "--template", f"{template}/pipeline.yaml", "--dry-run"], repo))
    plan = json.loads(result)
    assert plan["dry_run"] is True
    assert plan["pipeline_root"] == (
        f"gs://{env['buckets']['pipeline_root']}/runs/0123456789abcdef0123456789abcdef01234567")
    assert plan["service_account"] == env["service_account_emails"]["pipeline"]
    assert plan["registry_host"] == (
        f"https://{ctx['region']}-kfp.pkg.dev/{env['project_id']}/{env['artifact_registry']['kfp']}")
    assert plan["labels"]["commit"] == "0123456789abcdef0123456789abcdef01234567"
    assert plan["labels"]["environment"] == env["name"]
    assert plan["encryption_spec_key_name"] == env["vertex_ai_kms_key"]
    if not env["is_first"]:  # a template compiled for another environment is refused
        assert _compile(repo)
        refused = _run([str(ML_PYTHON), "-m", "pipelines.submit", "--env", env["name"],
                        "--commit", "abc", "--template", "build-default/pipeline.yaml",
                        "--dry-run"], repo)
        assert refused.returncode == 2 and "compiled for" in refused.stderr, refused.stderr


def test_no_resource_name_is_hard_coded(variant: Any) -> None:
    _, _, ctx, repo = variant
    names = {ctx["region"], ctx["notification_email"], ctx["client_slug"]}
    for env in ctx["environments"]:
        names |= {env["project_id"], env["endpoint"], env["tensorboard"], env["pubsub_topic"],
                  *env["buckets"].values(), *env["datasets"].values(),
                  *env["service_account_emails"].values(), *env["artifact_registry"].values()}
    code = [p for d in ("pipelines", "notebooks") for p in (repo / d).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts]
    code.append(repo / "Makefile")
    assert len(code) > 10
    for path in code:
        text = path.read_text(encoding="utf-8")
        for name in names:
            assert not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), (path, name)


@pytest.mark.parametrize("which", ["full", "minimal"])
def test_notebook_runs_in_local_mode(which: str, render_repo: Any) -> None:
    repo = render_repo(VARIANTS[which]())
    result = _ok(_make(repo, "notebook-local", "BUILD=build-nb", "RUN_ID=ci-42",
                       "COMMIT=feedface"))
    assert "build-nb/metrics.json" in result
    record = json.loads((repo / "build-nb" / "metrics.json").read_text(encoding="utf-8"))
    first = yaml.safe_load(sorted((repo / "config").glob("*.yaml"))[0].read_text())
    assert record["mode"] == "local" and record["run_id"] == "ci-42"
    assert record["commit"] == "feedface"
    assert record["data"]["source"] == "synthetic" and record["data"]["rows"] > 0
    assert record["environment"] in {p.stem for p in (repo / "config").glob("*.yaml")}
    assert first["environment"]
    metrics = record["metrics"]
    assert set(metrics) >= {"r_squared", "rmse", "mae", "mape"}
    assert 0.5 < metrics["r_squared"] <= 1.0  # the synthetic signal is learnable
    assert record["params"]["n_estimators"] > 0
    assert (repo / "build-nb" / "experiment-local.ipynb").is_file()


@pytest.mark.parametrize("which", ["full", "minimal"])
def test_client_unit_tests_pass(which: str, render_repo: Any) -> None:
    repo = render_repo(VARIANTS[which]())
    out = _ok(_make(repo, "test"))
    assert re.search(r"\d+ passed", out), out[-2000:]


def test_requirements_match_the_client_pins(render_repo: Any) -> None:
    repo = render_repo(VARIANTS["minimal"]())
    client = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = dict(d.split("==", 1) for d in
                [*client["dependencies"], *client["optional-dependencies"]["dev"]])
    ours = dict(line.split("==", 1) for line in REQUIREMENTS.read_text().splitlines()
                if line.strip() and not line.startswith("#"))
    assert ours == pins


def test_client_doc_describes_this_render(variant: Any) -> None:
    _, _, ctx, repo = variant
    doc = (repo / "docs" / "ml-workload.md").read_text(encoding="utf-8")
    assert ("AutoML forecasting** (`automl` is on)" in doc) is ctx["features"]["automl"]
    assert ("custom trainer** (`automl` is off)" in doc) is not ctx["features"]["automl"]
    assert ("**deploy**" in doc) is ctx["features"]["model_deployment"]
    for env in ctx["environments"]:
        assert f"| `{env['name']}` | `{env['project_id']}` |" in doc


def test_make_submit_dry_run_outside_git(render_repo: Any) -> None:
    """The documented dry run works in a fresh render (no git history yet: commit 'unknown')."""
    repo = render_repo(VARIANTS["minimal"]())
    out = _ok(_make(repo, "submit-dry-run", "BUILD=build-dry"))
    plan = json.loads(out[out.index("{"):])
    assert plan["dry_run"] is True and plan["labels"]["commit"] == "unknown"
