"""What the rendered Terraform would create, read from real `terraform plan` JSON (offline
stand-in providers): protection, public access, CMEK and features, per environment."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.plan import PlanRequest, run_plan

from .conftest import load_example

pytestmark = pytest.mark.terraform

CASES = {
    "full": {},
    "minimal": {},
    "single-cmek": {"project_layout": "single_project", "features": ["cmek", "workbench"]},
    "per-env-plain": {"features": [], "environments": ["dev", "prod"],
                      "project_layout": "per_environment",
                      "adopt_project_ids": {"prod": "contoso-existing-prod"}},
}


def _resources(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Planned resources as {address, type, values}; values unknown until apply are True."""
    for change in plan.get("resource_changes", []):
        if change["mode"] != "managed" or "create" not in change["change"]["actions"]:
            continue
        values = dict(change["change"]["after"] or {})
        for key, unknown in (change["change"].get("after_unknown") or {}).items():
            if unknown is True or (unknown and not values.get(key)):
                values[key] = True
        yield {"address": change["address"], "type": change["type"], "values": values}


@pytest.fixture(scope="module", params=sorted(CASES))
def planned(request: pytest.FixtureRequest, render_repo: Any,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, list]]:
    name = request.param
    base = load_example("minimal" if name != "full" else "full")
    answers = {**base, **CASES[name]}
    repo = render_repo(answers)
    # plan a private copy: plans are written into the repo
    work = tmp_path_factory.mktemp("plan") / "repo"
    shutil.copytree(repo, work, symlinks=True)
    by_env: dict[str, list[dict[str, Any]]] = {}
    for env in answers["environments"]:
        outcome = run_plan(work, PlanRequest(env=env, offline=True))
        assert outcome.exit_code == 2, outcome.error
        plan = json.loads((outcome.plan_dir / "plan.json").read_text())
        by_env[env] = list(_resources(plan))
    return answers, by_env


def _of(resources: list[dict[str, Any]], rtype: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["type"] == rtype]


def test_buckets_are_private_and_protected_outside_dev(planned: Any) -> None:
    answers, by_env = planned
    envs = answers["environments"]
    cmek = "cmek" in answers["features"]
    for index, env in enumerate(envs):
        disposable = index == 0 and len(envs) > 1
        buckets = _of(by_env[env], "google_storage_bucket")
        assert len(buckets) >= 2, env
        for bucket in buckets:
            values = bucket["values"]
            assert values["force_destroy"] is disposable, (env, bucket["address"])
            assert values["public_access_prevention"] == "enforced"
            assert values["uniform_bucket_level_access"] is True
            assert bool(values.get("encryption")) is cmek, bucket["address"]


def test_datasets_keep_their_contents(planned: Any) -> None:
    answers, by_env = planned
    cmek = "cmek" in answers["features"]
    for env, resources in by_env.items():
        datasets = _of(resources, "google_bigquery_dataset")
        assert len(datasets) == 3, env  # training, predictions, the pipeline's run tables
        for dataset in datasets:
            assert dataset["values"]["delete_contents_on_destroy"] is False
            assert bool(dataset["values"].get("default_encryption_configuration")) is cmek


def test_projects_created_or_adopted_with_protection_on_the_last(planned: Any) -> None:
    answers, by_env = planned
    envs = answers["environments"]
    adopted = answers.get("adopt_project_ids", {})
    for env in envs:
        projects = _of(by_env[env], "google_project")
        creates = answers["project_layout"] == "per_environment" and env not in adopted
        assert len(projects) == (1 if creates else 0), env
        for project in projects:
            assert project["values"]["auto_create_network"] is False
            if env == envs[-1]:
                assert project["values"]["deletion_policy"] == "PREVENT"


def test_features_toggle_their_resources(planned: Any) -> None:
    answers, by_env = planned
    features = set(answers["features"])
    expected = {
        "google_kms_crypto_key": "cmek",
        "google_workbench_instance": "workbench",
        "google_vertex_ai_endpoint": "model_deployment",
        "google_vertex_ai_feature_online_store": "feature_store",
    }
    for env, resources in by_env.items():
        types = {r["type"] for r in resources}
        for rtype, feature in expected.items():
            assert (rtype in types) is (feature in features), (env, rtype)
        assert "google_vertex_ai_tensorboard" in types
        assert "google_service_account_key" not in types
        for instance in _of(resources, "google_workbench_instance"):
            (gce,) = instance["values"]["gce_setup"]
            assert gce["disable_public_ip"] is True


def test_no_primitive_roles_or_public_members(planned: Any) -> None:
    _, by_env = planned
    for env, resources in by_env.items():
        grants = [r for r in resources if r["type"].endswith(("_iam_member", "_iam_binding"))]
        assert grants, env
        for grant in grants:
            values = grant["values"]
            assert values.get("role") not in ("roles/owner", "roles/editor", "roles/viewer")
            members = [values.get("member"), *list(values.get("members") or [])]
            assert not {"allUsers", "allAuthenticatedUsers"} & set(members), grant["address"]


