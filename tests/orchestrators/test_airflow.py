"""The Airflow DAGs rendered with `orchestrators: [airflow]` load in Airflow's own DagBag and have
the structure the client docs promise: per environment a scheduled DAG and a data-arrival DAG whose
two sensors feed the pipeline run; names come from config/<env>.yaml.

Airflow is heavy, so it runs in the interpreter MLOPSGEN_AIRFLOW_PYTHON names (a venv with
`pip install -e '.[airflow]'`), or in this one if it has Airflow; otherwise these tests skip."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..conftest import load_example

PROBE = Path(__file__).with_name("dagbag_probe.py")
MARKER = "DAGBAG-JSON:"
SCHEDULE = "15 2 * * 2,4"
ANSWERS: dict[str, Any] = {
    **load_example("full"),
    "environments": ["dev", "qa", "prod"],
    "environment_branches": {"qa": "release/qa"},
    "orchestrators": ["airflow"],
    "retrain_schedule": SCHEDULE,
}
NEEDED = ("airflow", "airflow.providers.google")


def _find_airflow_python() -> tuple[str | None, str]:
    probe = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in %r))"
    named = os.environ.get("MLOPSGEN_AIRFLOW_PYTHON")
    candidate = named or sys.executable
    try:
        ok = subprocess.run([candidate, "-c", probe % (NEEDED,)], capture_output=True,
                            check=False, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired) as exc:
        if named:
            return None, f"MLOPSGEN_AIRFLOW_PYTHON={named} cannot run: {exc}"
        ok = False
    if ok:
        return candidate, ""
    if named:
        return None, (f"MLOPSGEN_AIRFLOW_PYTHON={named} lacks apache-airflow or "
                      "apache-airflow-providers-google: pip install -e '.[airflow]'")
    return None, ("Airflow is not importable: create a venv with pip install -e '.[airflow]' "
                  "and set MLOPSGEN_AIRFLOW_PYTHON to its python")


AIRFLOW_PYTHON, _WHY_NOT = _find_airflow_python()


def load_dagbag(folder: Path, tmp_path: Path, **env: str) -> dict[str, Any]:
    assert AIRFLOW_PYTHON is not None
    home = tmp_path / "airflow-home"
    home.mkdir(exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MLOPS_"))}
    # importing the Google provider takes long on a loaded machine: DagBag's 30 s default
    # import timeout would report it as an import error
    environ.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False",
                   AIRFLOW__CORE__UNIT_TEST_MODE="True",
                   AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT="300", **env)
    result = subprocess.run(
        [AIRFLOW_PYTHON, str(PROBE), str(folder), "2026-03-03"],
        capture_output=True, text=True, check=False, timeout=600, env=environ, cwd=tmp_path,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(MARKER)]
    assert result.returncode == 0 and lines, result.stdout[-3000:] + result.stderr[-3000:]
    data: dict[str, Any] = json.loads(lines[-1][len(MARKER):])
    return data


@pytest.fixture(scope="module")
def repo(render_repo: Any) -> Path:
    path: Path = render_repo(ANSWERS)
    return path


def _config(repo: Path, env: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((repo / "config" / f"{env}.yaml").read_text())
    return data


def _constant(path: Path, name: str) -> Any:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id == name:
                return ast.literal_eval(value)
    raise AssertionError(f"{path} defines no constant {name}")


def test_dag_file_is_rendered_with_the_answers(repo: Path) -> None:
    dag_file = repo / "dags" / "retrain.py"
    assert sorted(p.name for p in (repo / "dags").iterdir()) == ["retrain.py"]
    assert _constant(dag_file, "RETRAIN_SCHEDULE") == SCHEDULE
    assert _constant(dag_file, "ENVIRONMENTS") == ["dev", "qa", "prod"]
    compile(dag_file.read_text(), str(dag_file), "exec")


def test_dag_names_match_the_pipeline_code(repo: Path) -> None:
    """The DAG cannot import pipelines/ on Composer; its two shared names must stay equal."""
    dag_file = repo / "dags" / "retrain.py"
    assert _constant(dag_file, "PIPELINE_NAME") == _constant(
        repo / "pipelines" / "tracking.py", "PIPELINE_NAME")
    assert _constant(dag_file, "SOURCE_TABLE") == _constant(
        repo / "pipelines" / "sql.py", "SOURCE_TABLE")


@pytest.mark.airflow
@pytest.mark.skipif(AIRFLOW_PYTHON is None, reason=_WHY_NOT)
def test_dags_load_with_the_promised_structure(repo: Path, tmp_path: Path) -> None:
    bag = load_dagbag(repo / "dags", tmp_path)
    assert bag["import_errors"] == {}
    envs = ["dev", "qa", "prod"]
    assert sorted(bag["dags"]) == sorted(
        [f"retrain_{e}_scheduled" for e in envs] + [f"retrain_{e}_on_new_data" for e in envs])
    for env in envs:
        cfg = _config(repo, env)
        template = f"{cfg['artifact_registry']['kfp']}/inventory-forecast/{env}-latest"

        scheduled = bag["dags"][f"retrain_{env}_scheduled"]
        assert scheduled["schedule"] == SCHEDULE
        assert scheduled["catchup"] is False and scheduled["max_active_runs"] == 1
        assert list(scheduled["tasks"]) == ["run_pipeline"]

        on_data = bag["dags"][f"retrain_{env}_on_new_data"]
        assert on_data["schedule"] in ("0 0 * * *", "@daily")
        assert on_data["catchup"] is False and on_data["max_active_runs"] == 1
        tasks = on_data["tasks"]
        assert set(tasks) == {"wait_for_bigquery_partition", "wait_for_data_lake_objects",
                              "run_pipeline"}
        partition, landing, run = (tasks["wait_for_bigquery_partition"],
                                   tasks["wait_for_data_lake_objects"], tasks["run_pipeline"])
        assert partition["class"] == "BigQueryTablePartitionExistenceSensor"
        assert landing["class"] == "GCSObjectsWithPrefixExistenceSensor"
        assert partition["upstream"] == [] and landing["upstream"] == []
        assert run["upstream"] == ["wait_for_bigquery_partition", "wait_for_data_lake_objects"]
        assert run["trigger_rule"] == "none_failed_min_one_success"
        assert partition["fields"]["project_id"] == cfg["project_id"]
        assert partition["fields"]["dataset_id"] == cfg["datasets"]["training"]
        assert partition["fields"]["table_id"] == "sales"
        assert partition["fields"]["partition_id"] == "20260303"
        assert landing["fields"]["bucket"] == cfg["buckets"]["data"]
        assert landing["fields"]["prefix"] == "landing/sales/2026-03-03/"
        for sensor in (partition, landing):
            assert sensor["fields"]["mode"] == "reschedule"
            assert sensor["fields"]["soft_fail"] is True

        for dag, trigger in ((scheduled, "airflow-schedule"), (on_data, "airflow-new-data")):
            job = dag["tasks"]["run_pipeline"]
            assert job["class"] == "RunPipelineJobOperator"
            assert job["module"].startswith("airflow.providers.google.")
            f = job["fields"]
            assert f["template_path"] == template
            assert f["project_id"] == cfg["project_id"] and f["region"] == cfg["region"]
            assert f["service_account"] == cfg["service_accounts"]["pipeline"]
            # under the prefix the pipeline-root bucket's retention rule deletes scheduled runs
            assert f["pipeline_root"].startswith(
                f"gs://{cfg['buckets']['pipeline_root']}/{cfg['pipeline_root_prefixes']['scheduled']}")
            # cmek: the PipelineJob is encrypted with the environment's Vertex AI key
            assert f["encryption_spec_key_name"] == cfg["vertex_ai_kms_key"]
            assert f["pipeline_root"].endswith("/20260303T000000")
            assert f["labels"] == {"environment": env, "pipeline": "inventory-forecast",
                                   "trigger": trigger}
            assert f["parameter_values"]["environment"] == env
            assert f["experiment"] == f"inventory-forecast-{env}"


@pytest.mark.airflow
@pytest.mark.skipif(AIRFLOW_PYTHON is None, reason=_WHY_NOT)
def test_one_environment_per_composer_and_configs_beside_the_dag(
    repo: Path, tmp_path: Path
) -> None:
    """As deployed to Composer: dags/retrain.py with config/ beside it, MLOPS_ENVIRONMENTS set."""
    folder = tmp_path / "composer-dags"
    folder.mkdir()
    (folder / "retrain.py").write_text((repo / "dags" / "retrain.py").read_text())
    (folder / "config").mkdir()
    for env in ("dev", "qa", "prod"):
        text = (repo / "config" / f"{env}.yaml").read_text()
        (folder / "config" / f"{env}.yaml").write_text(text.replace("-qa-", "-qa2-"))
    bag = load_dagbag(folder, tmp_path, MLOPS_ENVIRONMENTS="qa")
    assert bag["import_errors"] == {}
    assert sorted(bag["dags"]) == ["retrain_qa_on_new_data", "retrain_qa_scheduled"]
    fields = bag["dags"]["retrain_qa_scheduled"]["tasks"]["run_pipeline"]["fields"]
    assert "-qa2-" in fields["project_id"]  # read from the copy beside the DAG


@pytest.mark.airflow
@pytest.mark.skipif(AIRFLOW_PYTHON is None, reason=_WHY_NOT)
def test_bad_settings_surface_as_import_errors(repo: Path, tmp_path: Path) -> None:
    bag = load_dagbag(repo / "dags", tmp_path, MLOPS_ENVIRONMENTS="qa,uat")
    assert bag["dags"] == {}
    assert any("uat" in message for message in bag["import_errors"].values())
    missing = tmp_path / "no-config"
    missing.mkdir()
    bag = load_dagbag(repo / "dags", tmp_path, MLOPS_CONFIG_DIR=str(missing))
    assert bag["dags"] == {}
    assert any("no config for environment" in m for m in bag["import_errors"].values())


def test_dag_file_passes_the_client_repo_lint(repo: Path) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (the test extra has it)")
    result = subprocess.run([ruff, "check", "dags"], cwd=repo, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
