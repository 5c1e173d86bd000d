"""The iam stage on real renders, planned offline by real terraform: every example and test
scenario passes; removing a grant a declared need relies on fails naming the permission; the
IAM findings of issue 12 stay fixed (each check here fails on the render before its fix)."""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from generator import iam
from generator.iam import conditions, identities, snapshot
from generator.iam.grants import is_iam_type
from generator.validate import Report, validate_repo
from tests.conftest import load_example
from tests.offline.conftest import needs_terraform
from tests.test_plan_content import CASES
from tests.test_render import MATRIX, _answers

pytestmark = [needs_terraform, pytest.mark.terraform]

Render = Callable[[Mapping[str, Any]], Path]
FAST = ("checkov", "test", "fmt")  # the iam stage needs the plans (and the bootstrap triggers)
ADOPTED = {"dev": "northwind-dev-exist", "staging": "northwind-stg-exist",
           "prod": "northwind-prd-exist", "cicd": "northwind-ci-exist"}


def _scenario(name: str) -> dict[str, Any]:
    if name in ("full", "minimal"):
        return load_example(name)
    if name == "adopted":  # every project exists before CI: no implicit owners, every grant counts
        return {**load_example("full"), "adopt_project_ids": ADOPTED}
    if name.startswith("case-"):
        case = name[len("case-"):]
        return {**load_example("minimal" if case != "full" else "full"), **CASES[case]}
    index = int(name[len("pair"):])
    return _answers(name, MATRIX[index])


@pytest.fixture(scope="module")
def validated(render_repo: Render) -> Callable[[str], Report]:
    cache: dict[str, Report] = {}

    def run(name: str) -> Report:
        if name not in cache:
            cache[name] = validate_repo(render_repo(_scenario(name)), skip=FAST, jobs=2)
        return cache[name]

    return run


def _iam_problems(report: Report) -> list[str]:
    return [p.one_line() for p in report.problems if p.stage == "iam"]


def _assert_passes(report: Report) -> None:
    assert report.stages.get("iam") == "ok", _iam_problems(report)[:10]
    assert report.ok, [p.one_line() for p in report.problems][:10]


@pytest.mark.parametrize("name", ["full", "minimal"])
def test_examples_pass_the_iam_stage(validated: Callable[[str], Report], name: str) -> None:
    report = validated(name)
    _assert_passes(report)
    doc = report.to_json()["iam"]
    assert doc["needs"] > 250 and doc["grants"] > 40
    assert doc["least_privilege"], "the least-privilege report is in --json"
    assert any("least privilege" in w.message for w in report.warnings if w.stage == "iam")


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_content_scenarios_pass_the_iam_stage(validated: Callable[[str], Report],
                                                   case: str) -> None:
    _assert_passes(validated(f"case-{case}"))


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(MATRIX)))
def test_render_matrix_scenarios_pass_the_iam_stage(validated: Callable[[str], Report],
                                                    index: int) -> None:
    _assert_passes(validated(f"pair{index}"))


# --- removing grants -------------------------------------------------------------------------

# Grants whose removal leaves every need met because another grant of the plans covers what
# the needs use of them (the role named here, to the same principal on the same project or a
# resource above). The least-privilege report counts both.
COVERED_BY = {
    r'module\.ci\.google_project_iam_member\.seed\["\w+/plan/roles/browser"\]':
        "roles/iam.securityReviewer",
    r'module\.ci\.google_project_iam_member\.seed\["\w+/plan/roles/serviceusage\.'
    r'serviceUsageViewer"\]': "roles/iam.securityReviewer",
    r'google_project_iam_member\.ci\["apply/roles/browser"\]':
        "roles/resourcemanager.projectIamAdmin",
    r'google_project_iam_member\.ci\["plan/roles/compute\.networkViewer"\]':
        "roles/notebooks.viewer",
    r'google_project_iam_member\.ci\["plan/roles/iam\.serviceAccountViewer"\]':
        "roles/iam.securityReviewer",
    r'pipeline_root_bucket\.google_storage_bucket_iam_member\.this\["ci_apply"\]':
        "roles/storage.admin",
    r'pipeline_sa\.google_service_account_iam_member\.this\["ci_apply"\]':
        "roles/iam.serviceAccountUser",
    r'registry\["\w+"\]\.google_artifact_registry_repository_iam_member\.this\["ci_apply"\]':
        "roles/artifactregistry.admin",
}


def _without(plans: Mapping[str, Any], root: str, index: int) -> dict[str, Any]:
    changed = dict(plans)
    plan = dict(plans[root])
    plan["resource_changes"] = [rc for i, rc in enumerate(plan["resource_changes"]) if i != index]
    changed[root] = plan
    return changed


