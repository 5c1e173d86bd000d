"""Data quality and lineage in the rendered Terraform, read from real offline `terraform plan`
JSON for every scenario of tests/test_plan_content.py: each environment plans its training
data's Dataplex scan with the rules the pipeline's gate expects (the rendered repo's own
pipelines/quality.py on its config/<env>.yaml), who may run it, what its service agent may read,
and the Data Lineage and Dataplex APIs."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.plan import PlanRequest, run_plan

from .conftest import load_example
from .test_plan_content import CASES, _of, _resources

pytestmark = pytest.mark.terraform


@pytest.fixture(scope="module", params=sorted(CASES))
def planned(request: pytest.FixtureRequest, render_repo: Any,
            tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[dict[str, Any], Path, dict[str, list[dict[str, Any]]]]:
    name = request.param
    answers = {**load_example("minimal" if name != "full" else "full"), **CASES[name]}
    repo = render_repo(answers)
    work = tmp_path_factory.mktemp("plan") / "repo"
    shutil.copytree(repo, work, symlinks=True)
    by_env = {}
    for env in answers["environments"]:
        outcome = run_plan(work, PlanRequest(env=env, offline=True))
        assert outcome.exit_code == 2, outcome.error
        by_env[env] = list(_resources(json.loads((outcome.plan_dir / "plan.json").read_text())))
    return answers, repo, by_env


def _quality_module(repo: Path) -> Any:
    """The rendered repo's pipelines/quality.py (pure: it imports only pipelines.sql)."""
    saved = {k: v for k, v in sys.modules.items() if k == "pipelines" or k.startswith("pipelines.")}
    for key in saved:
        del sys.modules[key]
    sys.path.insert(0, str(repo))
    try:
        return importlib.import_module("pipelines.quality")
    finally:
        sys.path.remove(str(repo))
        for key in [k for k in sys.modules if k == "pipelines" or k.startswith("pipelines.")]:
            del sys.modules[key]
        sys.modules.update(saved)


def _from_api(rule: dict[str, Any]) -> dict[str, Any]:
    """A rules() entry (Dataplex JSON) in the plan's terms."""
    expectation: Any = None
    if "tableConditionExpectation" in rule:
        expectation = ("table_condition", rule["tableConditionExpectation"]["sqlExpression"])
    elif "nonNullExpectation" in rule:
        expectation = ("non_null",)
    elif "rangeExpectation" in rule:
        rng = rule["rangeExpectation"]
        expectation = ("range", rng.get("minValue"), rng.get("maxValue"))
    return {"name": rule["name"], "dimension": rule["dimension"], "column": rule.get("column"),
            "threshold": rule.get("threshold"), "ignore_null": rule.get("ignoreNull"),
            "description": rule.get("description"), "expectation": expectation}


def _from_plan(rule: dict[str, Any]) -> dict[str, Any]:
    expectation: Any = None
    if rule.get("table_condition_expectation"):
        expectation = ("table_condition", rule["table_condition_expectation"][0]["sql_expression"])
    elif rule.get("non_null_expectation"):
        expectation = ("non_null",)
    elif rule.get("range_expectation"):
        rng = rule["range_expectation"][0]
        expectation = ("range", rng.get("min_value"), rng.get("max_value"))
    return {"name": rule["name"], "dimension": rule["dimension"], "column": rule.get("column"),
            "threshold": rule.get("threshold"), "ignore_null": rule.get("ignore_null"),
            "description": rule.get("description"), "expectation": expectation}


def _envs(planned: Any) -> Iterator[tuple[str, dict[str, Any], list[dict[str, Any]], Any]]:
    answers, repo, by_env = planned
    quality = _quality_module(repo)
    for env in answers["environments"]:
        cfg = yaml.safe_load((repo / "config" / f"{env}.yaml").read_text(encoding="utf-8"))
        yield env, cfg, by_env[env], quality


