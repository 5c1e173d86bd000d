"""Preflight against a local Resource Manager v3 REST server, through the real
google-cloud-resource-manager client (REST transport) and real google-auth credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from google.auth.credentials import AnonymousCredentials
from rm_server import ResourceManagerServer, RMState, service_account_file

from generator import answers, model
from generator import preflight as pf
from generator.cli import main

REPO = Path(__file__).resolve().parents[2]
FOLDER = "folders/284613952018"
ALL_PROJECT_PERMS = set(pf.PROJECT_PERMISSIONS)
# what bootstrap does on the parent: create projects, and the audit trail's aggregated sink
PARENT_PERMS = {"resourcemanager.projects.create", "logging.sinks.create"}


def adc_file(tmp_path: Path, server: ResourceManagerServer, register: bool = True) -> Path:
    """A service-account credentials file whose key the server knows (or not)."""
    return service_account_file(tmp_path / "adc.json", server.state, f"{server.url}/token",
                                register=register)


@pytest.fixture
def server() -> Iterator[ResourceManagerServer]:
    state = RMState()
    state.add_folder(FOLDER.split("/")[1], display="Northwind ML")
    state.permissions[FOLDER] = set(PARENT_PERMS)
    with ResourceManagerServer(state) as srv:
        yield srv


@pytest.fixture
def clients(server: ResourceManagerServer, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> pf.Clients:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc_file(tmp_path, server)))
    return pf.make_clients(pf.default_credentials(), server.url)


def target(*projects: pf.ProjectTarget, parent: str = FOLDER,
           billing: str = "01A2B3-C4D5E6-F7A8B9") -> pf.PreflightTarget:
    return pf.PreflightTarget("dev", parent, billing, tuple(projects))


NEW_CICD = pf.ProjectTarget("cicd", "northwind-cicd-828c", True)
NEW_DEV = pf.ProjectTarget("env", "northwind-dev-828c", True)
ADOPT_DEV = pf.ProjectTarget("env", "northwind-dev-legacy", False)


def by_check(report: pf.PreflightReport) -> dict[tuple[str, str], pf.Check]:
    return {(c.check, c.target): c for c in report.checks}


def test_all_pass_for_new_projects(clients: pf.Clients, server: ResourceManagerServer) -> None:
    report = pf.run_checks(target(NEW_CICD, NEW_DEV), clients)
    assert report.ok, pf.render_table(report)
    assert [(c.check, c.status) for c in report.checks] == [
        ("billing account", "pass"),
        ("parent", "pass"),
        ("parent permissions", "pass"),
        ("audit sink permissions", "pass"),
        ("cicd project (create)", "pass"),
        ("env project (create)", "pass"),
    ]
    assert "'Northwind ML' is visible and ACTIVE" in report.checks[1].why
    # every API call carried a token the server verified against the service account's key
    assert server.state.requests


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        (lambda s: s.folders.clear(), "folder not found: check gcp_parent"),
        (lambda s: s.hidden.add(FOLDER), "folder not visible to you"),
        (lambda s: s.folders[FOLDER].update(state="DELETE_REQUESTED"),
         "folder is DELETE_REQUESTED, not ACTIVE"),
    ],
)
def test_parent_failures(clients: pf.Clients, server: ResourceManagerServer, setup, why) -> None:
    setup(server.state)
    report = pf.run_checks(target(NEW_CICD), clients)
    assert not report.ok
    parent = by_check(report)[("parent", FOLDER)]
    assert parent.status == "fail" and why in parent.why


def test_parent_must_be_folder_or_org(clients: pf.Clients) -> None:
    report = pf.run_checks(target(NEW_CICD, parent="projects/123"), clients)
    # the answers model's rule, not a second copy of it
    assert by_check(report)[("parent", "projects/123")].why == answers.check_question(
        "gcp_parent", "projects/123", {}
    )
    assert "organizations/<digits> or folders/<digits>" in by_check(report)[
        ("parent", "projects/123")].why


def test_organization_parent(clients: pf.Clients, server: ResourceManagerServer) -> None:
    org = "organizations/508194335741"
    server.state.organizations[org] = {"name": org, "displayName": "contoso.example",
                                       "state": "ACTIVE"}
    server.state.permissions[org] = set(PARENT_PERMS)
    report = pf.run_checks(target(NEW_CICD, parent=org), clients)
    assert report.ok, pf.render_table(report)
    server.state.permissions[org] = set()
    report = pf.run_checks(target(NEW_CICD, parent=org), clients)
    perm = by_check(report)[("parent permissions", org)]
    assert perm.status == "fail"
    assert perm.why.startswith("missing resourcemanager.projects.create: ask for "
                               "roles/resourcemanager.projectCreator")


def test_audit_sink_needs_sink_creation_on_the_parent(
    clients: pf.Clients, server: ResourceManagerServer
) -> None:
    server.state.permissions[FOLDER] = {"resourcemanager.projects.create"}
    report = pf.run_checks(target(NEW_CICD, NEW_DEV), clients)
    assert not report.ok
    check = by_check(report)[("audit sink permissions", FOLDER)]
    assert check.status == "fail"
    assert check.why.startswith("missing logging.sinks.create: ask for "
                                f"roles/logging.configWriter on {FOLDER}")


def test_guardrails_need_policy_rights_on_the_parent(
    clients: pf.Clients, server: ResourceManagerServer
) -> None:
    guarded = pf.PreflightTarget("dev", FOLDER, "01A2B3-C4D5E6-F7A8B9", (NEW_CICD, NEW_DEV),
                                 guardrails=True)
    server.state.permissions[FOLDER] = PARENT_PERMS | {"orgpolicy.policies.create"}
    report = pf.run_checks(guarded, clients)
    check = by_check(report)[("guardrail permissions", FOLDER)]
    assert not report.ok and check.status == "fail"
    assert check.why.startswith(
        "missing orgpolicy.policies.update: ask for roles/orgpolicy.policyAdmin on the "
        f"organization that holds {FOLDER}")
    server.state.permissions[FOLDER] |= set(pf.GUARDRAIL_PERMISSIONS)
    report = pf.run_checks(guarded, clients)
    assert report.ok, pf.render_table(report)
    assert by_check(report)[("guardrail permissions", FOLDER)].status == "pass"
    # off (the default): not asked for
    report = pf.run_checks(target(NEW_CICD, NEW_DEV), clients)
    assert ("guardrail permissions", FOLDER) not in by_check(report)


def test_guardrails_on_an_organization_parent_name_it(
    clients: pf.Clients, server: ResourceManagerServer
) -> None:
    org = "organizations/508194335741"
    server.state.organizations[org] = {"name": org, "displayName": "contoso.example",
                                       "state": "ACTIVE"}
    server.state.permissions[org] = set(PARENT_PERMS)
    guarded = pf.PreflightTarget("prod", org, "01A2B3-C4D5E6-F7A8B9", (NEW_CICD,),
                                 guardrails=True)
    check = by_check(pf.run_checks(guarded, clients))[("guardrail permissions", org)]
    assert check.status == "fail"
    assert ("missing orgpolicy.policies.create, orgpolicy.policies.update: ask for "
            f"roles/orgpolicy.policyAdmin on {org} ") in check.why


def test_project_id_taken(clients: pf.Clients, server: ResourceManagerServer) -> None:
    server.state.add_project(NEW_DEV.project_id, "folders/1")
    report = pf.run_checks(target(NEW_CICD, NEW_DEV), clients)
    check = by_check(report)[("env project (create)", NEW_DEV.project_id)]
    assert check.status == "fail"
    assert check.why.startswith("id is taken: project exists (ACTIVE, under folders/1)")


def test_adopt_not_found_hints_visible_projects_over_pages(
    clients: pf.Clients, server: ResourceManagerServer
) -> None:
    st = server.state
    for pid in ("northwind-a", "northwind-b", "northwind-c"):
        st.add_project(pid, FOLDER)
    st.add_project("northwind-old", FOLDER, state="DELETE_REQUESTED")
    st.add_project("elsewhere", "folders/1")
    st.hidden.add("projects/northwind-c")  # search lists only what the caller may see
    st.search_leading_empty_pages = 1  # an empty first page with a token is legal
    report = pf.run_checks(target(ADOPT_DEV), clients)
    check = by_check(report)[("env project (adopt)", ADOPT_DEV.project_id)]
    assert check.status == "fail"
    assert check.why == (
        "project not found: check adopt_project_ids in .copier-answers.yml; "
        f"projects you can see under {FOLDER}: northwind-a, northwind-b"
    )
    searches = [r for r in st.requests if r[1].startswith("/v3/projects:search")]
    assert len(searches) == 4  # empty page, then one project per page
    assert "pageToken=3" in searches[-1][1]


def test_project_id_unverifiable_is_a_warning(
    clients: pf.Clients, server: ResourceManagerServer
) -> None:
    server.state.hidden.add(f"projects/{NEW_DEV.project_id}")
    report = pf.run_checks(target(NEW_DEV), clients)
    check = by_check(report)[("env project (create)", NEW_DEV.project_id)]
    assert check.status == "warn" and "cannot tell if the id is free (403" in check.why
    assert report.ok  # a warning does not fail preflight


def test_adopted_project_passes_with_permissions(
    clients: pf.Clients, server: ResourceManagerServer
) -> None:
    server.state.add_project(ADOPT_DEV.project_id, FOLDER)
    server.state.permissions[f"projects/{ADOPT_DEV.project_id}"] = ALL_PROJECT_PERMS
    report = pf.run_checks(target(ADOPT_DEV), clients)
    assert report.ok, pf.render_table(report)
    checks = by_check(report)
    assert checks[("env project (adopt)", ADOPT_DEV.project_id)].why == (
        f"exists, ACTIVE, under {FOLDER}"
    )
    assert checks[("env project permissions", ADOPT_DEV.project_id)].status == "pass"
    # no project is created: the parent's projectCreator permission is not asked for
    assert ("parent permissions", FOLDER) not in checks


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        (lambda s: None, "project not found: check adopt_project_ids"),
        (lambda s: s.hidden.add(f"projects/{ADOPT_DEV.project_id}"),
         "project not visible to you"),
        (lambda s: s.add_project(ADOPT_DEV.project_id, FOLDER, state="DELETE_REQUESTED"),
         "project is DELETE_REQUESTED, not ACTIVE"),
        (lambda s: s.add_project(ADOPT_DEV.project_id, "folders/999"),
         f"project is under folders/999, not {FOLDER}"),
    ],
)
def test_adopted_project_failures(
    clients: pf.Clients, server: ResourceManagerServer, setup, why
) -> None:
    setup(server.state)
    report = pf.run_checks(target(ADOPT_DEV), clients)
    check = by_check(report)[("env project (adopt)", ADOPT_DEV.project_id)]
    assert check.status == "fail" and why in check.why
    assert not report.ok


def test_adopted_project_missing_permissions(
    clients: pf.Clients, server: ResourceManagerServer
) -> None:
    server.state.add_project(ADOPT_DEV.project_id, FOLDER)
    server.state.permissions[f"projects/{ADOPT_DEV.project_id}"] = ALL_PROJECT_PERMS - {
        "storage.buckets.create", "serviceusage.services.enable"
    }
    report = pf.run_checks(target(ADOPT_DEV), clients)
    check = by_check(report)[("env project permissions", ADOPT_DEV.project_id)]
    assert check.status == "fail"
    assert check.why.startswith(
        "missing serviceusage.services.enable, storage.buckets.create:"
    )


ADOPT_CICD = pf.ProjectTarget("cicd", "northwind-cicd-legacy", False)


def test_guardrails_need_the_cicd_project_as_quota_project(
    clients: pf.Clients, server: ResourceManagerServer
) -> None:
    """Bootstrap names the CI/CD project as quota project of its organization policy requests
    (google.cicd_quota): with guardrails the applier must be allowed to (an adopted project)."""
    server.state.add_project(ADOPT_CICD.project_id, FOLDER)
    server.state.add_project(ADOPT_DEV.project_id, FOLDER)
    for p in (ADOPT_CICD, ADOPT_DEV):
        server.state.permissions[f"projects/{p.project_id}"] = set(ALL_PROJECT_PERMS)
    server.state.permissions[FOLDER] |= set(pf.GUARDRAIL_PERMISSIONS)
    guarded = pf.PreflightTarget("dev", FOLDER, "01A2B3-C4D5E6-F7A8B9",
                                 (ADOPT_CICD, ADOPT_DEV), guardrails=True)
    checks = by_check(pf.run_checks(guarded, clients))
    cicd = checks[("cicd project permissions", ADOPT_CICD.project_id)]
    assert cicd.status == "fail"
    assert cicd.why.startswith("missing serviceusage.services.use:")
    assert "roles/serviceusage.serviceUsageConsumer" in cicd.why
    # only the CI/CD project is the quota project
    assert checks[("env project permissions", ADOPT_DEV.project_id)].status == "pass"
    # without guardrails it is not asked for
    unguarded = pf.run_checks(target(ADOPT_CICD, ADOPT_DEV), clients)
    assert by_check(unguarded)[("cicd project permissions", ADOPT_CICD.project_id)].status == "pass"
    server.state.permissions[f"projects/{ADOPT_CICD.project_id}"] |= set(pf.QUOTA_PERMISSIONS)
    report = pf.run_checks(guarded, clients)
    assert report.ok, pf.render_table(report)


@pytest.mark.parametrize("bad", ["01a2b3-c4d5e6-f7a8b9", "01A2B3C4D5E6F7A8B9", "", "XXXXXX-1"])
def test_billing_account_format(bad: str) -> None:
    status, why = pf.check_billing_account(bad)
    assert status == "fail" and "01A2B3-C4D5E6-F7A8B9" in why
    assert pf.check_billing_account("billingAccounts/01A2B3-C4D5E6-F7A8B9")[0] == "pass"


def test_rejected_credentials_are_one_actionable_line(
    server: ResourceManagerServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS",
                       str(adc_file(tmp_path, server, register=False)))
    clients = pf.make_clients(pf.default_credentials(), server.url)
    with pytest.raises(pf.CredentialsMissing) as info:
        pf.run_checks(target(NEW_CICD), clients)
    assert str(info.value) == (
        "Google Cloud rejected the credentials (401): run "
        "`gcloud auth application-default login` and retry"
    )


def test_credentials_that_cannot_authenticate(server: ResourceManagerServer) -> None:
    clients = pf.make_clients(AnonymousCredentials(), server.url)  # sends no token: 401
    with pytest.raises(pf.CredentialsMissing, match="unusable Google Cloud credentials"):
        pf.run_checks(target(NEW_CICD), clients)


def test_unreachable_endpoint_is_reported() -> None:
    with ResourceManagerServer() as srv:
        url = srv.url
    clients = pf.make_clients(AnonymousCredentials(), url)
    report = pf.run_checks(target(NEW_CICD), clients)
    assert not report.ok
    assert report.checks[-1].why.startswith("cannot reach the Resource Manager API")


def test_targets_from_model_context() -> None:
    full = yaml.safe_load((REPO / "examples" / "full.yml").read_text())
    ctx = model.build_context(model.validate_answers(full))
    t = pf.target_from_context(ctx, "staging")
    assert t.parent == "folders/284613952018"
    assert [(p.role, p.create) for p in t.projects] == [("cicd", True), ("env", True)]
    assert t.projects[1].project_id == ctx["environments"][1]["project_id"]
    assert t.guardrails is False
    ctx = model.build_context(model.validate_answers({**full, "guardrails": True}))
    assert pf.target_from_context(ctx, "staging").guardrails is True
    minimal = yaml.safe_load((REPO / "examples" / "minimal.yml").read_text())
    ctx = model.build_context(model.validate_answers(minimal))
    t = pf.target_from_context(ctx, "prod")
    assert [(p.role, p.project_id) for p in t.projects] == [("shared", ctx["cicd_project"]["id"])]
    with pytest.raises(KeyError, match="unknown environment 'dev'"):
        pf.target_from_context(ctx, "dev")


# -- CLI -----------------------------------------------------------------------------------------


@pytest.fixture
def full_repo(tmp_path: Path) -> Path:
    dest = tmp_path / "northwind"
    dest.mkdir()
    answers = yaml.safe_load((REPO / "examples" / "full.yml").read_text())
    answers["_commit"] = "v0.1.0"
    (dest / ".copier-answers.yml").write_text(yaml.safe_dump(answers))
    return dest


def _full_ids(dest: Path) -> dict:
    answers = {k: v for k, v in yaml.safe_load((dest / ".copier-answers.yml").read_text()).items()
               if not k.startswith("_")}
    return model.build_context(model.validate_answers(answers))


def test_cli_pass_and_json(full_repo: Path, server: ResourceManagerServer, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc_file(tmp_path, server)))
    monkeypatch.setenv("MLOPSGEN_RESOURCE_MANAGER_ENDPOINT", server.url)
    res = CliRunner().invoke(main, ["preflight", str(full_repo), "--env", "dev"])
    assert res.exit_code == 0, res.output
    assert "Preflight for dev: OK" in res.stdout
    assert "cicd project (create)" in res.stdout

    res = CliRunner().invoke(main, ["preflight", str(full_repo), "--env", "prod", "--json"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout)
    prod_id = _full_ids(full_repo)["environments"][2]["project_id"]
    assert body["env"] == "prod" and body["ok"] is True
    assert body["checks"][-1] == {
        "check": "env project (create)", "target": prod_id, "status": "pass", "why": "id is free",
    }
    assert all(set(c) == {"check", "target", "status", "why"} for c in body["checks"])


def test_cli_failed_checks_exit_4(full_repo: Path, server: ResourceManagerServer, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _full_ids(full_repo)
    server.state.add_project(ctx["environments"][0]["project_id"], "folders/1")
    server.state.folders[FOLDER]["state"] = "DELETE_REQUESTED"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc_file(tmp_path, server)))
    res = CliRunner().invoke(
        main, ["preflight", str(full_repo), "--env", "dev", "--json", "--api-endpoint", server.url]
    )
    assert res.exit_code == 4  # ran, and found what a person must fix
    body = json.loads(res.stdout)
    failed = {c["check"] for c in body["checks"] if c["status"] == "fail"}
    assert body["ok"] is False and failed == {"parent", "env project (create)"}
    res = CliRunner().invoke(
        main, ["preflight", str(full_repo), "--env", "dev", "--api-endpoint", server.url]
    )
    assert res.exit_code == 4 and "Preflight for dev: FAILED" in res.stdout


def test_cli_unknown_env(full_repo: Path) -> None:
    res = CliRunner().invoke(main, ["preflight", str(full_repo), "--env", "qa"])
    assert res.exit_code == 1
    assert "unknown environment 'qa': this repo has dev, staging, prod" in res.stderr


def _without_adc(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "CLOUDSDK_"))}
    gcloud = tmp_path / "gcloud-config"
    gcloud.mkdir()
    env.update(CLOUDSDK_CONFIG=str(gcloud), NO_GCE_CHECK="true", HOME=str(tmp_path),
               GCE_METADATA_HOST="127.0.0.1:9", GCE_METADATA_IP="127.0.0.1:9",
               PYTHONPATH=str(REPO))
    return env


def test_cli_missing_adc_is_one_actionable_line(full_repo: Path, tmp_path: Path) -> None:
    env = _without_adc(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "generator.cli", "preflight", str(full_repo), "--env", "dev"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "Error: no Google Cloud credentials: run `gcloud auth application-default login` "
        "(or set GOOGLE_APPLICATION_CREDENTIALS to a credentials file) and retry"
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "generator.cli", "preflight", str(full_repo), "--env", "dev",
         "--json"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=60,
    )
    assert proc.returncode == 1
    body = json.loads(proc.stdout)
    assert body["ok"] is False
    assert body["checks"][0]["check"] == "credentials"
    assert body["checks"][0]["status"] == "fail"
