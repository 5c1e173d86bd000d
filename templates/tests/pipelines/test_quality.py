"""The data quality gate: the rules built from config/<env>.yaml (pipelines/quality.py), the
verdict on a scan job, and the gate component run locally (kfp.local, SubprocessRunner) against
a fake Dataplex API that returns synthetic scan results: a failing scan stops the run before
anything trains, naming the failed rules."""

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import compiler, dsl, local

from pipelines import components, config, quality, sql
from pipelines.pipeline import build

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataplex_fakeapi import FakeDataplex


def _section(cfg: config.EnvConfig) -> dict[str, Any]:
    raw = yaml.safe_load(config.config_path(cfg.environment).read_text(encoding="utf-8"))
    return dict(raw["quality"])


# --- rule building ------------------------------------------------------------------------


def test_every_environment_scans_the_pipelines_source_table(env_configs):
    for name, cfg in env_configs.items():
        q = cfg.quality
        assert q.table == sql.SOURCE_TABLE, name
        assert q.scan_id == f"{name}-training-data-quality"
        assert set(q.not_null) | set(q.ranges) <= set(quality.SOURCE_COLUMNS)
        assert quality.scan_name(cfg.project_id, cfg.region, q.scan_id) == (
            f"projects/{cfg.project_id}/locations/{cfg.region}/dataScans/{q.scan_id}")


def test_rules_from_the_rendered_config(first_config):
    rules = quality.rules(first_config.quality)
    by_name = {r["name"]: r for r in rules}
    assert len(by_name) == len(rules), "rule names are unique"
    assert rules[0] == {
        "name": "row-count", "dimension": "VOLUME",
        "description": f"At least {first_config.quality.min_rows} rows.",
        "tableConditionExpectation": {
            "sqlExpression": f"COUNT(*) >= {first_config.quality.min_rows}"},
    }
    assert by_name["not-null-units-sold"]["column"] == "units_sold"
    assert by_name["not-null-units-sold"]["nonNullExpectation"] == {}
    assert by_name["range-price"]["rangeExpectation"] == {"minValue": "0"}
    assert by_name["range-price"]["ignoreNull"] is True
    for rule in rules:
        assert all(ch.isalnum() or ch == "-" for ch in rule["name"]) and len(rule["name"]) <= 63


def test_rules_follow_the_section(first_config):
    section = {**_section(first_config), "min_rows": 5,
               "not_null": {"item_id": 0.5},
               "ranges": {"units_sold": {"min": 0.5, "max": 100, "threshold": 0.9}}}
    rules = quality.rules(quality.parse(section))
    assert [r["name"] for r in rules] == ["row-count", "not-null-item-id", "range-units-sold"]
    assert rules[0]["tableConditionExpectation"]["sqlExpression"] == "COUNT(*) >= 5"
    assert rules[1]["threshold"] == 0.5
    assert rules[2]["rangeExpectation"] == {"minValue": "0.5", "maxValue": "100"}
    assert rules[2]["threshold"] == 0.9
    assert rules[2]["description"] == "Non-null units_sold in [0.5, 100]: passes at a share of " \
                                      "0.9 or more."


@pytest.mark.parametrize(("change", "message"), [
    ({"scan_id": "Bad_Id"}, "scan_id"),
    ({"table": "sales; DROP"}, "table"),
    ({"min_rows": 0}, "min_rows"),
    ({"min_rows": True}, "min_rows"),
    ({"not_null": {"colour": 1}}, "not a column of the source table"),
    ({"not_null": {"price": 1.5}}, "share of rows"),
    ({"not_null": {"price": 0}}, "share of rows"),
    ({"ranges": {"price": {"min": 5, "max": 1}}}, "above max"),
    ({"ranges": {"price": {}}}, "needs min, max or both"),
    ({"ranges": {"price": {"low": 1}}}, "min, max, threshold"),
    ({"ranges": {"price": {"min": "0"}}}, "must be a number"),
])
def test_a_bad_section_names_its_key(first_config, change, message):
    with pytest.raises(quality.QualityError, match=message):
        quality.parse({**_section(first_config), **change})


