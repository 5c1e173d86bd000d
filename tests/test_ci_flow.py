"""The client repo's CI end to end, on one render, with the local Cloud Build runner and its fakes
(tests/cloudbuild_local): the rendered build configs and scripts run as their triggers run them,
against the stand-in providers, Terraform's gcs backend on the Cloud Storage stand-in, a GitHub
stand-in and a Cloud Build stand-in that chains the builds and holds approvals.

Everything the builds get comes from the offline plans `mlopsgen validate` makes of the render:
the triggers and their substitutions (`triggers_from_plan`), who may read which secret and which
bucket prefixes (the plans' IAM grants), who may start triggers. Pub/Sub, which starts the
comment build when a plan build ends, is the one bridge the test plays: it publishes the ended
build as Cloud Build would (the Build resource with its substitutions) and applies the comment
trigger's filter and payload bindings from the plan.

The ML builds (the pipeline in the first environment, template publishing elsewhere) need the
ML stack and Vertex AI: they are started and recorded here, not run (tests/ml runs their
commands). CI installs mlopsgen at the template's version: the render is made from a release tag
equal to this checkout's version, with a package index answer nobody serves, so the pinned
install into the CI venv finds everything installed already (that venv sees this one's packages;
the python image itself is bare, as on Cloud Build: tests/ci_python.py).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import model
from generator.iam import grants as iam_grants
from generator.iam import identities, scopes, snapshot
from generator.iam.check import Matcher
from generator.iam.needs import Need
from generator.iam.planview import PlanView
from generator.validate import validate_repo
from tests.cloudbuild_local import (
    Accounts,
    BuildRecord,
    BuildResult,
    FakeCloudBuild,
    FakeGcs,
    FakeGitHub,
    FakeRegistry,
    PullRequest,
    TriggerDef,
    default_images,
    run_build,
    triggers_from_plan,
)
from tests.cloudbuild_local.errors import CloudBuildLocalError

from . import ci_python
from .conftest import load_example

pytestmark = pytest.mark.terraform

REPO = "contoso/contoso-mlops"
TOKEN = "ghp_contoso_ci"
APPROVER = "lead@contoso.example"
INDEX = "https://pypi.invalid/simple/"  # never asked: every pin is installed already
ANSWERS: dict[str, Any] = {
    **load_example("minimal"),
    "project_layout": "per_environment",
    "environments": ["dev", "prod"],
    "github_app_installation_id": "4242",
    "mlopsgen_source": INDEX,
}
ACCESS = "secretmanager.versions.access"
EMPTY_STATE = {"version": 4, "terraform_version": "1.11.4", "serial": 1,
               "lineage": "4f1d1a53-8f1e-4c8e-9d43-4b8f53c5c0a1", "outputs": {},
               "resources": [], "check_results": None}
SCRATCH = ('resource "google_storage_bucket" "scratch" {\n  project  = "contoso-prod-aa74"\n'
           '  name     = "contoso-prod-scratch-aa74"\n  location = "US"\n}\n')


def sha(n: int) -> str:
    return f"{n:040x}"


# -- the render and its plans -----------------------------------------------------------------


@dataclass
class Site:
    repo: Path
    ctx: dict[str, Any]
    plans: dict[str, dict[str, Any]]
    triggers: dict[str, TriggerDef]

    @property
    def bootstrap(self) -> dict[str, Any]:
        return self.plans["terraform/bootstrap"]

    def env(self, name: str) -> dict[str, Any]:
        return next(e for e in self.ctx["environments"] if e["name"] == name)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def site(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Site:
    tmp = tmp_path_factory.mktemp("ci-flow")
    tag = f"v{importlib.metadata.version('mlops-foundations')}"
    template = tmp / "template"
    shutil.copytree(template_snapshot, template, symlinks=True)
    _git(template, "tag", tag)
    answers = tmp / "answers.yml"
    answers.write_text(yaml.safe_dump(ANSWERS))
    beside = Path(sys.executable).with_name("copier")
    copier = str(beside) if beside.exists() else "copier"
    repo = tmp / "repo"
    done = subprocess.run([copier, "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", tag,
                           "--data-file", str(answers), str(template), str(repo)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = validate_repo(repo, skip=("test", "checkov"))
    assert report.ok, "\n".join(p.one_line() for p in report.problems)
    plans = report.plans
    ctx = model.build_context(model.validate_answers(ANSWERS), template_ref=tag)
    return Site(repo, ctx, plans, triggers_from_plan(plans["terraform/bootstrap"]))


def _trigger_changes(plan: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {rc["change"]["after"]["name"]: rc["change"]["after"]
            for rc in plan["resource_changes"] if rc["type"] == "google_cloudbuild_trigger"}


def _event(after: Mapping[str, Any]) -> str:
    for config in after.get("repository_event_config") or []:
        for kind in ("pull_request", "push"):
            if config.get(kind):
                return kind
    for kind in ("pubsub_config", "webhook_config"):
        if after.get(kind):
            return kind.removesuffix("_config")
    return "manual"


@dataclass(frozen=True)
class Grants:
    """Every IAM grant of the render's plans, as the iam stage reads them."""

    found: list[iam_grants.Grant]
    matcher: Matcher
    roles: snapshot.Roles
    numbers: Mapping[str, str]

    def principal(self, email: str) -> str:
        return identities.principal(f"serviceAccount:{email}", self.numbers)

    def of(self, email: str) -> list[iam_grants.Grant]:
        return [g for g in self.found if g.principal == self.principal(email)]


