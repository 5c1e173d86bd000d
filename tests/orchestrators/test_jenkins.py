"""The Jenkinsfile rendered with `orchestrators: [jenkins]` runs the Cloud Build steps: one plan
stage per environment on its pull requests (no secret), one apply stage per environment on its
branch (the merged tree planned, an `input` approval that shows that plan exactly on the
environments after the first, then exactly that plan applied), the ML pipeline on the first
environment's branch; it calls only scripts and files that exist in the render, the same ones the
Cloud Build configs call, and authenticates through Workload Identity Federation."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import model

from ..conftest import load_example

VARIANTS: dict[str, dict[str, Any]] = {
    "full": {**load_example("full"), "orchestrators": ["jenkins"]},
    "two-envs-custom-branches": {
        **load_example("minimal"),
        "environments": ["qa", "live"],
        "environment_branches": {"qa": "develop", "live": "release/live"},
        "orchestrators": ["airflow", "jenkins"],
    },
    "single-env": {**load_example("minimal"), "environments": ["prod"],
                   "orchestrators": ["jenkins"]},
}
STAGE_RE = re.compile(r"^    stage\('([^']+)'\) \{$", re.MULTILINE)
SCRIPT_RE = re.compile(r"\bscripts/[\w/.-]+\.py\b")
MODULE_RE = re.compile(r"-m (pipelines\.\w+)")
# what Jenkins mirrors (not the comment build: Jenkins posts no pull request plan)
CLOUDBUILD_FILES = ("terraform-plan.yaml", "plan-for-apply.yaml", "terraform-apply.yaml",
                    "ml-pipeline.yaml", "ml-publish.yaml")


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def rendered(request: pytest.FixtureRequest, render_repo: Any) -> tuple[dict[str, Any], Path]:
    answers = VARIANTS[request.param]
    return model.build_context(model.validate_answers(answers)), render_repo(answers)


def _stages(text: str) -> dict[str, str]:
    """stage name -> its block (up to the next top-level stage)."""
    matches = list(STAGE_RE.finditer(text))
    return {
        m.group(1): text[m.end(): matches[i + 1].start() if i + 1 < len(matches) else len(text)]
        for i, m in enumerate(matches)
    }


def test_stages_match_the_environments(rendered: tuple[dict[str, Any], Path]) -> None:
    ctx, repo = rendered
    stages = _stages((repo / "Jenkinsfile").read_text())
    envs = ctx["environments"]
    expected = [f"plan {e['name']}" for e in envs] + [f"apply {e['name']}" for e in envs]
    expected.append(f"ml pipeline {envs[0]['name']}")
    assert list(stages) == expected
    for env in envs:
        plan, apply = stages[f"plan {env['name']}"], stages[f"apply {env['name']}"]
        assert f"changeRequest target: '{env['branch']}'" in plan
        assert f"branch '{env['branch']}'" in apply and "not { changeRequest() }" in apply
        # approval exactly on the environments after the first, once the merged tree's plan is
        # made and shown, with no agent held, and before exactly that plan is applied
        assert ("input(message:" in apply) is (env["index"] > 0)
        assert "input" not in plan and "github-token" not in plan  # a pull request: no secret
        assert "ci_plan.py plan --kind=pr" in plan
        merge_plan = apply.index("ci_plan.py plan --kind=merge")
        applied = apply.index('mlopsgen apply . --env "$ENV_NAME" --approve')
        assert merge_plan < applied
        assert 'unstash(name: "plan-${e.name}")' in apply[merge_plan:applied]
        if env["index"] > 0:
            assert merge_plan < apply.index("input(message:") < applied
        assert "terraform -chdir" not in apply and "terraform -chdir" not in plan
        # where the ML pipeline runs, its stage builds the trainer image: the apply stage does not
        assert ("docker push" in apply) is (not env["run_pipeline"])
        assert f"environmentFor(ENVIRONMENTS, '{env['branch']}')" in plan
        assert f"environmentFor(ENVIRONMENTS, '{env['branch']}')" in apply
        assert "withGoogleCloud(e.planAccount)" in plan
        assert "withGoogleCloud(e.applyAccount)" in apply
    ml = stages[f"ml pipeline {envs[0]['name']}"]
    assert f"branch '{envs[0]['branch']}'" in ml and "input {" not in ml
    assert ("scripts/promote.py" in ml) is envs[0]["promote_after_pipeline"]


def test_environment_table_carries_the_model_names(
    rendered: tuple[dict[str, Any], Path]
) -> None:
    ctx, repo = rendered
    text = (repo / "Jenkinsfile").read_text()
    assert f"def STATE_BUCKET = '{ctx['state_bucket']}'" in text
    assert f"def GITHUB_REPOSITORY = '{ctx['github']['owner']}/{ctx['github']['repo']}'" in text
    for env in ctx["environments"]:
        row = (f"[name: '{env['name']}', branch: '{env['branch']}', ")
        assert row in text
        start = text.index(row)
        entry = text[start: text.index("],", start)]
        assert f"tfRoot: 'terraform/envs/{env['name']}'" in entry
        assert f"statePrefix: '{env['state_prefix']}'" in entry
        assert f"planAccount: '{env['service_account_emails']['ci-plan']}'" in entry
        assert f"applyAccount: '{env['service_account_emails']['ci-apply']}'" in entry
        assert f"approval: {str(env['approval_required']).lower()}" in entry
        assert f"runPipeline: {str(env['run_pipeline']).lower()}" in entry
        assert f"promoteAfterApply: {str(env['promote_after_apply']).lower()}" in entry


def test_references_only_files_that_exist(rendered: tuple[dict[str, Any], Path]) -> None:
    ctx, repo = rendered
    text = (repo / "Jenkinsfile").read_text()
    scripts = set(SCRIPT_RE.findall(text))
    assert scripts, "the Jenkinsfile calls no client-repo script"
    for script in scripts:
        assert (repo / script).is_file(), script
    for module in set(MODULE_RE.findall(text)):
        assert (repo / (module.replace(".", "/") + ".py")).is_file(), module
    for notebook in set(re.findall(r"\bnotebooks/[\w/.-]+\.ipynb\b", text)):
        assert (repo / notebook).is_file(), notebook
    for env in ctx["environments"]:
        assert (repo / "terraform" / "envs" / env["name"] / "main.tf").is_file()
    if '".[dev]"' in text:
        project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
        assert "dev" in project.get("optional-dependencies", {})


def test_runs_the_same_scripts_and_commands_as_cloud_build(
    rendered: tuple[dict[str, Any], Path]
) -> None:
    _, repo = rendered
    jenkins = (repo / "Jenkinsfile").read_text()
    for name in CLOUDBUILD_FILES:
        config = yaml.safe_load((repo / "cloudbuild" / name).read_text())
        text = yaml.safe_dump(config)
        for script in set(SCRIPT_RE.findall(text)):
            assert script in jenkins, f"{name} runs {script}; the Jenkinsfile does not"
        for module in set(MODULE_RE.findall(" ".join(
                " ".join(map(str, s.get("args", []))) for s in config["steps"]))):
            assert f"-m {module}" in jenkins, f"{name} runs {module}; the Jenkinsfile does not"
        for step in config["steps"]:
            args = [str(a) for a in step.get("args", [])]
            for verb in ("fmt", "init", "validate", "plan", "apply"):
                if step["name"].startswith("hashicorp/terraform") and verb in args:
                    assert re.search(rf"terraform .*\b{verb}\b", jenkins), (name, verb)
    assert "papermill notebooks/experiment.ipynb" in jenkins


def test_google_cloud_access_is_workload_identity_federation_only(
    rendered: tuple[dict[str, Any], Path]
) -> None:
    _, repo = rendered
    text = (repo / "Jenkinsfile").read_text()
    assert "gcloud iam workload-identity-pools create-cred-config" in text
    assert "file(credentialsId: 'gcp-wif-id-token', variable: 'OIDC_TOKEN_FILE')" in text
    assert "--credential-source-file=\"$OIDC_TOKEN_FILE\"" in text
    lowered = text.lower()
    forbidden_words = ("private_key", "keyfile", "key-file", "googlecredentials",
                       "activate-service-account")
    for forbidden in forbidden_words:
        assert forbidden not in lowered, forbidden
    # secrets never pass through Groovy interpolation into a shell: every sh body is '''...'''
    assert 'sh """' not in text and "sh \"" not in text
    assert text.count("{") == text.count("}")


def test_client_docs_describe_each_stage(rendered: tuple[dict[str, Any], Path]) -> None:
    ctx, repo = rendered
    doc = (repo / "docs" / "orchestrators.md").read_text()
    assert "## Jenkins" in doc
    rows = {line.split("|")[1].strip(): line for line in doc.splitlines()
            if line.startswith("| `") and "(cloudbuild/" in line}
    for env in ctx["environments"]:
        assert f"`plan {env['name']}`" in doc and f"`apply {env['name']}`" in doc
        # the promotion pull request is opened where the model says, as the Jenkinsfile does
        apply = rows[f"`apply {env['name']}`"]
        assert ("scripts/promote.py" in apply) is env["promote_after_apply"]
        pipeline = rows.get(f"`ml pipeline {env['name']}`")
        assert (pipeline is not None) is env["run_pipeline"]
        if pipeline is not None:
            assert ("scripts/promote.py" in pipeline) is env["promote_after_pipeline"]
    assert ("## Airflow" in doc) is ctx["orchestrators"]["airflow"]