def test_keys_follow_the_protection_rule(planned: Any) -> None:
    """KMS keys refuse destroy outside the disposable environment, like every stateful resource;
    there `terraform destroy` schedules their versions for destruction (issue 12)."""
    answers, by_env = planned
    envs = answers["environments"]
    for index, env in enumerate(envs):
        disposable = index == 0 and len(envs) > 1
        keys = _of(by_env[env], "google_kms_crypto_key")
        assert bool(keys) is ("cmek" in answers["features"]), env
        for key in keys:
            assert key["values"]["deletion_policy"] == ("DELETE" if disposable else "PREVENT"), (
                env, key["address"])


def test_feature_store_is_served_by_bigtable(planned: Any) -> None:
    """Only Bigtable online serving accepts a CMEK (Optimized is refused, and deprecated)."""
    answers, by_env = planned
    for env, resources in by_env.items():
        for store in _of(resources, "google_vertex_ai_feature_online_store"):
            values = store["values"]
            assert not values.get("optimized"), env
            (bigtable,) = values["bigtable"]
            (scaling,) = bigtable["auto_scaling"]
            assert 1 <= scaling["min_node_count"] <= scaling["max_node_count"] <= 10 * scaling[
                "min_node_count"]
            assert bool(values.get("encryption_spec")) is ("cmek" in answers["features"])


def test_workbench_sets_no_service_managed_metadata(planned: Any) -> None:
    """enable-guest-attributes is set by the service (the provider diff-suppresses it)."""
    _, by_env = planned
    for env, resources in by_env.items():
        for instance in _of(resources, "google_workbench_instance"):
            (gce,) = instance["values"]["gce_setup"]
            assert "enable-guest-attributes" not in gce["metadata"], env
            assert gce["metadata"]["notebook-disable-root"] == "true"


def _rendered_config(repo: Path, env: str) -> Any:
    """config/<env>.yaml read by the rendered repo's own pipelines/config.py, imported as the
    client's tests import it (the repo on sys.path; its `pipelines` package, not another
    render's)."""
    def ours(name: str) -> bool:
        return name == "pipelines" or name.startswith("pipelines.")

    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if ours(k)}
    sys.path.insert(0, str(repo))
    try:
        return importlib.import_module("pipelines.config").load(env, config_dir=repo / "config")
    finally:
        sys.path.remove(str(repo))
        for k in [k for k in sys.modules if ours(k)]:
            del sys.modules[k]
        sys.modules.update(saved)


def test_pipeline_root_retention_deletes_where_runs_are_written(planned: Any,
                                                                render_repo: Any) -> None:
    """The retention rule of the pipeline-root bucket matches the prefixes runs really use:
    pipelines/submit.py (EnvConfig.pipeline_root) and the scheduled DAG runs (issue 12)."""
    answers, by_env = planned
    repo = render_repo(answers)  # the render the plans came from (cached per answer set)
    for env, resources in by_env.items():
        cfg = _rendered_config(repo, env)
        (bucket,) = [b for b in _of(resources, "google_storage_bucket")
                     if b["values"]["name"] == cfg.pipeline_root_bucket]
        deletes = [rule["condition"][0] for rule in bucket["values"]["lifecycle_rule"]
                   if rule["action"][0]["type"] == "Delete" and rule["condition"][0].get("age")]
        (rule,) = deletes
        prefixes = rule["matches_prefix"]
        run_root = cfg.pipeline_root("0123abc").removeprefix(f"gs://{cfg.pipeline_root_bucket}/")
        assert any(f"{run_root}/pipeline/x".startswith(p) for p in prefixes), (env, prefixes)
        assert sorted(prefixes) == sorted([cfg.runs_prefix, cfg.scheduled_prefix]), env


def test_vertex_ai_key_of_the_config_is_planned(planned: Any, render_repo: Any) -> None:
    """config/<env>.yaml names the key the platform creates for Vertex AI (cmek), else none."""
    answers, by_env = planned
    repo = render_repo(answers)
    for env, resources in by_env.items():
        cfg = _rendered_config(repo, env)
        if "cmek" not in answers["features"]:
            assert cfg.vertex_ai_kms_key is None
            continue
        (ring,) = _of(resources, "google_kms_key_ring")
        ring_values = ring["values"]
        names = {k["values"]["name"] for k in _of(resources, "google_kms_crypto_key")}
        project, _, rest = cfg.vertex_ai_kms_key.removeprefix("projects/").partition("/")
        assert project == ring_values["project"] == cfg.project_id
        assert rest == (f"locations/{ring_values['location']}/keyRings/{ring_values['name']}/"
                        f"cryptoKeys/{cfg.vertex_ai_kms_key.rsplit('/', 1)[1]}")
        assert cfg.vertex_ai_kms_key.rsplit("/", 1)[1] in names