@pytest.fixture(scope="module")
def grants(site: Site) -> Grants:
    views = [PlanView.of(root, plan) for root, plan in sorted(site.plans.items())]
    hierarchy = iam_grants.hierarchy_of(views)
    found = [g for view in views for g in iam_grants.grants_of(view, hierarchy.numbers)[0]]
    roles = snapshot.default()
    return Grants(found, Matcher(roles, found, hierarchy), roles, hierarchy.numbers)


def _secrets(site: Site) -> list[str]:
    return [f"projects/{rc['change']['after']['project']}/secrets/"
            f"{rc['change']['after']['secret_id']}"
            for plan in site.plans.values() for rc in plan["resource_changes"]
            if rc["type"] == "google_secret_manager_secret"]


def pull_request_builds_can_read_no_secret(site: Site, grants: Grants) -> None:
    """The accounts of the pull request triggers hold no role with secretmanager.versions.access
    anywhere in the plans, so no grant reaches any secret the plans create; their build configs
    declare none and their triggers name none."""
    changes = _trigger_changes(site.bootstrap)
    pull_requests = [site.triggers[n] for n, after in changes.items()
                     if _event(after) == "pull_request"]
    assert sorted(t.name for t in pull_requests) == ["dev-terraform-plan", "prod-terraform-plan"]
    secrets = _secrets(site)
    assert f"projects/{site.ctx['cicd_project']['id']}/secrets/github-token" in secrets
    for trigger in pull_requests:
        held = grants.of(trigger.service_account)
        assert held, f"{trigger.service_account} holds nothing: the check checks nothing"
        assert [g.label() for g in held if ACCESS in grants.roles.permissions(g.role)] == []
        principal = grants.principal(trigger.service_account)
        for secret in secrets:
            need = Need(principal, ACCESS, scopes.name("secret", secret), "", "", 0)
            assert grants.matcher.satisfying(need)[0] == [], (trigger.name, secret)
        config = yaml.safe_load((site.repo / trigger.filename).read_text())
        assert "availableSecrets" not in config
        assert not [s for s in config["steps"] if s.get("secretEnv")]
        assert not [k for k in trigger.substitutions if "SECRET" in k or "TOKEN" in k]


def the_token_readers_are_exactly_the_trusted_builds(site: Site, grants: Grants) -> None:
    """Who may read the GitHub token (besides Cloud Build's own agent for the connection): the
    accounts of the triggers whose configs read it, and none of those is a pull request's, nor
    runs a config a pull request writes."""
    token = scopes.name("secret", f"projects/{site.ctx['cicd_project']['id']}/secrets/github-token")
    readers = {g.principal for g in grants.found
               if g.scope == token and ACCESS in grants.roles.permissions(g.role)
               and str(g.principal).startswith("serviceAccount:")}
    changes = _trigger_changes(site.bootstrap)
    reading = {}
    for name, trigger in site.triggers.items():
        config = yaml.safe_load((site.repo / trigger.filename).read_text())
        if config.get("availableSecrets"):
            reading[name] = trigger
            assert _event(changes[name]) != "pull_request", name
            # a config from the repository at an environment branch, or a push to one
            assert changes[name].get("git_file_source") or _event(changes[name]) == "push"
    assert readers == {grants.principal(t.service_account) for t in reading.values()}
    expected = {site.ctx["ci"]["commenter_email"],
                *(e["service_account_emails"]["ci-apply"] for e in site.ctx["environments"])}
    if site.ctx["ci"]["template_update"]["enabled"]:  # its config comes from the base branch
        expected.add(site.ctx["ci"]["template_update"]["email"])
    assert readers == {grants.principal(e) for e in expected}