def test_config_load_reports_a_bad_quality_section_as_a_config_error(first_config):
    raw = yaml.safe_load(config.config_path(first_config.environment).read_text())
    raw["quality"]["not_null"] = {"colour": 1}
    with pytest.raises(config.ConfigError, match=r"quality\.not_null"):
        config.parse(raw)


# --- the verdict --------------------------------------------------------------------------


def _job(rules: list[dict[str, Any]], failing: dict[str, dict[str, Any]] | None = None,
         state: str = "SUCCEEDED") -> dict[str, Any]:
    """A finished DataScanJob (view FULL) with a synthetic result for each rule."""
    failing = failing or {}
    results = []
    for rule in rules:
        result: dict[str, Any] = {"rule": rule, "passed": True}
        if "column" in rule:
            result.update(evaluatedCount="5000", passedCount="5000", nullCount="0", passRatio=1)
        result.update(failing.get(rule["name"], {}))
        results.append(result)
    passed = all(r["passed"] for r in results)
    return {"name": "projects/p/locations/r/dataScans/s/jobs/j1", "state": state,
            "dataQualityResult": {"passed": passed, "score": 100.0 if passed else 80.0,
                                  "rowCount": "5000", "rules": results}}


FAILING = {
    "not-null-units-sold": {"passed": False, "evaluatedCount": "5000", "passedCount": "4500",
                            "nullCount": "500", "passRatio": 0.9,
                            "failingRowsQuery": "SELECT * FROM t WHERE units_sold IS NULL"},
    "row-count": {"passed": False},
}


def test_a_passing_scan_passes(first_config):
    rules = quality.rules(first_config.quality)
    assert quality.evaluate(_job(rules), rules) == []


def test_failed_rules_are_named_with_their_counts(first_config):
    rules = quality.rules(first_config.quality)
    reasons = quality.evaluate(_job(rules, FAILING), rules)
    assert len(reasons) == 2
    not_null = next(r for r in reasons if r.startswith("not-null-units-sold"))
    assert "4500 of 5000 rows passed (90.00%), 500 null; needs 99.00%" in not_null
    assert "failing rows: SELECT * FROM t WHERE units_sold IS NULL" in not_null
    row_count = next(r for r in reasons if r.startswith("row-count"))
    assert f"COUNT(*) >= {first_config.quality.min_rows} is false" in row_count


def test_a_scan_not_applied_from_this_config_fails(first_config):
    rules = quality.rules(first_config.quality)
    looser = [dict(r, threshold=0.5) if r["name"] == "not-null-units-sold" else r
              for r in rules[:-1]]
    reasons = quality.evaluate(_job(looser), rules)
    assert len(reasons) == 1
    assert f"missing ['{rules[-1]['name']}']" in reasons[0]
    assert "other thresholds ['not-null-units-sold']" in reasons[0]
    assert "apply the environment's Terraform" in reasons[0]


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_a_job_that_did_not_succeed_fails(first_config, state):
    rules = quality.rules(first_config.quality)
    job = {**_job(rules), "state": state, "message": "quota exceeded"}
    assert quality.evaluate(job, rules) == [
        f"scan job {job['name']} ended {state}: quota exceeded"]


def test_a_result_not_passed_without_failed_rules_still_fails(first_config):
    rules = quality.rules(first_config.quality)
    job = _job(rules)
    job["dataQualityResult"]["passed"] = False
    assert quality.evaluate(job, rules) == [
        "the scan's result is not passed (no rule reports why)"]


# --- the gate component, run locally against a fake Dataplex ---------------------------


@pytest.fixture
def gate(first_config, tmp_path, monkeypatch):
    """(fake Dataplex, the gate's inputs): kfp.local runs components in subprocesses of this
    interpreter, which inherit the fake's address and a token from the environment."""
    inputs = {**quality.gate_inputs(first_config.project_id, first_config.region,
                                    first_config.quality), "poll_seconds": 0.05}
    rules = quality.rules(first_config.quality)
    fake = FakeDataplex(scan=inputs["scan"], outcome=_job(rules), polls_running=2)
    fake.start()
    monkeypatch.setenv("DATAPLEX_API_URL", fake.url)
    monkeypatch.setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "test-token")
    local.init(runner=local.SubprocessRunner(use_venv=False),
               pipeline_root=str(tmp_path / "pipeline-root"))
    try:
        yield fake, inputs, rules
    finally:
        fake.stop()


