"""CI/CD in rendered client repos: Cloud Build triggers and configs, GitHub protection, CODEOWNERS,
the promotion guide and the client-repo scripts, for several answer sets in both layouts.

Renders with real copier, parses the Terraform with python-hcl2 and the Cloud Build configs with
PyYAML, and evaluates the Terraform expressions that decide branch filters and protection with
the real terraform binary (no provider needed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from generator import model

from .conftest import ROOT, load_example

FULL = load_example("full")
MINIMAL = load_example("minimal")
VARIANTS: dict[str, dict[str, Any]] = {
    "full": FULL,
    "full-single-project": {**FULL, "project_layout": "single_project"},
    "minimal": MINIMAL,
    "two-envs-single-project": {**MINIMAL, "environments": ["dev", "prod"],
                                "features": ["workbench"]},
    "five-envs-custom-branches-git": {
        **FULL,
        "environments": ["d1", "qa", "uat", "pre", "prod"],
        "environment_branches": {"d1": "develop", "uat": "release.uat", "prod": "production"},
        "module_source": "git",
        "module_git_url": "https://github.com/acme/mlops-foundations.git",
        "github_create_repo": True,
        "github_app_installation_id": "4242",
    },
}
# Built-in substitutions Cloud Build sets for every build of a repository trigger, and the ones
# it sets only for pull-request triggers.
BUILTINS = {"PROJECT_ID", "PROJECT_NUMBER", "BUILD_ID", "LOCATION", "TRIGGER_NAME", "COMMIT_SHA",
            "REVISION_ID", "SHORT_SHA", "REPO_NAME", "REPO_FULL_NAME", "BRANCH_NAME", "TAG_NAME",
            "REF_NAME", "TRIGGER_BUILD_CONFIG_PATH", "SERVICE_ACCOUNT_EMAIL", "SERVICE_ACCOUNT"}
PR_BUILTINS = {"_HEAD_BRANCH", "_BASE_BRANCH", "_HEAD_REPO_URL", "_PR_NUMBER"}
TF_ENV = {"TF_CLI_CONFIG_FILE": "/dev/null", "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1",
          "PATH": "/usr/local/bin:/usr/bin:/bin"}
REF = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z_][A-Za-z0-9_]*))")


# --- helpers ---------------------------------------------------------------------------------


def unquote(value: Any) -> Any:
    """python-hcl2 keeps HCL string quotes (and quoted labels); remove them everywhere."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value[1:-1]
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items()}
    return value


def parse_tf(path: Path) -> dict[str, Any]:
    parsed: dict[str, Any] = unquote(hcl2.loads(path.read_text()))
    return parsed