def test_each_environment_scans_its_training_data_with_the_gates_rules(planned: Any) -> None:
    for env, cfg, resources, quality in _envs(planned):
        scans = _of(resources, "google_dataplex_datascan")
        assert len(scans) == 1, env
        scan = scans[0]["values"]
        q = quality.parse(cfg["quality"])
        assert scan["data_scan_id"] == q.scan_id == f"{env}-training-data-quality"
        assert scan["location"] == cfg["region"] and scan["project"] == cfg["project_id"]
        assert scan["data"][0]["resource"] == (
            f"//bigquery.googleapis.com/projects/{cfg['project_id']}/datasets/"
            f"{cfg['datasets']['training']}/tables/{q.table}")
        assert scan["execution_spec"][0]["trigger"][0]["on_demand"], "the pipeline runs it"
        spec = scan["data_quality_spec"][0]
        # the scan's rules are exactly what the gate compares the job's result against
        assert [_from_plan(r) for r in spec["rules"]] == [_from_api(r) for r in quality.rules(q)]
        assert {r["name"] for r in spec["rules"]} >= {"row-count", "not-null-units-sold",
                                                      "range-price"}
        report = spec["post_scan_actions"][0]["notification_report"][0]
        assert report["recipients"][0]["emails"] == [cfg["notification_email"]]
        assert report["score_threshold_trigger"][0]["score_threshold"] == 100


def test_the_pipeline_may_run_the_scan_and_the_agent_read_the_training_data(planned: Any
                                                                            ) -> None:
    for env, cfg, resources, _ in _envs(planned):
        runners = _of(resources, "google_dataplex_datascan_iam_member")
        assert [(r["values"]["role"], r["values"]["member"]) for r in runners] == [
            ("roles/dataplex.dataScanEditor",
             f"serviceAccount:{cfg['service_accounts']['pipeline']}")], env
        identities = [r["values"]["service"] for r in
                      _of(resources, "google_project_service_identity")]
        assert "dataplex.googleapis.com" in identities
        agent_reads = [r["values"] for r in _of(resources, "google_bigquery_dataset_iam_member")
                       if r["address"].startswith("module.data_quality.")]
        assert [(v["dataset_id"], v["role"]) for v in agent_reads] == [
            (cfg["datasets"]["training"], "roles/bigquery.dataViewer")]


def test_lineage_and_dataplex_apis_are_on_in_every_environment(planned: Any) -> None:
    for env, cfg, resources, _ in _envs(planned):
        services = {(r["values"]["project"], r["values"]["service"])
                    for r in _of(resources, "google_project_service")}
        for api in ("datalineage.googleapis.com", "dataplex.googleapis.com"):
            assert (cfg["project_id"], api) in services, (env, api)


def test_datasets_and_buckets_say_who_owns_them(planned: Any) -> None:
    answers = planned[0]
    owner = answers.get("data_owner", "ml-platform")
    classification = answers.get("data_classification", "confidential")
    for env, cfg, resources, _ in _envs(planned):
        datasets = {r["values"]["dataset_id"]: r["values"]
                    for r in _of(resources, "google_bigquery_dataset")}
        buckets = {r["values"]["name"]: r["values"]
                   for r in _of(resources, "google_storage_bucket")}
        stores = [*(datasets[d] for d in cfg["datasets"].values()),
                  *(buckets[b] for b in cfg["buckets"].values())]
        for store in stores:
            labels = store["labels"]
            assert labels["owner"] == owner and labels["data-classification"] == classification
            assert labels["retention"], (env, labels)
        assert datasets[cfg["datasets"]["training"]]["labels"]["retention"] == "indefinite"
        assert datasets[cfg["datasets"]["runs"]]["labels"]["retention"].endswith("d")
        assert buckets[cfg["buckets"]["pipeline_root"]]["labels"]["retention"].endswith("d")
        for dataset in (datasets[d] for d in cfg["datasets"].values()):
            assert f"Owner: {owner}; classification: {classification}." in dataset["description"]
        scan = _of(resources, "google_dataplex_datascan")[0]["values"]
        assert scan["labels"]["owner"] == owner