# -- the chain ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def build_python(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The python image's interpreter (bare, as the image) and the environment that lets the CI
    venv each build installs see this checkout's packages (tests/ci_python.py)."""
    return ci_python.build_python(tmp_path_factory.mktemp("build-python"))


def _bindings(value: str, message: Mapping[str, Any]) -> str:
    """A payload binding `$(body.message.data.a.b)` read from the Pub/Sub push body."""
    match = re.fullmatch(r"\$\((body(?:\.[\w-]+)+)\)", value)
    if not match:
        return value
    node: Any = {"body": {"message": message}}
    for part in match.group(1).split("."):
        node = node.get(part, "") if isinstance(node, Mapping) else ""
    return str(node)


def _filter_admits(expression: str, values: Mapping[str, str]) -> bool:
    """The CEL of a trigger filter, as far as the rendered ones use it (==, &&, ||, ())."""
    python = re.sub(r"\b(_[A-Z0-9_]+)\b", lambda m: repr(values.get(m.group(1), "")),
                    expression.replace("&&", " and ").replace("||", " or "))
    assert re.fullmatch(r"[\s'\"\w.()=/-]*", python.replace(" and ", " ").replace(" or ", " ")), \
        python
    return bool(eval(python, {"__builtins__": {}}))


@dataclass
class Chain:
    site: Site
    tmp: Path
    accounts: Accounts
    github: FakeGitHub
    gcs: FakeGcs
    cloudbuild: FakeCloudBuild
    images: Any
    env: dict[str, str]
    readable: dict[str, set[str]]
    trees: dict[str, Path] = field(default_factory=dict)
    ml_started: list[BuildRecord] = field(default_factory=list)

    @property
    def cicd(self) -> str:
        return str(self.site.ctx["cicd_project"]["id"])

    @property
    def plans_bucket(self) -> str:
        return str(self.site.ctx["ci"]["plans_bucket"])

    def tree(self, commit: str, base: str, edit: Callable[[Path], object] | None = None) -> str:
        """The source tree of `commit`: `base`'s, changed by `edit`."""
        target = self.tmp / "trees" / commit
        shutil.copytree(self.trees[base], target, symlinks=True)
        if edit is not None:
            edit(target)
        self.trees[commit] = target
        return commit

    def execute(self, record: BuildRecord) -> BuildResult:
        if record.trigger.name in {e["triggers"]["pipeline"] or e["triggers"]["publish"]
                                   for e in self.site.ctx["environments"]}:
            self.ml_started.append(record)
            raise CloudBuildLocalError("an ML build: needs the ML stack and Vertex AI; not run")
        source = self.trees[record.commit_sha]
        account = record.trigger.service_account
        return run_build(
            source / record.trigger.filename, substitutions=record.substitutions,
            workspace=self.tmp / f"ws-{record.id}", source=source, images=self.images,
            secrets={f"projects/{self.cicd}/secrets/github-token": TOKEN},
            readable_secrets=sorted(self.readable.get(account, ())),
            trigger=record.runner_trigger(REPO), service_account=account,
            accounts=self.accounts, build_id=record.id, project_id=self.cicd,
            location=str(self.site.ctx["region"]), env=self.env)

    def drain(self) -> list[BuildRecord]:
        return self.cloudbuild.drain(self.execute)

    def publish(self, record: BuildRecord) -> list[BuildRecord]:
        """Cloud Build's notification of an ended build, delivered to the Pub/Sub triggers whose
        filter admits it (their builds are queued; `drain` runs them)."""
        data = record.to_json(self.cicd, str(self.site.ctx["region"]))
        data["substitutions"] = {**data["substitutions"],
                                 **(record.result.substitutions if record.result else {})}
        message = {"data": data, "attributes": {"buildId": record.id, "status": record.status}}
        started = []
        for name, after in _trigger_changes(self.site.bootstrap).items():
            if _event(after) != "pubsub":
                continue
            values = {k: _bindings(v, message) for k, v in after["substitutions"].items()}
            if not _filter_admits(after["filter"], values):
                continue
            branch = after["source_to_build"][0]["ref"].removeprefix("refs/heads/")
            head = self.github.repos[REPO].branches[branch]
            started.append(self.cloudbuild.run_trigger(name, branch=branch, commit_sha=head,
                                                       substitutions=values,
                                                       requested_by="pubsub"))
        return started

    def pull_request_plan(self, env: str, number: int, head: str, base: str) -> BuildRecord:
        trigger = self.site.env(env)["triggers"]["plan"]
        record = self.cloudbuild.run_trigger(
            trigger, branch=f"feature-{number}", commit_sha=head,
            pull_request=PullRequest(number, f"feature-{number}", base))
        assert [b.id for b in self.drain()] == [record.id]
        return record

    def merge(self, env: str, number: int, commit: str) -> BuildRecord:
        """GitHub merges; Cloud Build's push trigger of the branch runs (and what it starts)."""
        self.trees[commit] = self.trees[self.github.pull(REPO, number)["head"]["sha"]]
        self.github.merge(REPO, number, commit)
        e = self.site.env(env)
        record = self.cloudbuild.run_trigger(e["triggers"]["plan_for_apply"], branch=e["branch"],
                                             commit_sha=commit)
        self.drain()
        return record

    def stored(self, prefix: str) -> list[str]:
        return [n.removeprefix(prefix) for n in self.gcs.names(self.plans_bucket, prefix)]

    def state(self, env: str) -> dict[str, Any]:
        obj = self.gcs.get(self.site.ctx["state_bucket"], f"envs/{env}/default.tfstate")
        assert obj is not None
        data: dict[str, Any] = json.loads(obj.data)
        return data


