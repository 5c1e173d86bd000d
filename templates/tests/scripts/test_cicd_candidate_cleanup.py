"""scripts/candidate_cleanup.py through scripts/rollback.py against the local fake, extended
with what a candidate run creates besides pipeline jobs and models: its monitoring job, batch
predictions and their BigQuery tables, AutoML training pipelines, Vertex AI datasets, and the
endpoint the previous champion must be deployed to again. A second run changes nothing."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import candidate_cleanup
import pytest
import rollback
from cicd_fakeapi import FakeApi, NotFound

SHA = "c" * 40
OLD = "a" * 40
PARENT = "projects/acme-dev-1a2b/locations/us-central1"
MODEL = f"{PARENT}/models/42"
ENDPOINT = f"{PARENT}/endpoints/7"
COLLECTIONS = ("modelDeploymentMonitoringJobs", "batchPredictionJobs", "trainingPipelines",
               "datasets")
CONFIG = """\
environment: dev
project_id: acme-dev-1a2b
region: us-central1
buckets:
  pipeline_root: acme-dev-1a2b-pipeline-root
pipeline_root_prefixes:
  runs: runs/
service_accounts:
  pipeline: pipeline@acme-dev-1a2b.iam.gserviceaccount.com
"""


@dataclasses.dataclass
class LifecycleFake(FakeApi):
    """FakeApi plus the collections the candidate cleanup lists, deployModel and BigQuery."""

    resources: dict[str, dict[str, dict[str, Any]]] = dataclasses.field(
        default_factory=lambda: {c: {} for c in COLLECTIONS})
    tables: set[str] = dataclasses.field(default_factory=set)  # project.dataset.table

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        m = re.fullmatch(r"/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)", path)
        if m and method == "DELETE":
            name = ".".join(m.groups())
            if name not in self.tables:
                raise NotFound
            self.tables.remove(name)
            return 204, None
        return super().route(method, path, query, body)

    def vertex(self, method: str, path: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        for collection, items in self.resources.items():
            if path.endswith(f"/{collection}") and method == "GET":
                return 200, {collection: [i for i in items.values()
                                          if self._label_match(i, q.get("filter", ""))]}
            if f"/{collection}/" in path:
                name = path.removesuffix(":cancel")
                if name not in items:
                    raise NotFound
                if path.endswith(":cancel"):
                    items[name]["state"] = "JOB_STATE_CANCELLED"
                    return 200, {}
                if method == "DELETE":
                    del items[name]
                    return 200, {"name": "operation", "done": True}
                return 200, items[name]
        if path.endswith(":deployModel"):
            return self._deploy(path.removesuffix(":deployModel"), body)
        if path.endswith(":mergeVersionAliases"):
            model, version = path.removesuffix(":mergeVersionAliases").split("@")
            add = [a for a in body["versionAliases"] if not a.startswith("-")]
            drop = {a[1:] for a in body["versionAliases"] if a.startswith("-")}
            for v in self.models[model]:
                kept = [a for a in v.get("versionAliases", []) if a not in add]
                v["versionAliases"] = kept + add if v["versionId"] == version else kept
                if v["versionId"] == version:
                    v["versionAliases"] = [a for a in v["versionAliases"] if a not in drop]
            return 200, {}
        return super().vertex(method, path, q, body)

    def _deploy(self, endpoint: str, body: dict[str, Any]) -> tuple[int, Any]:
        ep = self.endpoints[endpoint]
        new_id = f"d{self._id() + 100}"
        ep["deployedModels"].append({"id": new_id})
        ep["trafficSplit"] = {d["id"]: 0 for d in ep["deployedModels"]} | {new_id: 100}
        model, version = body["deployedModel"]["model"].split("@")
        for v in self.models[model]:
            if v["versionId"] == version:
                v.setdefault("deployedModels", []).append(
                    {"endpoint": endpoint, "deployedModelId": new_id})
        return 200, {"name": f"{endpoint}/operations/1", "done": True}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[LifecycleFake]:
    api = LifecycleFake()
    api.start()
    for var in ("GITHUB_API_URL", "STORAGE_API_URL", "VERTEX_API_URL", "BIGQUERY_API_URL"):
        monkeypatch.setenv(var, api.url)
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    monkeypatch.setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "test-gcp-token")
    try:
        yield api
    finally:
        api.stop()


def _world(api: LifecycleFake) -> None:
    """The candidate SHA passed the gate and was deployed: it is the champion, the champion
    before it (OLD) was undeployed and aliased previous-champion."""
    api.models = {MODEL: [
        {"versionId": "1", "versionAliases": [], "labels": {"commit": "e" * 40},
         "versionCreateTime": "2026-01-01T00:00:00Z"},
        {"versionId": "2", "versionAliases": ["previous-champion"], "labels": {"commit": OLD},
         "versionCreateTime": "2026-02-01T00:00:00Z"},
        {"versionId": "3", "versionAliases": ["default", "champion", "candidate"],
         "labels": {"commit": SHA}, "versionCreateTime": "2026-03-01T00:00:00Z",
         "deployedModels": [{"endpoint": ENDPOINT, "deployedModelId": "d3"}]},
    ]}
    api.endpoints = {ENDPOINT: {"name": ENDPOINT, "deployedModels": [{"id": "d3"}],
                                "trafficSplit": {"d3": 100}}}
    r = api.resources

    def add(collection: str, name: str, commit: str, **extra: Any) -> None:
        full = f"{PARENT}/{collection}/{name}"
        r[collection][full] = {"name": full, "labels": {"commit": commit}, **extra}

    add("modelDeploymentMonitoringJobs", "m1", SHA)
    for job, commit, table in (("b-new", SHA, "predictions_2026_03"),
                               ("b-backtest", SHA, "predictions_2026_03_bt"),
                               ("b-old", OLD, "predictions_2026_02")):
        add("batchPredictionJobs", job, commit, state="JOB_STATE_SUCCEEDED", outputInfo={
            "bigqueryOutputDataset": "bq://acme-dev-1a2b.predictions",
            "bigqueryOutputTable": table})
        api.tables.add(f"acme-dev-1a2b.predictions.{table}")
    add("trainingPipelines", "t-new", SHA, state="PIPELINE_STATE_SUCCEEDED")
    add("trainingPipelines", "t-old", OLD, state="PIPELINE_STATE_SUCCEEDED")
    add("datasets", "ds-new", SHA)
    add("datasets", "ds-old", OLD)
    api.refs = {"dev": "devhead", "staging": "staginghead"}
    api.commits = {"devhead": {"tree": "t"}, "staginghead": {"tree": "t"}}
    api.trees = {"t": []}
    api.compare["staging...dev"] = {"ahead_by": 0, "base_commit": {"sha": "staginghead"},
                                    "files": []}


def _run(config_dir: Path) -> int:
    return rollback.main(["--env", "dev", "--commit", SHA, "--repo", "acme/acme-mlops",
                          "--source-branch", "dev", "--target-branch", "staging",
                          "--config-dir", str(config_dir), "--wait-seconds", "0"])


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    (tmp_path / "dev.yaml").write_text(CONFIG)
    return tmp_path


def test_pure_helpers() -> None:
    versions = [{"versionId": "1", "versionCreateTime": "1"},
                {"versionId": "2", "versionCreateTime": "2", "versionAliases": [
                    "previous-champion"]},
                {"versionId": "3", "versionCreateTime": "3"}]
    assert candidate_cleanup.restore_target(versions, {"3"})["versionId"] == "2"
    assert candidate_cleanup.restore_target(versions[:1] + versions[2:], {"3"})[
        "versionId"] == "1"
    assert candidate_cleanup.restore_target(versions[2:], {"3"}) is None
    assert candidate_cleanup.output_table({"outputInfo": {
        "bigqueryOutputDataset": "bq://p.d", "bigqueryOutputTable": "t"}}) == ("p", "d", "t")
    assert candidate_cleanup.output_table({"outputInfo": {"gcsOutputDirectory": "gs://x"}}) \
        is None
    body = candidate_cleanup.deploy_request(f"{MODEL}@2", "sa@x")
    assert body["trafficSplit"] == {"0": 100}
    assert body["deployedModel"]["serviceAccount"] == "sa@x"


def test_a_rejected_champion_is_replaced_by_the_previous_one_and_removed(
        fake: LifecycleFake, config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _world(fake)
    assert _run(config_dir) == 0
    report = json.loads(capsys.readouterr().out)
    # the previous champion has the aliases back and serves all traffic
    versions = {v["versionId"]: v for v in fake.models[MODEL]}
    assert sorted(versions) == ["1", "2"]
    assert sorted(versions["2"]["versionAliases"]) == ["champion", "default"]
    ep = fake.endpoints[ENDPOINT]
    assert [d["id"] for d in ep["deployedModels"]] == [versions["2"]["deployedModels"][0][
        "deployedModelId"]]
    assert list(ep["trafficSplit"].values()) == [100]
    deploys = [c for c in fake.calls if c.path.endswith(":deployModel")]
    undeploys = [c for c in fake.calls if c.path.endswith(":undeployModel")]
    assert len(deploys) == 1 and len(undeploys) == 1
    assert fake.calls.index(deploys[0]) < fake.calls.index(undeploys[0])
    assert report["cleaned"]["champion_restored"] == f"{MODEL}@2"
    # everything else labelled with the candidate's commit is gone, the rest stays
    r = fake.resources
    assert not r["modelDeploymentMonitoringJobs"]
    assert [j.rsplit("/", 1)[1] for j in r["batchPredictionJobs"]] == ["b-old"]
    assert fake.tables == {"acme-dev-1a2b.predictions.predictions_2026_02"}
    assert [j.rsplit("/", 1)[1] for j in r["trainingPipelines"]] == ["t-old"]
    assert [j.rsplit("/", 1)[1] for j in r["datasets"]] == ["ds-old"]
    assert sorted(report["cleaned"]["tables_deleted"]) == [
        "acme-dev-1a2b.predictions.predictions_2026_03",
        "acme-dev-1a2b.predictions.predictions_2026_03_bt"]


def test_cleanup_is_safe_to_run_twice(fake: LifecycleFake, config_dir: Path) -> None:
    _world(fake)
    assert _run(config_dir) == 0
    writes = len(fake.writes())
    state = json.dumps([fake.models, fake.endpoints, fake.resources, sorted(fake.tables)],
                       sort_keys=True)
    assert _run(config_dir) == 0
    assert len(fake.writes()) == writes, [c.path for c in fake.writes()[writes:]]
    assert json.dumps([fake.models, fake.endpoints, fake.resources, sorted(fake.tables)],
                      sort_keys=True) == state


def test_a_candidate_that_never_served_leaves_the_champion_alone(fake: LifecycleFake,
                                                                 config_dir: Path) -> None:
    _world(fake)
    # the gate rejected it: it is only `candidate`, the champion (2) still serves
    versions = fake.models[MODEL]
    versions[1]["versionAliases"] = ["default", "champion"]
    versions[1]["deployedModels"] = [{"endpoint": ENDPOINT, "deployedModelId": "d2"}]
    versions[2].update(versionAliases=["candidate"], deployedModels=[])
    fake.endpoints[ENDPOINT] = {"name": ENDPOINT, "deployedModels": [{"id": "d2"}],
                                "trafficSplit": {"d2": 100}}
    assert _run(config_dir) == 0
    assert not any(c.path.endswith((":deployModel", ":undeployModel")) for c in fake.calls)
    assert [v["versionId"] for v in fake.models[MODEL]] == ["1", "2"]
    assert fake.endpoints[ENDPOINT]["trafficSplit"] == {"d2": 100}