def test_the_gate_runs_the_scan_and_passes_a_clean_result(gate):
    fake, inputs, _ = gate
    task = components.data_quality_gate(**inputs)
    assert task.outputs["Output"] == f"{inputs['scan']}/jobs/job-1"
    assert task.outputs["result"].metadata == {"score": 100.0, "rows": 5000.0,
                                               "failed_checks": 0.0}
    methods = [(m, p.split("?")[0]) for m, p, _ in fake.calls]
    assert methods[0] == ("POST", f"/v1/{inputs['scan']}:run")
    assert all(m == "GET" for m, _ in methods[1:]) and len(methods) == 1 + 3  # 2 running, 1 done
    assert all(auth == "Bearer test-token" for _, _, auth in fake.calls)
    assert all("view=FULL" in p for m, p, _ in fake.calls if m == "GET")


def test_a_failed_scan_fails_the_gate_naming_the_rules(gate, capsys):
    fake, inputs, rules = gate
    fake.outcome = _job(rules, FAILING)
    with pytest.raises(RuntimeError, match="FAILURE"):
        components.data_quality_gate(**inputs)
    out = capsys.readouterr().out
    assert "data quality gate failed" in out
    assert "not-null-units-sold (COMPLETENESS, column units_sold): 4500 of 5000 rows" in out
    assert "row-count (VOLUME): COUNT(*) >=" in out


@dsl.component(base_image=components.BASE_IMAGE)
def _trained(marker: str) -> None:
    """Stands for training: leaves a file behind when it runs."""
    from pathlib import Path

    Path(marker).write_text("trained", encoding="utf-8")


@pytest.mark.parametrize("failing", [False, True])
def test_a_failing_scan_stops_the_run_before_training(gate, tmp_path, failing):
    fake, inputs, rules = gate
    if failing:
        fake.outcome = _job(rules, FAILING)
    marker = tmp_path / "trained.txt"

    @dsl.pipeline(name="gated")
    def gated() -> None:
        checked = components.data_quality_gate(**inputs)
        _trained(marker=str(marker)).after(checked)

    if failing:
        with pytest.raises(RuntimeError, match="data-quality-gate"):
            gated()
    else:
        gated()
    assert marker.exists() is not failing


def _dependents(spec: dict[str, Any], name: str) -> dict[str, list[str]]:
    """task -> the tasks it waits for, in the component that holds task `name`."""
    for component in [spec["root"], *spec["components"].values()]:
        tasks = (component.get("dag") or {}).get("tasks") or {}
        if name in tasks:
            return {t: list(v.get("dependentTasks") or []) for t, v in tasks.items()}
    raise AssertionError(f"no task {name}")


@pytest.mark.parametrize("automl", [True, False])
def test_the_compiled_pipeline_extracts_and_trains_only_after_the_gate(first_config, tmp_path,
                                                                       automl):
    features = dataclasses.replace(first_config.features, automl=automl)
    cfg = dataclasses.replace(first_config, features=features)
    out = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(build(cfg, image_tag="test"), str(out))
    spec = yaml.safe_load(out.read_text(encoding="utf-8"))
    tasks = _dependents(spec, "data-quality-gate")
    assert "data-quality-gate" in tasks["prepare-training-data"]
    assert tasks["data-quality-gate"] == []
    task = next(c for c in spec["components"].values()
                if "data-quality-gate" in ((c.get("dag") or {}).get("tasks") or {}))
    params = task["dag"]["tasks"]["data-quality-gate"]["inputs"]["parameters"]
    expected = quality.gate_inputs(cfg.project_id, cfg.region, cfg.quality)
    assert params["scan"]["runtimeValue"]["constant"] == expected["scan"]
    assert params["expected_rules"]["runtimeValue"]["constant"] == expected["expected_rules"]
