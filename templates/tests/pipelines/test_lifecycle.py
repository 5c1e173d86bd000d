"""The champion/challenger gate and the retirement plan: pure logic through `python_func`,
then the lightweight components themselves under kfp.local (SubprocessRunner) on synthetic
data: the trainer scores a new model and an earlier champion on the same holdout, the gate
decides, the plan names what to undeploy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kfp import dsl

from pipelines import lifecycle
from pipelines.trainer import model, task

MODEL = "projects/p/locations/europe-west4/models/42"
GATE = {"metric": "rmse", "min_improvement": 0.02, "min_r_squared": 0.5, "max_mape": 0.5}


def _gate(candidate: dict[str, float], champion: dict[str, float] | None,
          tmp_path: Path, **rule: Any) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    metrics = dsl.Metrics(name="metrics", uri=str(tmp_path / "m"), metadata={})
    record = dsl.Artifact(name="gate", uri=str(tmp_path / "g"), metadata={})
    record.path = str(tmp_path / "gate.json")  # type: ignore[misc]
    verdict, reasons = lifecycle.champion_gate.python_func(
        candidate_metrics_json=json.dumps(candidate),
        champion_metrics_json=json.dumps(champion or {}),
        champion=f"{MODEL}@1" if champion is not None else "",
        metrics=metrics, gate=record, **{**GATE, **rule})
    assert json.loads((tmp_path / "gate.json").read_text()) == record.metadata
    return verdict, reasons, metrics.metadata, record.metadata


GOOD = {"rmse": 2.0, "mae": 1.5, "mape": 0.2, "r_squared": 0.8}


def test_first_model_passes_on_the_absolute_bar_alone(tmp_path: Path) -> None:
    verdict, reasons, logged, record = _gate(GOOD, None, tmp_path)
    assert (verdict, reasons) == ("pass", "first model: clears the absolute bar")
    assert record["champion"] is None and record["champion_metrics"] == {}
    assert logged["gate_passed"] == 1.0 and logged["candidate_rmse"] == 2.0
    assert "gate_improvement" not in logged


@pytest.mark.parametrize(("change", "why"), [({"r_squared": 0.4}, "r_squared 0.4 is below"),
                                             ({"mape": 0.6}, "mape 0.6 is above")])
def test_first_model_below_the_bar_fails(tmp_path: Path, change: dict[str, float],
                                         why: str) -> None:
    verdict, reasons, logged, _ = _gate({**GOOD, **change}, None, tmp_path)
    assert verdict == "fail" and why in reasons and logged["gate_passed"] == 0.0


def test_challenger_must_beat_the_champion_by_the_margin(tmp_path: Path) -> None:
    champion = {**GOOD, "rmse": 2.1}
    # 4.8 % better than the champion's rmse: passes a 2 % margin
    verdict, reasons, logged, record = _gate(GOOD, champion, tmp_path)
    assert verdict == "pass" and "beats champion" in reasons
    assert record["improvement"] == pytest.approx(0.1 / 2.1)
    assert logged["champion_rmse"] == 2.1 and logged["candidate_rmse"] == 2.0
    # ... but not a 10 % margin
    verdict, reasons, _, _ = _gate(GOOD, champion, tmp_path, min_improvement=0.1)
    assert verdict == "fail" and "below the required 10.00%" in reasons
    # a worse challenger loses, however good on its own
    verdict, reasons, _, _ = _gate({**GOOD, "rmse": 2.5}, champion, tmp_path)
    assert verdict == "fail" and "rmse 2.5 vs champion 2.1" in reasons


def test_higher_is_better_for_r_squared(tmp_path: Path) -> None:
    champion = {**GOOD, "r_squared": 0.7}
    assert _gate(GOOD, champion, tmp_path, metric="r_squared")[0] == "pass"
    assert _gate({**GOOD, "r_squared": 0.6}, champion, tmp_path, metric="r_squared")[0] == "fail"


def test_a_champion_that_was_not_scored_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not scored on the holdout"):
        _gate(GOOD, {}, tmp_path)
    with pytest.raises(ValueError, match="candidate metrics lack"):
        _gate({"rmse": 1.0}, None, tmp_path)


def _state(split: dict[str, int], *versions: tuple[str, str]) -> str:
    return json.dumps({"name": "projects/p/locations/l/endpoints/7",
                       "deployedModels": [{"id": i, "model": MODEL, "modelVersionId": v}
                                          for i, v in versions],
                       "trafficSplit": split})


def test_retirement_undeploys_every_earlier_model_once_the_new_one_has_all_traffic() -> None:
    plan = json.loads(lifecycle.plan_retirement.python_func(
        state_json=_state({"d3": 100, "d1": 0, "d2": 0}, ("d1", "1"), ("d2", "2"), ("d3", "3")),
        model=f"{MODEL}@3"))
    assert plan == {"keep": "d3", "undeploy": ["d1", "d2"], "traffic": {"d3": 100}}
    # nothing else deployed: nothing to undeploy
    plan = json.loads(lifecycle.plan_retirement.python_func(
        state_json=_state({"d3": 100}, ("d3", "3")), model=f"{MODEL}@3"))
    assert plan["undeploy"] == []


@pytest.mark.parametrize(("state", "why"), [
    (_state({"d3": 50, "d1": 50}, ("d1", "1"), ("d3", "3")), "not all to the new"),
    (_state({"d1": 100}, ("d1", "1")), "found 0"),
    (_state({"d3": 100, "d4": 0}, ("d3", "3"), ("d4", "3")), "found 2"),
])
def test_retirement_refuses_an_unexpected_endpoint(state: str, why: str) -> None:
    with pytest.raises(RuntimeError, match=why):
        lifecycle.plan_retirement.python_func(state_json=state, model=f"{MODEL}@3")


@pytest.fixture(scope="module")
def local_runner(tmp_path_factory: pytest.TempPathFactory) -> None:
    import kfp.local

    root = tmp_path_factory.mktemp("kfp-local")
    kfp.local.init(runner=kfp.local.SubprocessRunner(use_venv=False), pipeline_root=str(root))


def _scores(tmp_path: Path, champion_seed: int, n_estimators: int) -> tuple[str, str]:
    """The trainer's candidate and champion metrics on one holdout of synthetic sales."""
    champion = tmp_path / f"champion-{champion_seed}-{n_estimators}"
    task.train_and_write(
        model.synthetic_sales(n_items=3, n_days=70, seed=champion_seed),
        model.TrainParams(n_estimators=n_estimators, max_depth=2), model_dir=str(champion),
        model_uri="gs://b/c", model_uri_output=str(tmp_path / "u0"),
        metrics_output=str(tmp_path / "m0"))
    task.train_and_write(
        model.synthetic_sales(n_items=3, n_days=90, seed=7), model.TrainParams(n_estimators=40),
        model_dir=str(tmp_path / "new"), model_uri="gs://b/n",
        model_uri_output=str(tmp_path / "u1"), metrics_output=str(tmp_path / "new.json"),
        champion_uri=str(champion), champion_metrics_output=str(tmp_path / "champion.json"))
    return (tmp_path / "new.json").read_text(), (tmp_path / "champion.json").read_text()


