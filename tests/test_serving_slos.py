"""Serving SLOs and retraining on model monitoring alerts (issue 14, items 4 and 5).

The dashboard schema snapshot is current and generated from Google's discovery document; the
dashboard check finds what the API would refuse; and real offline plans of rendered repos hold
the dashboard (online panels only with an endpoint), the SLO alert policies (only with one, at
the answers' thresholds), the retraining channel and its publisher grant (only with
model_monitoring) and, in the bootstrap root, the retrain topics and triggers; every planned
dashboard passes `mlopsgen validate`'s dashboards stage.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from generator import model, monitoring
from generator.monitoring import dashboard as dash
from generator.validate import Report, check_dashboards, validate_repo
from tests.conftest import load_example
from tests.offline.conftest import needs_terraform

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "refresh_monitoring_schema.py"
SNAPSHOT = ROOT / "generator" / "monitoring" / "dashboard_schema.json"
ONLINE_TITLES = ("Online prediction latency (ms): p50, p95, p99",
                 "Requests per second, by response code", "Error rate (5xx share of responses)",
                 "Replicas, by deployed model")
PIPELINE_TITLES = ("Pipeline run duration (s)", "Failed pipeline runs (per hour)")


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("refresh_monitoring_schema", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# -- the snapshot -----------------------------------------------------------------------------


def test_snapshot_is_current_with_the_pinned_discovery_document() -> None:
    result = subprocess.run([sys.executable, str(TOOL), "--check"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    provenance = json.loads(SNAPSHOT.read_text())["provenance"]
    assert provenance["discovery_id"] == "monitoring:v1" and provenance["root"] == "Dashboard"
    assert provenance["google_api_python_client"] and provenance["revision"]


def test_check_reports_a_stale_snapshot(tool: ModuleType, tmp_path: Path) -> None:
    stale = json.loads(SNAPSHOT.read_text())
    del stale["schemas"]["XyChart"]["dataSets"]
    stale["schemas"]["Gone"] = {}
    out = tmp_path / "dashboard_schema.json"
    out.write_text(json.dumps(stale))
    result = subprocess.run([sys.executable, str(TOOL), "--check", "--out", str(out)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "XyChart.dataSets: added" in result.stderr and "schema Gone: removed" in result.stderr


def test_the_tool_keeps_what_dashboard_reaches_and_refuses_another_document(
    tool: ModuleType
) -> None:
    doc = {"id": "monitoring:v1", "revision": "1", "version": "v1", "schemas": {
        "Dashboard": {"properties": {
            "displayName": {"type": "string", "description": "Required. The name."},
            "etag": {"type": "string", "readOnly": True},
            "mosaicLayout": {"$ref": "MosaicLayout"},
        }},
        "MosaicLayout": {"properties": {"columns": {"type": "integer", "format": "int32"}}},
        "Unrelated": {"properties": {"x": {"type": "string"}}},
    }}
    snap = tool.build_snapshot(doc, "9.9.9", "2026-01-01")
    assert sorted(snap["schemas"]) == ["Dashboard", "MosaicLayout"]
    assert snap["schemas"]["Dashboard"]["displayName"] == {"type": "string", "required": True}
    assert snap["schemas"]["Dashboard"]["etag"] == {"output_only": True}
    with pytest.raises(tool.SchemaError):
        tool.build_snapshot({**doc, "id": "cloudbuild:v1"}, "9.9.9", "2026-01-01")


# -- the dashboard check ----------------------------------------------------------------------

GOOD: dict[str, Any] = {
    "displayName": "d",
    "labels": {"a": "b"},
    "mosaicLayout": {"columns": 48, "tiles": [{
        "xPos": 0, "yPos": 0, "width": 24, "height": 16,
        "widget": {"title": "t", "xyChart": {
            "dataSets": [{"plotType": "LINE", "timeSeriesQuery": {"timeSeriesFilter": {
                "filter": "metric.type=\"x\"",
                "aggregation": {"alignmentPeriod": "60s", "perSeriesAligner": "ALIGN_RATE"},
            }}}],
            "thresholds": [{"value": 0.5, "color": "RED", "direction": "ABOVE"}],
        }},
    }]},
}


def test_a_well_formed_dashboard_passes() -> None:
    assert monitoring.check_dashboard(GOOD) == []


def _broken(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(GOOD)
    node: Any = broken
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return broken


TILE = ("mosaicLayout", "tiles", 0)
SERIES = (*TILE, "widget", "xyChart", "dataSets", 0, "timeSeriesQuery", "timeSeriesFilter")


@pytest.mark.parametrize(("path", "value", "where", "says"), [
    ((*TILE, "widget", "xyChart", "dataSet"), [], "xyChart.dataSet", "has no field 'dataSet'"),
    ((*SERIES, "aggregation", "perSeriesAligner"), "ALIGN_P99", "perSeriesAligner",
     "is not one of"),
    ((*SERIES, "aggregation", "alignmentPeriod"), "1m", "alignmentPeriod", "not a duration"),
    ((*TILE, "width"), "24", "width", "must be an integer"),
    ((*TILE, "widget", "xyChart", "thresholds", 0, "value"), "0.5", "value", "must be a number"),
    ((*SERIES, "statisticalTimeSeriesFilter"), {}, "statisticalTimeSeriesFilter", "deprecated"),
    ((*SERIES, "filter"), KeyError, "timeSeriesFilter", "TimeSeriesFilter.filter is required"),
    (("displayName",), KeyError, "$", "Dashboard.displayName is required"),
    (("gridLayout",), {"columns": "2"}, "$", "exactly one layout"),
    (("labels", "a"), 1, "labels.a", "must be a string"),
])
def test_what_the_api_would_refuse_is_found_where_it_is(
    path: tuple[Any, ...], value: Any, where: str, says: str
) -> None:
    found = monitoring.check_dashboard(_broken(path, value))
    assert found, "the mistake went unnoticed"
    assert any(where in f.path and says in f.message for f in found), [
        f.one_line() for f in found]


def _plan(*dashboards: Any) -> dict[str, Any]:
    return {"resource_changes": [
        {"address": f"module.x.google_monitoring_dashboard.d{i}",
         "type": "google_monitoring_dashboard",
         "change": {"actions": ["create"], "after": {"dashboard_json": d}}}
        for i, d in enumerate(dashboards)
    ] + [{"address": "google_monitoring_dashboard.gone", "type": "google_monitoring_dashboard",
          "change": {"actions": ["delete"], "after": None}}]}


def test_planned_dashboards_are_checked_and_unknown_json_is_a_finding() -> None:
    plans = {"terraform/envs/dev": _plan(json.dumps(GOOD), None, "{not json",
                                         json.dumps(_broken(("displayName",), KeyError)))}
    found = monitoring.check_plans(plans)
    by_address = {f.address: f for f in found}
    assert "module.x.google_monitoring_dashboard.d0" not in by_address
    messages = [by_address[f"module.x.google_monitoring_dashboard.d{i}"].message for i in (1, 2, 3)]
    assert "not known when planning" in messages[0]
    assert "not JSON" in messages[1]
    assert "displayName is required" in messages[2]
    assert all(f.root == "terraform/envs/dev" for f in found)
    stage = check_dashboards(Path("."), plans)
    assert len(stage.problems) == 3 and all(p.stage == "dashboards" for p in stage.problems)


# -- the model --------------------------------------------------------------------------------


def test_answers_become_the_platforms_thresholds_and_retraining_names() -> None:
    answers = {**load_example("full"), "slo_latency_p99_ms": 250, "slo_error_rate_percent": 2.5}
    ctx = model.build_context(model.validate_answers(answers))
    for env in ctx["environments"]:
        inputs = env["platform_inputs"]
        assert inputs["serving_slo"] == {"latency_p99_ms": 250, "error_rate": 0.025}
        assert inputs["retraining_topic"] == (
            f"projects/{ctx['cicd_project']['id']}/topics/{env['name']}-retrain")
    minimal = model.build_context(model.validate_answers(load_example("minimal")))
    assert all(e["platform_inputs"]["retraining_topic"] is None for e in minimal["environments"])


# -- offline plans of rendered repos ----------------------------------------------------------

SCENARIOS: dict[str, dict[str, Any]] = {
    "full": {"slo_latency_p99_ms": 250, "slo_error_rate_percent": 2.5},
    "minimal": {},
    "deploy-only": {"features": ["model_deployment"]},
}


def _answers(name: str) -> dict[str, Any]:
    return {**load_example("full" if name == "full" else "minimal"), **SCENARIOS[name]}


def _created(plan: Mapping[str, Any], kind: str) -> Iterator[dict[str, Any]]:
    for rc in plan.get("resource_changes", []):
        if rc["type"] == kind and "create" in rc["change"]["actions"]:
            yield {"address": rc["address"], **(rc["change"]["after"] or {})}


@pytest.fixture(scope="module")
def validated(render_repo: Callable[[Mapping[str, Any]], Path]
              ) -> Callable[[str], tuple[Path, Report]]:
    cache: dict[str, tuple[Path, Report]] = {}

    def run(name: str) -> tuple[Path, Report]:
        if name not in cache:
            repo = render_repo(_answers(name))
            cache[name] = repo, validate_repo(repo, skip=("checkov", "test", "fmt"), jobs=2)
        return cache[name]

    return run


@needs_terraform
@pytest.mark.terraform
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_plans_hold_the_dashboard_and_slo_policies_only_with_an_endpoint(
    validated: Callable[[str], tuple[Path, Report]], name: str
) -> None:
    repo, report = validated(name)
    assert report.ok and report.stages.get("dashboards") == "ok", [
        p.one_line() for p in report.problems][:10]
    answers = _answers(name)
    features = set(answers["features"])
    endpoint = bool(features & {"model_deployment", "model_monitoring"})
    for env in answers["environments"]:
        plan = report.plans[f"terraform/envs/{env}"]
        dashboards = list(_created(plan, "google_monitoring_dashboard"))
        assert len(dashboards) == 1
        body = json.loads(dashboards[0]["dashboard_json"])
        assert monitoring.check_dashboard(body) == []
        titles = [t["widget"]["title"] for t in body["mosaicLayout"]["tiles"]]
        assert all(t in titles for t in PIPELINE_TITLES)
        assert any(t.startswith("Batch prediction volume") for t in titles)
        assert all((t in titles) == endpoint for t in ONLINE_TITLES), titles
        slo = [p for p in _created(plan, "google_monitoring_alert_policy")
               if ".google_monitoring_alert_policy.slo[" in p["address"]]
        assert len(slo) == (2 if endpoint else 0)
        if endpoint:
            config = yaml.safe_load((repo / "config" / f"{env}.yaml").read_text())
            thresholds = sorted(p["conditions"][0]["condition_threshold"][0]["threshold_value"]
                                for p in slo)
            assert thresholds == sorted([config["serving_slo"]["error_rate"],
                                         config["serving_slo"]["latency_p99_ms"]])
            if name == "full":
                assert thresholds == [0.025, 250]
        assert len(list(_created(plan, "google_logging_metric"))) == 1


@needs_terraform
@pytest.mark.terraform
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_retraining_exists_only_with_model_monitoring_and_names_agree(
    validated: Callable[[str], tuple[Path, Report]], name: str
) -> None:
    repo, report = validated(name)
    answers = _answers(name)
    monitoring_on = "model_monitoring" in answers["features"]
    bootstrap = report.plans["terraform/bootstrap"]
    topics = {t["name"] for t in _created(bootstrap, "google_pubsub_topic")
              if "retraining_trigger" in t["address"]}
    triggers = {t["name"]: t for t in _created(bootstrap, "google_cloudbuild_trigger")
                if "retraining_trigger" in t["address"]}
    envs = answers["environments"]
    assert topics == ({f"{e}-retrain" for e in envs} if monitoring_on else set())
    if monitoring_on and triggers:  # the triggers wait for the GitHub App installation
        for env in envs:
            t = triggers[f"{env}-retrain"]
            assert t["git_file_source"][0]["path"] == "cloudbuild/retrain.yaml"
            assert t["filter"] == '_INCIDENT_STATE == "open"'
            assert t["substitutions"]["_ENV"] == env
            assert t["service_account"].endswith(f"/{env}-ci-apply@"
                                                 f"{t['project']}.iam.gserviceaccount.com")
    for env in envs:
        plan = report.plans[f"terraform/envs/{env}"]
        config = yaml.safe_load((repo / "config" / f"{env}.yaml").read_text())
        channels = {c["type"]: c for c in _created(plan, "google_monitoring_notification_channel")}
        assert config["retraining"]["enabled"] is monitoring_on
        assert channels["email"]["display_name"] == config["retraining"][
            "notification_channels"]["alerts"]
        if not monitoring_on:
            assert "pubsub" not in channels and config["retraining"]["topic"] is None
            continue
        pubsub = channels["pubsub"]
        assert pubsub["labels"]["topic"] == config["retraining"]["topic"]
        assert pubsub["display_name"] == config["retraining"]["notification_channels"][
            "retraining"]
        grants = [g for g in _created(plan, "google_pubsub_topic_iam_member")
                  if "retraining_channel" in g["address"]]
        assert [(g["topic"], g["role"]) for g in grants] == [
            (config["retraining"]["topic"], "roles/pubsub.publisher")]


def test_dashboard_json_in_plans_is_found_by_type_and_action() -> None:
    plan = _plan(json.dumps(GOOD))
    assert [a for a, _ in dash.dashboards_in_plan(plan)] == [
        "module.x.google_monitoring_dashboard.d0"]