def _grant_buckets(gcs: FakeGcs, plan: Mapping[str, Any]) -> None:
    """The plan's bucket grants on the stand-in (conditions on an object prefix, and on the
    prefix a list request asks for, as the rendered conditions state them)."""
    for rc in plan["resource_changes"]:
        if rc["type"] != "google_storage_bucket_iam_member":
            continue
        after = rc["change"]["after"]
        expression = (after.get("condition") or [{}])[0].get("expression", "")
        objects = re.search(r'resource\.name\.startsWith\("projects/_/buckets/[^/]+/objects/'
                            r'([^"]*)"\)', expression)
        listed = re.search(r'objectListPrefix", ""\)\.startsWith\("([^"]*)"\)', expression)
        assert bool(expression) == bool(objects), expression
        gcs.grant(after["member"].removeprefix("serviceAccount:"), after["role"], after["bucket"],
                  objects.group(1) if objects else "", listed.group(1) if listed else None)


def _readers(plan: Mapping[str, Any], project: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rc in plan["resource_changes"]:
        after = rc["change"]["after"]
        if rc["type"] == "google_secret_manager_secret_iam_member" and \
                after["role"] == "roles/secretmanager.secretAccessor" and after.get("secret_id"):
            out.setdefault(after["member"].removeprefix("serviceAccount:"), set()).add(
                f"projects/{project}/secrets/{after['secret_id']}")
    return out


def _runners(plan: Mapping[str, Any]) -> set[str]:
    """Who may start triggers: cloudbuild.builds.create on the CI/CD project."""
    return {rc["change"]["after"]["member"].removeprefix("serviceAccount:")
            for rc in plan["resource_changes"]
            if rc["type"] == "google_project_iam_member"
            and rc["change"]["after"]["role"] == "roles/cloudbuild.builds.editor"}


@pytest.fixture(scope="module")
def chain(site: Site, build_python: tuple[Path, dict[str, str]],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    from generator.offline import offline_providers

    tmp = tmp_path_factory.mktemp("chain")
    accounts = Accounts()
    ctx = site.ctx
    runners = _runners(site.bootstrap)
    scheduler = ctx["ci"]["template_update"]  # Cloud Scheduler starts the template update
    assert runners == {e["service_account_emails"]["ci-apply"] for e in ctx["environments"]} | (
        {scheduler["scheduler_email"]} if scheduler["enabled"] else set())
    with FakeGitHub() as github, FakeGcs(accounts) as gcs, \
            FakeCloudBuild(accounts, project_id=ctx["cicd_project"]["id"],
                           location=ctx["region"], triggers=site.triggers.values(),
                           approvers=[APPROVER], runners=runners) as cloudbuild, \
            offline_providers(tmp / "tf", reattach=True) as tf_env:
        github.add_repo(REPO, default_branch="dev", head=sha(1))
        github.push(REPO, "main", sha(1))
        github.add_token(TOKEN, "contoso-ci")
        for bucket in (ctx["state_bucket"], ctx["ci"]["plans_bucket"]):
            gcs.create_bucket(bucket)
        _grant_buckets(gcs, site.bootstrap)
        for env in ctx["environments"]:  # the bootstrap creates every environment's empty state
            gcs.put(ctx["state_bucket"], f"{env['state_prefix']}/default.tfstate",
                    json.dumps(EMPTY_STATE).encode())
        registry = FakeRegistry(tmp / "registry.json", immutable_tags=True)
        python, python_env = build_python
        env = {**tf_env, **python_env, "GITHUB_API_URL": github.url, "STORAGE_API_URL": gcs.url,
               "CLOUDBUILD_API_URL": cloudbuild.url,
               "GOOGLE_BACKEND_STORAGE_CUSTOM_ENDPOINT": f"{gcs.url}/storage/v1/"}
        flow = Chain(site, tmp, accounts, github, gcs, cloudbuild,
                     default_images(python=python, registry=registry), env,
                     _readers(site.bootstrap, ctx["cicd_project"]["id"]))
        flow.trees[sha(1)] = site.repo
        yield flow
        assert registry.pushes == []  # no build the chain ran pushed an image


def _comment(chain: Chain, number: int, marker: str) -> str:
    found = [c for c in chain.github.comments(REPO, number) if marker in c["body"]]
    assert len(found) == 1, chain.github.comments(REPO, number)
    assert found[0]["user"]["login"] == "contoso-ci"
    return str(found[0]["body"])


def _failed(record: BuildRecord) -> str:
    return record.result.log if record.result else record.failure


def pull_request_to_approved_apply(chain: Chain) -> None:
    """A pull request into prod is planned by its own code as the plan account, which reads no
    secret and writes nothing but its plan; the trusted comment build posts it. The merge is
    planned again by the apply account, which starts the approval-gated apply naming that plan
    and posts it; the approved build finds the plan stale (the state moved), refuses it and
    plans again; the next approval applies exactly that plan, then starts prod's ML build."""
    site, ctx = chain.site, chain.site.ctx
    prod = site.env("prod")
    scratch = chain.tree(sha(2), sha(1), lambda t: (t / "terraform/envs/prod/scratch.tf")
                         .write_text(SCRATCH))
    number = chain.github.open_pull(REPO, head="feature-1", base="main", head_sha=scratch)

    plan = chain.pull_request_plan("prod", number, scratch, "main")
    assert plan.status == "SUCCESS", _failed(plan)
    assert plan.trigger.service_account == prod["service_account_emails"]["ci-plan"]
    prefix = f"prod/pr/{scratch}/{plan.id}/"
    assert chain.stored(prefix) == ["plan.json", "summary.json", "summary.txt", "tfplan"]
    obj = chain.gcs.get(chain.plans_bucket, prefix + "summary.json")
    assert obj is not None and obj.writer == plan.trigger.service_account
    record = json.loads(obj.data)
    assert record["summary"]["totals"]["create"] > 1 and not record["policy"]["refused"]
    # (Google's client also reads the bucket, which object roles do not allow: tolerated, as
    # there); the state was read without a lock
    assert not [d for d in chain.gcs.denied() if d.principal == plan.trigger.service_account
                and d.permission != "storage.buckets.get"]
    assert chain.github.comments(REPO, number) == []  # the plan build posts nothing

    (comment,) = chain.publish(plan)
    assert comment.trigger.name == prod["triggers"]["plan_comment"]
    assert [b.id for b in chain.drain()] == [comment.id]
    assert comment.status == "SUCCESS", _failed(comment)
    body = _comment(chain, number, "<!-- mlopsgen:plan env=prod -->")
    assert f"### Terraform plan: `prod` at `{scratch[:12]}`" in body
    assert f"{record['summary']['totals']['create']} to create" in body
    assert chain.publish(comment) == []  # the comment build's own end starts nothing

    merged = chain.merge("prod", number, sha(3))
    assert merged.status == "SUCCESS", _failed(merged)
    (apply,) = chain.cloudbuild.of_trigger(prod["triggers"]["apply"])
    assert (apply.status, apply.requested_by) == ("PENDING", prod["service_account_emails"]
                                                  ["ci-apply"])
    uri = f"gs://{chain.plans_bucket}/prod/merge/{sha(3)}/{merged.id}/"
    stored = chain.gcs.get(chain.plans_bucket, uri.split("/", 3)[3] + "tfplan")
    assert stored is not None
    assert apply.substitutions["_PLAN_URI"] == uri
    assert apply.substitutions["_PLAN_SHA256"] == hashlib.sha256(stored.data).hexdigest()
    assert apply.substitutions["_PLAN_SUMMARY"].startswith(
        f"{record['summary']['totals']['create']} create, 0 update, 0 delete")
    body = _comment(chain, number, f"<!-- mlopsgen:merge-plan env=prod build={merged.id} -->")
    assert uri in body and "waits for an approver" in body and apply.id in body

    # an apply outside this chain moves prod's state before anyone approves
    state = chain.state("prod")
    chain.gcs.put(ctx["state_bucket"], "envs/prod/default.tfstate",
                  json.dumps({**state, "serial": state["serial"] + 1}).encode())
    chain.cloudbuild.decide(apply.id, APPROVER, approve=True)
    chain.drain()
    assert apply.status == "FAILURE" and apply.result is not None
    assert "stale plan: the state of 'prod' changed since the plan" in apply.result.log
    assert apply.result.step("replan").exit_code == 3
    replans = chain.cloudbuild.of_trigger(prod["triggers"]["plan_for_apply"])
    assert [r.requested_by for r in replans] == ["github", prod["service_account_emails"]
                                                 ["ci-apply"]]
    assert replans[1].status == "SUCCESS" and replans[1].commit_sha == sha(3)
    assert chain.state("prod")["serial"] == state["serial"] + 1  # nothing applied
    assert chain.ml_started == []

    again = chain.cloudbuild.of_trigger(prod["triggers"]["apply"])[1]
    assert again.status == "PENDING"
    assert again.substitutions["_PLAN_URI"] == \
        f"gs://{chain.plans_bucket}/prod/merge/{sha(3)}/{replans[1].id}/"
    chain.cloudbuild.decide(again.id, APPROVER, approve=True)
    chain.drain()
    assert again.status == "SUCCESS", _failed(again)
    assert again.result is not None and again.result.step("replan").log.strip() == ""
    applied = chain.state("prod")
    assert applied["serial"] > state["serial"] + 1
    assert any(r["type"] == "google_storage_bucket" and r["name"] == "scratch"
               for r in applied["resources"])
    (ml,) = chain.ml_started
    assert (ml.trigger.name, ml.commit_sha) == (prod["triggers"]["publish"], sha(3))
    assert ml.requested_by == prod["service_account_emails"]["ci-apply"]
    assert again.started is not None and ml.created > again.started


def protected_destroys_need_a_named_allowance(chain: Chain) -> None:
    """Deleting the bucket prod now holds is refused by the pull request's plan and, were it
    merged anyway, by the merge build, which then starts no apply. With the allowance file
    naming it, the plan passes and the merge applies it; left in place, the allowance refuses
    the next plan, which no longer destroys it."""
    prod = chain.site.env("prod")
    applies = len(chain.cloudbuild.of_trigger(prod["triggers"]["apply"]))
    removed = chain.tree(sha(4), sha(3), lambda t: (t / "terraform/envs/prod/scratch.tf")
                         .unlink())
    number = chain.github.open_pull(REPO, head="feature-4", base="main", head_sha=removed)
    plan = chain.pull_request_plan("prod", number, removed, "main")
    assert plan.status == "FAILURE" and plan.result is not None
    assert plan.result.step("plan").exit_code == 3
    assert "REFUSED: " in plan.result.log and "google_storage_bucket.scratch" in plan.result.log
    chain.publish(plan)
    chain.drain()
    assert "refused by the policy gate" in _comment(chain, number,
                                                    "<!-- mlopsgen:plan env=prod -->")

    merged = chain.merge("prod", number, sha(5))  # an administrator merged it regardless
    assert merged.status == "FAILURE" and merged.result is not None
    assert merged.result.step("request-apply").exit_code == 3
    assert len(chain.cloudbuild.of_trigger(prod["triggers"]["apply"])) == applies
    assert "Nothing is applied" in _comment(
        chain, number, f"<!-- mlopsgen:merge-plan env=prod build={merged.id} -->")

    allowed = chain.tree(sha(6), sha(5), lambda t: (
        t / "terraform/envs/prod/allow-destroy.txt").write_text(
        "google_storage_bucket.scratch  # the test's scratch bucket, it holds nothing\n"))
    number = chain.github.open_pull(REPO, head="feature-6", base="main", head_sha=allowed)
    plan = chain.pull_request_plan("prod", number, allowed, "main")
    assert plan.status == "SUCCESS", _failed(plan)
    assert "ALLOWED: " in plan.result.log if plan.result else False
    merged = chain.merge("prod", number, sha(7))
    assert merged.status == "SUCCESS", _failed(merged)
    apply = chain.cloudbuild.of_trigger(prod["triggers"]["apply"])[-1]
    assert "allowed destroys: google_storage_bucket.scratch" in apply.substitutions["_PLAN_SUMMARY"]
    chain.cloudbuild.decide(apply.id, APPROVER, approve=True)
    chain.drain()
    assert apply.status == "SUCCESS", _failed(apply)
    assert not any(r["name"] == "scratch" for r in chain.state("prod")["resources"])

    number = chain.github.open_pull(REPO, head="feature-8", base="main", head_sha=sha(7))
    stale = chain.pull_request_plan("prod", number, sha(7), "main")
    assert stale.status == "FAILURE" and stale.result is not None
    assert "allows what this plan does not destroy: `google_storage_bucket.scratch`" in \
        stale.result.log


def the_first_environment_runs_its_pipeline_after_its_apply(chain: Chain) -> None:
    """A push to dev: planned, applied without approval (the first environment), and only then
    is dev's ML pipeline started, once, for that commit; no build pushed an image."""
    dev = chain.site.env("dev")
    started = len(chain.ml_started)
    chain.trees[sha(9)] = chain.trees[sha(1)]
    number = chain.github.open_pull(REPO, head="feature-9", base="dev", head_sha=sha(9))
    merged = chain.merge("dev", number, sha(10))
    assert merged.status == "SUCCESS", _failed(merged)
    (apply,) = chain.cloudbuild.of_trigger(dev["triggers"]["apply"])
    assert apply.approval is None and apply.status == "SUCCESS", _failed(apply)
    (ml,) = chain.ml_started[started:]
    assert (ml.trigger.name, ml.commit_sha) == (dev["triggers"]["pipeline"], sha(10))
    assert apply.result is not None
    steps = [s.id for s in apply.result.steps]
    assert steps.index("apply") < steps.index("start-ml")
    assert apply.started is not None and apply.finished is not None
    assert apply.started < ml.created < apply.finished
    assert len(chain.cloudbuild.of_trigger(dev["triggers"]["pipeline"])) == 1
    assert chain.state("dev")["serial"] > EMPTY_STATE["serial"]


def test_ci_end_to_end(site: Site, grants: Grants, chain: Chain) -> None:
    """One test, so one worker holds the render, its plans and the fakes: the parts below run in
    this order, each on what the previous left (prod's state, the branches, the plans)."""
    pull_request_builds_can_read_no_secret(site, grants)
    the_token_readers_are_exactly_the_trusted_builds(site, grants)
    pull_request_to_approved_apply(chain)
    protected_destroys_need_a_named_allowance(chain)
    the_first_environment_runs_its_pipeline_after_its_apply(chain)