def test_gate_component_runs_locally_on_synthetic_scores(local_runner: None,
                                                         tmp_path: Path) -> None:
    candidate, champion = _scores(tmp_path, champion_seed=1, n_estimators=1)
    # a one-tree champion loses to the new model on the same holdout
    run = lifecycle.champion_gate(candidate_metrics_json=candidate,
                                  champion_metrics_json=champion, champion=f"{MODEL}@1", **GATE)
    assert run.outputs["verdict"] == "pass", run.outputs["reasons"]
    record = json.loads(Path(run.outputs["gate"].path).read_text())
    assert record["candidate_metrics"]["test_rows"] == record["champion_metrics"]["test_rows"]
    assert run.outputs["metrics"].metadata["gate_passed"] == 1.0
    # the same champion against a demand for a 1000 % improvement: rejected, and says why
    run = lifecycle.champion_gate(candidate_metrics_json=candidate,
                                  champion_metrics_json=champion, champion=f"{MODEL}@1",
                                  **{**GATE, "min_improvement": 1.0})
    assert run.outputs["verdict"] == "fail" and "below the required" in run.outputs["reasons"]


def test_retirement_plan_component_runs_locally(local_runner: None) -> None:
    run = lifecycle.plan_retirement(
        state_json=_state({"d2": 100, "d1": 0}, ("d1", "1"), ("d2", "2")), model=f"{MODEL}@2")
    assert json.loads(run.output) == {"keep": "d2", "undeploy": ["d1"], "traffic": {"d2": 100}}


def test_the_decisions_are_pure_functions_of_their_inputs() -> None:
    record = lifecycle.gate_decision(GOOD, {**GOOD, "rmse": 2.1}, f"{MODEL}@1", **GATE)
    assert record["verdict"] == "pass" and record["champion"] == f"{MODEL}@1"
    assert record == lifecycle.gate_decision(GOOD, {**GOOD, "rmse": 2.1}, f"{MODEL}@1", **GATE)
    plan = lifecycle.retirement_plan(json.loads(_state({"d2": 100, "d1": 0}, ("d1", "1"),
                                                       ("d2", "2"))), f"{MODEL}@2")
    assert plan == {"keep": "d2", "undeploy": ["d1"], "traffic": {"d2": 100}}