def _covered(root: str, address: str, removed: dict[str, Any], base: iam.Result
             ) -> str | None:
    """Why the grant may go without a failure: covered, unused, or for no declared identity."""
    member = identities.principal(str(removed.get("member") or ""), {})
    principals = {n.principal for n in base.declared}
    if member and member not in principals and not member.startswith("serviceAccount:"):
        return "its member has no declared needs"
    for pattern, role in COVERED_BY.items():
        if re.search(pattern, address):
            held = {u.role for u in base.uses if u.principal == member}
            assert role in held, f"{address}: {member} does not hold {role}"
            return f"covered by {role}"
    uses = [u for u in base.uses if u.grant == f"{address} ({root})"]
    if uses and all(u.used == 0 for u in uses):
        return "no declared need uses it (the least-privilege report says so)"
    if re.search(r"google_service_account_iam_member\.workload_identity_user\[", address):
        return "GitHub Actions' workload identity principal set (no declared needs)"
    if address == "module.audit_trail.google_project_iam_member.writer":
        # Google names the sink's writer (f<folder>-<id>@gcp-sa-logging...) only when it
        # creates the sink: no need can name it before apply
        return "the audit sink's writer identity, known only after apply"
    return None


def test_removing_any_declared_need_grant_fails_naming_the_permission(
        validated: Callable[[str], Report]) -> None:
    report = validated("adopted")
    _assert_passes(report)
    plans = report.plans
    base = iam.check_repo(report.dest, plans)
    roles = snapshot.default()
    unexplained, checked = [], 0
    for root, plan in sorted(plans.items()):
        for index, rc in enumerate(plan["resource_changes"]):
            if rc["mode"] != "managed" or not is_iam_type(rc["type"]):
                continue
            removed = rc["change"]["after"] or {}
            errors = [f for f in iam.check_repo(report.dest, _without(plans, root, index)).findings
                      if f.severity == "error"]
            checked += 1
            if errors:
                granted = roles.permissions(str(removed.get("role")))
                assert any(p in errors[0].message for p in granted), (rc["address"], errors[0])
                continue
            if _covered(root, rc["address"], removed, base) is None:
                unexplained.append(f"{root}: {rc['address']}")
    assert checked > 200
    assert not unexplained, "removed without a failure and without a reason:\n" + "\n".join(
        unexplained)


@pytest.mark.parametrize(("address", "permission"), [
    ('module.platform.module.dataset["runs"].google_bigquery_dataset_iam_member.this["pipeline"]',
     "bigquery.tables.create"),
    ('module.platform.module.dataset["training"].google_bigquery_dataset_iam_member.this'
     '["pipeline"]', "bigquery.tables.createSnapshot"),
    ('module.state_bucket.google_storage_bucket_iam_member.state["dev/plan"]',
     "storage.objects.get"),
    ('module.platform.google_kms_crypto_key_iam_member.storage_agent[0]',
     "cloudkms.cryptoKeyVersions.useToEncrypt"),
    ('module.platform.module.workbench[0].google_workbench_instance_iam_member.users'
     '["user:ana.lima@northwind.example"]', "notebooks.instances.use"),
    ('module.platform.module.notebook_sa[0].google_service_account_iam_member.this'
     '["user/user:sam.okafor@northwind.example"]', "iam.serviceAccounts.actAs"),
    ('module.cloudbuild_github_connection[0].google_secret_manager_secret_iam_member.'
     'service_agent_token_access', "secretmanager.versions.access"),
])
def test_the_message_names_identity_permission_scope_and_a_grant(
        validated: Callable[[str], Report], address: str, permission: str) -> None:
    report = validated("adopted")
    plans = report.plans
    hits = [(root, i) for root, plan in plans.items()
            for i, rc in enumerate(plan["resource_changes"]) if rc["address"] == address]
    assert hits, address
    messages = [f.message for f in iam.check_repo(report.dest, _without(plans, *hits[0])).findings
                if f.severity == "error"]
    ours = [m for m in messages if f"cannot {permission} on " in m]
    assert ours, messages[:3]
    assert " grant roles/" in ours[0] and "iam-needs.yaml" in ours[0]


def test_an_unknown_or_deprecated_role_in_a_render_fails(validated: Callable[[str], Report]
                                                         ) -> None:
    report = validated("minimal")
    plans = copy.deepcopy(report.plans)
    changes = [rc for plan in plans.values() for rc in plan["resource_changes"]
               if rc["type"] == "google_project_iam_member"]
    changes[0]["change"]["after"]["role"] = "roles/storage.objectVeiwer"
    changes[1]["change"]["after"]["role"] = "roles/servicebroker.operator"
    messages = [f.message for f in iam.check_repo(report.dest, plans).findings
                if f.severity == "error"]
    assert any("'roles/storage.objectVeiwer' is not a predefined role" in m for m in messages)
    assert any("roles/servicebroker.operator is deprecated" in m for m in messages)