def blocks(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    """{name: body} of `module`/`output`/... blocks, or {(type, name): body} of resources."""
    out: dict[Any, Any] = {}
    for item in doc.get(kind, []):
        for key, body in item.items():
            if kind in ("resource", "data"):
                for name, inner in body.items():
                    out[(key, name)] = inner
            else:
                out[key] = body
    return out


def expr(value: str) -> str:
    """The Terraform expression inside python-hcl2's "${...}" wrapper."""
    assert value.startswith("${") and value.endswith("}"), value
    return value[2:-1]


def tf_eval(tmp: Path, locals_: dict[str, Any], expression: str) -> Any:
    """Evaluate `expression` with real terraform, `local.<name>` bound to the given values."""
    tmp.mkdir(parents=True, exist_ok=True)
    lines = ["locals {"]
    for name, value in locals_.items():
        lines.append(f"  {name} = jsondecode({json.dumps(json.dumps(value))})")
    lines.append("}")
    lines.append(f"output \"v\" {{\n  value = {expression}\n}}")
    (tmp / "main.tf").write_text("\n".join(lines) + "\n")
    env_run = TF_ENV
    for args in (["init", "-input=false", "-no-color"],
                 ["apply", "-auto-approve", "-input=false", "-no-color"]):
        done = subprocess.run(["terraform", *args], cwd=tmp, capture_output=True, text=True,
                              env=env_run, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    out = subprocess.run(["terraform", "output", "-json", "v"], cwd=tmp, capture_output=True,
                         text=True, env=env_run, check=True)
    return json.loads(out.stdout)


def expected_branch(answers: dict[str, Any], env: str) -> str:
    envs = answers["environments"]
    overrides = answers.get("environment_branches") or {}
    return str(overrides.get(env, "main" if env == envs[-1] else env))


class Render:
    def __init__(self, answers: dict[str, Any], root: Path):
        self.answers = answers
        self.root = root
        self.context = model.build_context(model.validate_answers(answers))
        modules = root / "terraform" / "modules"
        self.modules = modules if modules.is_dir() else ROOT / "terraform" / "modules"
        self.bootstrap = root / "terraform" / "bootstrap"
        self.cicd = parse_tf(self.bootstrap / "cicd.tf")
        self.github = parse_tf(self.bootstrap / "github.tf")
        self.triggers = {
            key: body for key, body in
            blocks(parse_tf(self.modules / "cloudbuild_triggers" / "main.tf"), "resource").items()
            if key[0] == "google_cloudbuild_trigger"
        }
        self.triggers_doc = parse_tf(self.modules / "cloudbuild_triggers" / "main.tf")

    @property
    def environments(self) -> dict[str, Any]:
        locals_ = {}
        for block in self.cicd["locals"]:
            locals_.update(block)
        envs: dict[str, Any] = locals_["cicd_environments"]
        return envs

    def module_local(self, name: str) -> Any:
        for block in self.triggers_doc["locals"]:
            if name in block:
                return block[name]
        raise KeyError(name)


@pytest.fixture(scope="module", params=list(VARIANTS), ids=list(VARIANTS))
def render(request: pytest.FixtureRequest, render_repo: Any) -> Render:
    answers = VARIANTS[request.param]
    return Render(answers, render_repo(answers))


# --- triggers and Cloud Build configs --------------------------------------------------------


def test_one_trigger_set_per_environment_in_promotion_order(render: Render) -> None:
    envs = render.answers["environments"]
    got = render.environments
    assert list(got) == envs
    for i, env in enumerate(envs):
        e = got[env]
        assert e["branch"] == expected_branch(render.answers, env)
        assert e["next_environment"] == (envs[i + 1] if i + 1 < len(envs) else None)
        assert e["next_branch"] == (expected_branch(render.answers, envs[i + 1])
                                    if i + 1 < len(envs) else None)
        # approval exactly on the environments after the first
        assert e["approval_required"] is (i > 0)
        assert e["run_pipeline"] is (i == 0)
        assert e["is_last"] is (i == len(envs) - 1)
        assert e["state_prefix"] == f"envs/{env}"
        assert (e["triggers"]["rollback"] is None) == (i == len(envs) - 1)
        assert (e["triggers"]["pipeline"] is None) == (i != 0)
        assert (e["triggers"]["publish"] is None) == (i == 0)
    names = [n for e in got.values() for n in e["triggers"].values() if n]
    assert len(names) == len(set(names)), "trigger names must be unique in the project"
    assert all(re.fullmatch(r"[A-Za-z0-9][-A-Za-z0-9]{0,62}[A-Za-z0-9]", n) for n in names)


# How each trigger starts: a repository event, Cloud Build's notifications, a webhook, or only
# another build (manual triggers: no event at all).
EVENTS = {"plan": "pull_request", "plan_comment": "pubsub", "plan_for_apply": "push",
          "apply": "manual", "pipeline": "manual", "publish": "manual", "rollback": "webhook"}


def _event(body: dict[str, Any]) -> str:
    events = body.get("repository_event_config") or []
    kinds = [k for k in ("pull_request", "push") for e in events if e.get(k)]
    kinds += [k.removesuffix("_config") for k in ("pubsub_config", "webhook_config") if body.get(k)]
    assert len(kinds) <= 1, kinds
    return kinds[0] if kinds else "manual"


def test_every_trigger_has_service_account_substitutions_and_an_existing_config(
    render: Render,
) -> None:
    assert {name for (_, name) in render.triggers} == set(EVENTS)
    for (rtype, name), body in render.triggers.items():
        assert rtype == "google_cloudbuild_trigger"
        assert body["location"] == "${var.region}", "triggers are regional"
        assert body["service_account"].startswith("${local.sa_prefix}"), name
        assert "substitutions" in body, name
        config = body.get("filename") or body["git_file_source"][0]["path"]
        assert (render.root / config).is_file(), f"trigger {name}: {config} is not in the render"
        assert _event(body) == EVENTS[name], name
        events = body.get("repository_event_config") or []
        if events:
            assert events[0]["repository"] == "${var.repository_id}" and "filename" in body
        else:
            # a build config from the environment's branch, never from a pull request
            source = body["git_file_source"][0]
            assert body["source_to_build"][0]["ref"] == "refs/heads/${each.value.branch}"
            assert source["revision"] == "refs/heads/${each.value.branch}", name


def test_pull_request_builds_read_no_secret(render: Render) -> None:
    """The plan trigger runs the pull request's own config as the plan account: the config
    declares no secret, the trigger names none, and that account is no token reader."""
    plan = render.triggers[("google_cloudbuild_trigger", "plan")]
    assert _event(plan) == "pull_request"
    assert plan["service_account"] == "${local.sa_prefix}${each.value.plan_service_account}"
    doc = yaml.safe_load((render.root / plan["filename"]).read_text())
    assert "availableSecrets" not in doc and "secrets" not in doc
    assert not any(step.get("secretEnv") for step in doc["steps"])
    assert isinstance(plan["substitutions"], dict)  # nothing merged in
    assert not [k for k in plan["substitutions"] if "SECRET" in k or "TOKEN" in k]
    readers = expr(render.module_local("token_readers"))
    assert "plan_service_account" not in readers
    assert "var.commenter_service_account" in readers and "env.apply_service_account" in readers
    # every config that reads a secret is run by a trigger whose account reads the token and
    # whose config no pull request writes
    for (_, name), body in render.triggers.items():
        cfg = yaml.safe_load((render.root / (body.get("filename") or
                                             body["git_file_source"][0]["path"])).read_text())
        if cfg.get("availableSecrets"):
            assert _event(body) != "pull_request", name
            assert body["service_account"] in (
                "${local.sa_prefix}${each.value.apply_service_account}",
                "${local.sa_prefix}${var.commenter_service_account}"), name


def test_only_the_apply_build_starts_the_ml_build(render: Render) -> None:
    """One chain per push: the ML builds' triggers have no event; the apply build starts the
    environment's one (the pipeline where it runs, else the template publishing) after its
    apply step, and only those configs build and push the trainer image."""
    apply = render.triggers[("google_cloudbuild_trigger", "apply")]
    for name in ("pipeline", "publish"):
        assert _event(render.triggers[("google_cloudbuild_trigger", name)]) == "manual"
    assert re.search(r"_ML_TRIGGER\s*=\s*each\.value\.run_pipeline \? "
                     r"each\.value\.triggers\.pipeline : each\.value\.triggers\.publish",
                     expr(apply["substitutions"]))
    doc = yaml.safe_load((render.root / "cloudbuild/terraform-apply.yaml").read_text())
    ids = [s["id"] for s in doc["steps"]]
    assert ids.index("apply") < ids.index("start-ml")
    pushes = sorted(p.name for p in (render.root / "cloudbuild").glob("*.yaml")
                    if "docker push" in p.read_text())
    assert pushes == ["ml-pipeline.yaml", "ml-publish.yaml"]
    for env in render.context["environments"]:
        ml = [t for t in (env["triggers"]["pipeline"], env["triggers"]["publish"]) if t]
        assert len(ml) == 1, env["name"]


def test_no_build_applies_anything_but_a_saved_gated_plan(render: Render) -> None:
    """terraform apply runs only through `mlopsgen apply` of a downloaded, checked plan; no
    config runs terraform apply or plan itself."""
    direct = re.compile(r"\bterraform\b(\s+-\S+)*\s+(apply|plan|destroy|import)\b")
    for path in sorted((render.root / "cloudbuild").glob("*.yaml")):
        if path.name == "iam-needs.yaml":
            continue
        for step in yaml.safe_load(path.read_text())["steps"]:
            run = " ".join([step.get("entrypoint", ""), *map(str, step.get("args", [])),
                            step.get("script", "")])
            assert not direct.search(run), (path.name, step.get("id"))
            assert "-auto-approve" not in run, (path.name, step.get("id"))
            if step["name"].startswith("hashicorp/terraform"):
                assert not {"apply", "plan", "destroy", "import"} & set(step.get("args", []))
    script = (render.root / "scripts/ci_plan.py").read_text()
    assert script.count('mlopsgen("apply"') == 1
    apply_step = script[script.index("def _apply("):script.index("def _run_trigger(")]
    assert apply_step.index("file_sha256") < apply_step.index('mlopsgen("apply"')


def test_apply_approval_follows_the_environment(render: Render) -> None:
    apply = render.triggers[("google_cloudbuild_trigger", "apply")]
    assert apply["approval_config"][0]["approval_required"] == "${each.value.approval_required}"
    cicd_module = blocks(render.cicd, "module")["cloudbuild_triggers"]
    assert "approval_required = env.approval_required" in expr(cicd_module["environments"])
    for body in render.triggers.values():
        if body is not apply:
            assert "approval_config" not in body


def test_promotion_after_apply_is_the_models(render: Render) -> None:
    """The model decides which apply builds open the promotion pull request; the bootstrap
    passes its decision to the triggers module, which prints it as _PROMOTE."""
    for env in render.context["environments"]:
        assert render.environments[env["name"]]["promote_after_apply"] is env["promote_after_apply"]
    cicd_module = blocks(render.cicd, "module")["cloudbuild_triggers"]
    assert re.search(r"\bpromote_after_apply\s*=\s*env\.promote_after_apply\b",
                     expr(cicd_module["environments"]))
    apply = expr(render.triggers[("google_cloudbuild_trigger", "apply")]["substitutions"])
    assert re.search(r'\b_PROMOTE\s*=\s*each\.value\.promote_after_apply \? "true" : "false"',
                     apply)


def _promote_guards(path: Path) -> list[tuple[str, str]]:
    """(innermost Jinja `if` test, text) for every piece of template text that runs
    scripts/promote.py; test '' when no `if` encloses it."""
    from copier._jinja_ext import YieldExtension
    from jinja2 import Environment, nodes

    env = Environment(extensions=[YieldExtension])
    found: list[tuple[str, str]] = []

    def walk(node: nodes.Node, test: str) -> None:
        if isinstance(node, nodes.TemplateData) and "promote.py" in node.data:
            found.append((test, node.data))
        for child in node.iter_child_nodes():
            inner = test
            if isinstance(node, nodes.If) and any(child is b for b in node.body):
                inner = repr(node.test)
            elif isinstance(node, nodes.If) and any(child is b for b in node.else_):
                inner = f"not {node.test!r}"
            walk(child, inner)

    walk(env.parse(path.read_text()), "")
    return found


def test_promotion_is_decided_once_in_the_model() -> None:
    """A template that runs or documents scripts/promote.py under a Jinja condition tests the
    model's promote_after_apply / promote_after_pipeline, never the environment's position."""
    templates = [p for p in (ROOT / "templates").rglob("*.jinja") if p.is_file()]
    guarded = [(path, test, text) for path in templates
               for test, text in _promote_guards(path) if test]
    assert guarded, "no template guards scripts/promote.py: the check checks nothing"
    for path, test, _ in guarded:
        assert re.search(r"attr='promote_after_(apply|pipeline)'", test), (
            f"{path.relative_to(ROOT)}: promote.py under {test}"
        )


def _trigger_substitution_keys(render: Render, body: dict[str, Any]) -> set[str]:
    if isinstance(body["substitutions"], dict):  # a literal map
        return {k for k in body["substitutions"] if k.startswith("_")}
    text = expr(body["substitutions"])
    keys = set(re.findall(r"\b(_[A-Z0-9_]+)\s*=", text))
    for name in re.findall(r"\blocal\.(\w+_substitutions)\b", text):
        mapping = render.module_local(name)
        assert isinstance(mapping, dict)
        keys |= {k for k in mapping if k.startswith("_")}
    return keys


def test_every_substitution_is_declared_and_every_declared_one_used(render: Render) -> None:
    for (_, name), body in render.triggers.items():
        config_path = render.root / (body.get("filename") or body["git_file_source"][0]["path"])
        doc = yaml.safe_load(config_path.read_text())
        in_file = set((doc.get("substitutions") or {}).keys())
        by_trigger = _trigger_substitution_keys(render, body)
        rest = json.dumps({k: v for k, v in doc.items() if k != "substitutions"})
        used = {a or b for a, b in REF.findall(rest.replace("$$", ""))}
        is_pr = bool((body.get("repository_event_config") or [{}])[0].get("pull_request"))
        allowed_builtins = BUILTINS | (PR_BUILTINS if is_pr else set())
        user = {u for u in used if u not in allowed_builtins}
        assert all(u.startswith("_") for u in user), (name, user - in_file - by_trigger)
        assert user <= in_file | by_trigger, f"{config_path.name}: undeclared {user - in_file}"
        # substitutionOption MUST_MATCH (the default) fails a build that defines an unused one
        if doc.get("options", {}).get("substitutionOption", "MUST_MATCH") == "MUST_MATCH":
            assert by_trigger <= user, f"{name}: unused {by_trigger - user}"
            assert in_file <= user, f"{config_path.name}: unused {in_file - user}"
        assert doc["options"]["logging"] == "CLOUD_LOGGING_ONLY"
        for step in doc["steps"]:
            image = step["name"]
            assert re.search(r":\d+(\.\d+)+", image), f"{config_path.name}: unpinned {image}"
            for arg in step.get("args", []):
                # shell variables must be escaped ($$VAR) or Cloud Build substitutes them
                for match in REF.findall(str(arg).replace("$$", "")):
                    var = match[0] or match[1]
                    assert var in allowed_builtins or var.startswith("_"), (name, arg)


def test_rollback_webhook_filter_watches_the_promotion_pull_request(render: Render) -> None:
    rollback = render.triggers[("google_cloudbuild_trigger", "rollback")]
    assert rollback["filter"] == (
        '_ACTION == "closed" && _MERGED == "false" && _HEAD_REF == "${each.value.branch}" '
        '&& _BASE_REF == "${each.value.next_branch}"')
    subs = expr(rollback["substitutions"])
    for key, path in {"_ACTION": "body.action", "_MERGED": "body.pull_request.merged",
                      "_HEAD_REF": "body.pull_request.head.ref",
                      "_BASE_REF": "body.pull_request.base.ref",
                      "_CANDIDATE_SHA": "body.pull_request.head.sha"}.items():
        assert f'{key} = "$({path})"' in subs
    webhooks = expr(blocks(render.github, "module")["github_repository"]["webhooks"])
    assert "local.rollback_webhook_urls" in webhooks and '"pull_request"' in webhooks


@pytest.mark.terraform
def test_branch_regexes_match_exactly_the_configured_branches(render: Render,
                                                              tmp_path: Path) -> None:
    for (_, name), body in render.triggers.items():
        for event in body.get("repository_event_config", []):
            for kind in ("pull_request", "push"):
                for block in event.get(kind, []):
                    assert block["branch"] == "${local.branch_regex[each.key]}", name
    expression = expr(render.module_local("branch_regex")).replace("var.environments",
                                                                   "local.environments")
    envs = {k: {"branch": v["branch"]} for k, v in render.environments.items()}
    regexes = tf_eval(tmp_path, {"environments": envs}, expression)
    branches = [v["branch"] for v in envs.values()]
    for env, regex in regexes.items():
        branch = envs[env]["branch"]
        assert re.fullmatch(regex, branch) or re.search(regex, branch)
        for other in {*branches, branch + "x", "x" + branch, branch.replace(".", "x"),
                      f"feature/{branch}"} - {branch}:
            assert not re.search(regex, other), (regex, other)


# --- GitHub ----------------------------------------------------------------------------------


@pytest.mark.terraform
def test_every_environment_branch_is_protected_with_its_plan_check(render: Render,
                                                                   tmp_path: Path) -> None:
    gh = blocks(render.github, "module")["github_repository"]
    protected = tf_eval(tmp_path, {"cicd_environments": render.environments},
                        expr(gh["environment_branches"]))
    cicd_project = render.context["cicd_project"]["id"]
    envs = render.answers["environments"]
    assert set(protected) == {expected_branch(render.answers, e) for e in envs}
    plan = render.triggers[("google_cloudbuild_trigger", "plan")]
    assert plan["name"] == "${each.value.triggers.plan}"
    assert expr(blocks(render.cicd, "module")["cloudbuild_triggers"]["environments"]).count(
        "triggers = env.triggers") == 1
    for i, env in enumerate(envs):
        rule = protected[expected_branch(render.answers, env)]
        trigger_name = render.environments[env]["triggers"]["plan"]
        # the Cloud Build GitHub App names a check "<trigger name> (<project id>)"
        assert rule["required_checks"] == [f"{trigger_name} ({cicd_project})"]
        assert rule["enforce_admins"] is (i == len(envs) - 1)
    outputs = blocks(parse_tf(render.modules / "cloudbuild_triggers" / "outputs.tf"), "output")
    assert '=> "${t.name} (${var.project_id})"' in outputs["plan_check_names"]["value"]


def test_protection_rule_settings(render: Render) -> None:
    resources = blocks(parse_tf(render.modules / "github_repository" / "main.tf"), "resource")
    rule = resources[("github_branch_protection", "environment")]
    assert rule["for_each"] == "${var.protect_branches ? var.environment_branches : {}}"
    assert rule["pattern"] == "${each.key}"
    assert rule["allows_force_pushes"] is False and rule["allows_deletions"] is False
    assert rule["enforce_admins"] == "${each.value.enforce_admins}"
    reviews = rule["required_pull_request_reviews"][0]
    assert reviews["require_code_owner_reviews"] is True
    assert reviews["dismiss_stale_reviews"] is True
    assert reviews["required_approving_review_count"] == "${var.required_approving_review_count}"
    checks = rule["required_status_checks"][0]
    assert checks["contexts"] == "${each.value.required_checks}"
    assert checks["strict"] == "${var.require_up_to_date_branches}"
    variables = blocks(parse_tf(render.modules / "github_repository" / "variables.tf"),
                       "variable")
    assert variables["required_approving_review_count"]["default"] >= 1
    gh = blocks(render.github, "module")["github_repository"]
    assert gh["default_branch"] == expected_branch(render.answers,
                                                   render.answers["environments"][0])
    assert gh["protect_branches"] == "${local.cicd_connected}"
    provider = render.github["provider"][0]["github"]
    assert set(provider) - {"__is_block__"} == {"owner"}, "the token comes from GITHUB_TOKEN"
    imports = render.github.get("import", [])
    if render.answers.get("github_create_repo"):
        assert imports == []
    else:
        assert imports[0]["to"] == "${module.github_repository.github_repository.this}"
        assert imports[0]["id"] == render.answers["github_repo"]


def test_codeowners_lists_the_approvers(render: Render) -> None:
    lines = [ln for ln in (render.root / ".github" / "CODEOWNERS").read_text().splitlines()
             if ln and not ln.startswith("#")]
    assert lines == ["* " + " ".join(render.answers["approvers"])]
    assert (render.root / ".github" / "pull_request_template.md").is_file()


def test_connection_and_installation_id(render: Render) -> None:
    variables = blocks(render.cicd, "variable")
    default = variables["github_app_installation_id"]["default"]
    given = render.answers.get("github_app_installation_id")
    assert default == (int(given) if given else None)
    connection = blocks(render.cicd, "module")["cloudbuild_github_connection"]
    assert connection["count"] == "${local.cicd_connected ? 1 : 0}"
    assert connection["oauth_token_secret_id"] == \
        "${google_secret_manager_secret.github_token.id}"
    main = blocks(parse_tf(render.modules / "cloudbuild_github_connection" / "main.tf"),
                  "resource")
    grant = main[("google_secret_manager_secret_iam_member", "service_agent_token_access")]
    assert grant["role"] == "roles/secretmanager.secretAccessor"
    assert "gcp-sa-cloudbuild.iam.gserviceaccount.com" in (
        render.modules / "cloudbuild_github_connection" / "main.tf").read_text()


def test_workload_identity_pins_the_repository(render: Render) -> None:
    wif = blocks(render.cicd, "module")["workload_identity"]
    repo = f"{render.answers['github_owner']}/{render.answers['github_repo']}"
    assert wif["github_subjects"][0] == f"repo:{repo}:pull_request"
    assert {s.rsplit("/", 1)[-1] if "refs/heads/" not in s else s.split("refs/heads/")[1]
            for s in wif["github_subjects"][1:]} == \
        {expected_branch(render.answers, e) for e in render.answers["environments"]}
    main = (render.modules / "workload_identity" / "main.tf").read_text()
    assert "assertion.repository ==" in main and "roles/iam.workloadIdentityUser" in main
    assert "google_service_account_key" not in main


# --- docs, scripts ---------------------------------------------------------------------------


def test_promotion_guide_matches_the_render(render: Render) -> None:
    doc = (render.root / "docs" / "promotion.md").read_text()
    cicd_project = render.context["cicd_project"]["id"]
    for env in render.environments.values():
        assert f"`{env['plan_check']}`" in doc
        assert f"`{env['branch']}`" in doc
    assert "gcloud secrets versions add github-token" in doc
    assert f"--project={cicd_project}" in doc
    assert "https://github.com/apps/google-cloud-build" in doc
    if len(render.answers["environments"]) > 1:
        assert "gcloud builds approve" in doc and "without merging" in doc
    # the flow as built: the diagram, every trigger of every environment, the allowance file
    readme = (render.root / "README.md").read_text()
    for text in (doc, readme):
        assert "```mermaid\nflowchart LR\n" in text
    for env in render.context["environments"]:
        for name in filter(None, env["triggers"].values()):
            assert f"`{name}`" in doc, name
    assert "`terraform/envs/<env>/allow-destroy.txt`" in doc
    assert f"`{render.context['ci']['plans_bucket']}`" in doc


def test_scripts_read_the_rendered_config(render: Render) -> None:
    code = textwrap.dedent("""
        import json, sys
        sys.path.insert(0, "scripts")
        import envconfig
        print(json.dumps({e: envconfig.load(e)["buckets"]["pipeline_root"] for e in sys.argv[1:]}))
    """)
    done = subprocess.run([sys.executable, "-c", code, *render.answers["environments"]],
                          cwd=render.root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got == {e["name"]: e["buckets"]["pipeline_root"]
                   for e in render.context["environments"]}


@pytest.mark.terraform
def test_ci_terraform_is_formatted(render: Render) -> None:
    targets = [render.bootstrap / "cicd.tf", render.bootstrap / "github.tf"]
    targets += [render.modules / m for m in ("cloudbuild_github_connection",
                                             "cloudbuild_triggers", "github_repository",
                                             "workload_identity")]
    done = subprocess.run(["terraform", "fmt", "-check", "-recursive", *map(str, targets)],
                          capture_output=True, text=True, check=False,
                          env=TF_ENV)
    assert done.returncode == 0, done.stdout + done.stderr


def test_client_script_tests_pass(render_repo: Any) -> None:
    root = render_repo(FULL)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/scripts"], cwd=root, capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", done.stdout)


@pytest.mark.terraform
@pytest.mark.slow
def test_connected_bootstrap_plans_the_ci_resources(render_repo: Any) -> None:
    """`mlopsgen validate` (real terraform, offline stand-in providers) plans the bootstrap root
    with the connection, every trigger, the protection rules and the rollback webhooks once the
    GitHub App installation id is known."""
    answers = {**FULL, "github_app_installation_id": "4242"}
    root = render_repo(answers)
    done = subprocess.run(
        [sys.executable, "-c", "from generator.cli import main; main()", "validate", "--json",
         str(root)], cwd=ROOT, capture_output=True, text=True, check=False, timeout=1200)
    report = json.loads(done.stdout)
    bootstrap = next(r for r in report["roots"] if r["root"] == "terraform/bootstrap")
    assert bootstrap["ok"], bootstrap["problems"]
    envs = answers["environments"]
    added = bootstrap["to_add"]
    # plan, plan_comment, plan_for_apply, apply per environment; the first one's pipeline,
    # the others' publish; a rollback for each but the last; the scheduled template update
    # and, with model_monitoring, each environment's retrain trigger
    retrain = len(envs) if "model_monitoring" in answers["features"] else 0
    assert added["google_cloudbuild_trigger"] == 5 * len(envs) + (len(envs) - 1) + 1 + retrain
    # the token's readers: the commenter, each apply account and the template-update build
    # (+ the Cloud Build agent on the token and on the webhook secret)
    assert added["google_secret_manager_secret_iam_member"] == 1 + len(envs) + 1 + 2
    assert added["google_cloud_scheduler_job"] == 1
    assert added["google_pubsub_topic"] == 1 + retrain  # cloud-builds, the retrain topics
    assert added["google_cloudbuildv2_connection"] == 1
    assert added["google_cloudbuildv2_repository"] == 1
    assert added["github_branch_protection"] == len(envs)
    assert added["github_repository_webhook"] == len(envs) - 1
    assert added["github_branch"] == len([e for e in envs if expected_branch(answers, e) != "main"])
    assert added["google_iam_workload_identity_pool_provider"] == 1