class _Registry:
    """The two ModelRegistry calls move_champion makes, recorded."""

    def __init__(self, aliases: dict[str, list[str]]) -> None:
        self.aliases = aliases

    def list_versions(self) -> list[Any]:
        from types import SimpleNamespace

        return [SimpleNamespace(version_id=v, version_aliases=a) for v, a in self.aliases.items()]

    def add_version_aliases(self, new_aliases: list[str], version: str) -> None:
        for aliases in self.aliases.values():
            aliases[:] = [a for a in aliases if a not in new_aliases]
        self.aliases[version] += new_aliases


def test_moving_the_champion_marks_the_previous_one() -> None:
    registry = _Registry({"1": [], "2": ["default", "champion"], "3": ["candidate"]})
    assert lifecycle.move_champion(registry, "3") == "2"
    assert registry.aliases == {"1": [], "2": ["previous-champion"],
                                "3": ["candidate", "champion", "default"]}
    first = _Registry({"1": ["default", "candidate"]})
    assert lifecycle.move_champion(first, "1") is None
    assert first.aliases["1"] == ["candidate", "champion", "default"]


RUN = {"commit": "abc", "run-id": "inventory-forecast-dev-abc-2", "environment": "dev",
       "pipeline": "inventory-forecast"}


def _versions(*runs: str) -> list[tuple[str, dict[str, str]]]:
    """Versions 1..n of MODEL, version i trained by run runs[i-1] (AutoML may add labels)."""
    return [(str(i), {**RUN, "run-id": run, "automl": "x"}) for i, run in enumerate(runs, 1)]


def test_the_automl_version_is_the_one_the_run_labelled() -> None:
    # AutoML's artifact names the model without a version; the champion is version 1
    versions = _versions("inventory-forecast-dev-abc-1", RUN["run-id"],
                         "inventory-forecast-dev-abc-3")
    assert lifecycle.trained_version(MODEL, versions, RUN) == f"{MODEL}@2"
    # a versioned name is re-resolved, not trusted
    assert lifecycle.trained_version(f"{MODEL}@1", versions, RUN) == f"{MODEL}@2"
    # the first run: a new model, version 1
    assert lifecycle.trained_version(MODEL, _versions(RUN["run-id"]), RUN) == f"{MODEL}@1"


@pytest.mark.parametrize(("versions", "labels", "why"), [
    (_versions("inventory-forecast-dev-abc-1"), RUN, "found none"),
    (_versions(RUN["run-id"], RUN["run-id"]), RUN, r"found \['1', '2'\]"),
    (_versions(RUN["run-id"]), {**RUN, "commit": "other"}, "found none"),
    (_versions(RUN["run-id"]), {"commit": "abc"}, "no run-id"),
])
def test_no_guess_when_the_run_version_is_not_unique(versions: list[tuple[str, dict[str, str]]],
                                                     labels: dict[str, str], why: str) -> None:
    with pytest.raises(RuntimeError, match=why):
        lifecycle.trained_version(MODEL, versions, labels)


def test_resolve_component_lists_the_versions_of_the_trained_model(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from google.cloud import aiplatform

    asked: list[Any] = []

    class Registry:
        def __init__(self, model: str, project: str, location: str) -> None:
            asked.append((model, project, location))
            self.model_resource_name = model
            self.client = self

        def list_model_versions(self, request: dict[str, str]) -> list[Any]:
            asked.append(request)
            return [SimpleNamespace(version_id=v, labels=labels)
                    for v, labels in _versions("inventory-forecast-dev-abc-1", RUN["run-id"])]

    monkeypatch.setattr(aiplatform.models, "ModelRegistry", Registry)
    trained = dsl.Artifact(name="model", uri=f"https://europe-west4-aiplatform.googleapis.com/"
                           f"v1/{MODEL}", metadata={"resourceName": MODEL})
    name, uri = lifecycle.resolve_trained_version.python_func(
        project="p", location="europe-west4", model=trained, labels=RUN)
    assert (name, uri) == (f"{MODEL}@2",
                           f"https://europe-west4-aiplatform.googleapis.com/v1/{MODEL}@2")
    assert asked == [(MODEL, "p", "europe-west4"), {"name": MODEL}]