# --- the findings, end to end on edited renders ----------------------------------------------


def _copy(render_repo: Render, tmp_path: Path, name: str = "full") -> Path:
    dest = tmp_path / "repo"
    shutil.copytree(render_repo(_scenario(name)), dest, symlinks=True)
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_a_pipeline_that_cannot_write_its_run_tables_fails_validate(render_repo: Render,
                                                                    tmp_path: Path) -> None:
    """Finding 1, as it was: the pipeline had only dataViewer where it creates its tables."""
    repo = _copy(render_repo, tmp_path, "minimal")
    main = repo / "terraform/modules/mlops_platform/main.tf"
    _edit(main, 'pipeline        = "roles/bigquery.dataOwner"',
          'pipeline        = "roles/bigquery.dataViewer"')
    report = validate_repo(repo, skip=FAST, jobs=2)
    problems = _iam_problems(report)
    assert report.stages["iam"] == "failed"
    runs = "datasets/contoso_prod_runs"
    for permission in ("bigquery.tables.create", "bigquery.tables.updateData",
                       "bigquery.tables.deleteSnapshot"):
        assert any(f"cannot {permission} on dataset projects/" in p and runs in p
                   for p in problems), (permission, problems)
    assert all("pipelines/iam-needs.yaml" in p for p in problems if runs in p)


def test_workbench_users_that_cannot_open_the_instance_fail_validate(render_repo: Render,
                                                                     tmp_path: Path) -> None:
    repo = _copy(render_repo, tmp_path)
    _edit(repo / "terraform/modules/mlops_platform/main.tf",
          "  users                 = var.workbench_users\n", "")
    problems = _iam_problems(validate_repo(repo, skip=FAST, jobs=2))
    assert any("user:ana.lima@northwind.example cannot notebooks.instances.use on instance "
               "projects/northwind-dev-" in p for p in problems), problems[:5]


def test_workbench_without_data_scientists_warns_that_no_one_can_open_it(
        validated: Callable[[str], Report]) -> None:
    report = validated("case-single-cmek")  # minimal answers + workbench, no data_scientists
    assert any("no one can open the Workbench instance" in w.message for w in report.warnings)


def test_state_listing_is_scoped_to_each_environments_prefix(validated: Callable[[str], Report]
                                                             ) -> None:
    """Finding (d): the old condition admitted every bucket-level call, listing included."""
    plan = validated("full").plans["terraform/bootstrap"]
    grants = [rc["change"]["after"] for rc in plan["resource_changes"]
              if rc["address"].startswith("module.state_bucket.google_storage_bucket_iam_member")]
    assert len(grants) == 6
    bucket = grants[0]["bucket"]
    for grant in grants:
        expression = grant["condition"][0]["expression"]
        own = re.search(r'objectListPrefix", ""\)\.startsWith\("([^"]+)"\)', expression)
        assert own, expression
        prefix = own.group(1)
        other = "envs/prod/" if prefix != "envs/prod/" else "envs/dev/"
        listing = {"storage.googleapis.com/objectListPrefix": prefix}
        bucket_request = conditions.Request("storage.googleapis.com/Bucket",
                                            f"projects/_/buckets/{bucket}")
        assert conditions.admits(expression, conditions.Request(
            bucket_request.resource_type, bucket_request.resource_name, attributes=listing))[0]
        assert not conditions.admits(expression, conditions.Request(
            bucket_request.resource_type, bucket_request.resource_name,
            attributes={"storage.googleapis.com/objectListPrefix": other}))[0]
        assert not conditions.admits(expression, bucket_request)[0]  # no prefix: the bucket
        assert conditions.admits(expression, conditions.Request(
            "storage.googleapis.com/Object",
            conditions.Prefix(f"projects/_/buckets/{bucket}/objects/{prefix}")))[0]


def test_automl_runs_no_dataflow(validated: Callable[[str], Report]) -> None:
    """Finding (c): no Dataflow API, roles or network for AutoML forecasting."""
    for root, plan in validated("full").plans.items():
        text = json.dumps(plan["resource_changes"])
        assert "dataflow" not in text, root


def test_the_single_project_readme_states_its_price(render_repo: Render) -> None:
    single = (render_repo(load_example("minimal")) / "README.md").read_text()
    assert "The price of the single-project layout" in single
    assert "roles/resourcemanager.projectIamAdmin" in single
    per_env = (render_repo(load_example("full")) / "README.md").read_text()
    assert "The price of the single-project layout" not in per_env
    assert "`user:ana.lima@northwind.example`" in per_env
