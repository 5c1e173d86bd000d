"""Validated answers -> the render context `mlops`: every name of every environment, once.

Pure functions (no disk, no network), standard library only (loaded by path inside copier, see
copier_ext.py). Templates read names and rules from here and nowhere else, so Terraform, the
pipeline config, the CI/CD configuration and the docs cannot disagree. What lives on disk (the
template's module names) comes in as an argument.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from . import answers as answers_mod
from . import governance, observability, versions
from .answers import AnswersError, Problem, default_branch

MODULES_DIR = "terraform/modules"

_PROJECT_ID_RE = re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
_SA_ID_RE = re.compile(r"^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$")
_BUCKET_RE = re.compile(r"^[a-z0-9][-a-z0-9_.]{1,61}[a-z0-9]$")
_DATASET_RE = re.compile(r"^[A-Za-z0-9_]{1,1024}$")
_AR_REPO_RE = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_LABEL_RE = re.compile(r"^[\w-]{0,63}$")

SERVICE_ACCOUNT_ROLES = ("pipeline", "notebook", "ci-plan", "ci-apply")

# Where pipeline runs keep their artifacts in the pipeline-root bucket: runs started for a commit
# (pipelines/submit.py, scripts/) and scheduled runs (the Airflow DAG). config/<env>.yaml carries
# them to the code that writes there, and the bucket's retention rule deletes exactly these
# (mlops_platform `pipeline_root_run_prefixes`).
PIPELINE_ROOT_PREFIXES: dict[str, str] = {"runs": "runs/", "scheduled": "scheduled/"}

# The zone (in the region) of each environment's Workbench instance; config/<env>.yaml names the
# instance (its data scientists open it) and the platform module puts it there.
WORKBENCH_ZONE_SUFFIX = "b"

# With cmek, every Vertex AI resource of an environment is encrypted with this key of the
# environment's key ring (the mlops_platform module's `aiplatform` key).
VERTEX_AI_KMS_KEY = "aiplatform"

# Roles the bootstrap root grants an environment's CI accounts on its project when that project
# exists before CI runs (adopted, or the shared one), so the first plan and apply can work; the
# environment root's platform module leaves exactly these to the bootstrap there. Rendered into
# both roots (ci_identities `seed_roles`, mlops_platform `ci_seed_roles`).
CI_SEED_ROLES: dict[str, tuple[str, ...]] = {
    "plan": (
        "roles/browser",
        "roles/iam.securityReviewer",
        "roles/serviceusage.serviceUsageViewer",
    ),
    "apply": (
        "roles/resourcemanager.projectIamAdmin",
        "roles/serviceusage.serviceUsageAdmin",
    ),
}


# CI/CD (docs/promotion.md in a client repo). Every environment's saved plans live in one bucket of
# the CI/CD project, under `<env>/pr/` (pull request plans: made by the pull request's own build,
# shown for review, never applied) and `<env>/merge/` (plans of the merged tree, made by the
# trusted merge build: the only ones an apply build applies), then `<commit>/<build id>/`, so
# every build writes its own objects once. Kept this many days (an apply approved later re-plans).
PLAN_KINDS: dict[str, str] = {"pr": "pr/", "merge": "merge/"}
PLANS_RETENTION_DAYS = 14
# The account of the trusted comment build (the only reader of the GitHub token besides the
# apply accounts' builds); it posts the pull request plans and reads the plans bucket.
CI_COMMENTER_ACCOUNT = "ci-commenter"
# Cloud Build publishes every build's status changes to this topic of the build's project; the
# comment triggers listen on it (https://cloud.google.com/build/docs/subscribe-build-notifications).
CLOUD_BUILDS_TOPIC = "cloud-builds"
# The protected destroys a change may make in an environment: each line of this file in the
# environment's root names a resource address and, after `#`, why (reviewed with the change).
ALLOW_DESTROY_FILE = "allow-destroy.txt"
# The distribution the `mlopsgen` command comes in (this repo's pyproject.toml).
MLOPSGEN_DISTRIBUTION = "mlops-foundations"
# The Python packages the CI scripts import (scripts/ci_plan.py, plan_comment.py, cloudbuild.py):
# pinned, so every build runs the same client code.
CI_SCRIPT_REQUIREMENTS: tuple[str, ...] = (
    "google-auth==2.63.0",
    "google-cloud-storage==3.17.1",
    "requests==2.34.2",
)
# An Artifact Registry Python repository authenticates pip through this keyring plugin (with the
# build's Application Default Credentials).
ARTIFACT_REGISTRY_PIP_AUTH = "keyrings.google-artifactregistry-auth==1.1.2"
# The scheduled template-update build (answer template_updates; generator/selfupdate.py): its
# manual trigger, the account it runs as (reads the GitHub token, nothing of Terraform's), and
# the account Cloud Scheduler runs the trigger as (may start builds, act as the build account).
TEMPLATE_UPDATE_TRIGGER = "template-update"
TEMPLATE_UPDATE_ACCOUNT = "ci-template-update"
TEMPLATE_UPDATE_SCHEDULER_ACCOUNT = "ci-template-update-cron"

def mlopsgen_install(source: str) -> dict[str, Any]:
    """Where the client repo's CI installs mlopsgen from (answer mlopsgen_source). The version is
    the template's that .copier-answers.yml records (`_commit`), read when the build runs
    (scripts/ci_tools.py), so `copier update` moves both at once: from a git repo (the answer,
    or the template's own `_src_path` when the answer is empty) pinned to that ref, or from a
    package index pinned to the release the ref names."""
    index = answers_mod.is_index_url(source)
    return {
        "distribution": MLOPSGEN_DISTRIBUTION,
        "kind": "index" if index else "git",
        "source": source,
        # an Artifact Registry repository needs pip's keyring plugin (installed first)
        "bootstrap": [ARTIFACT_REGISTRY_PIP_AUTH] if index and ".pkg.dev/" in source else [],
    }


# The providers each kind of root requires (versions.tf); their constraints are versions.py's.
ROOT_PROVIDERS: dict[str, tuple[str, ...]] = {
    "env": ("hashicorp/google", "hashicorp/google-beta"),
    "bootstrap": ("hashicorp/google", "hashicorp/google-beta", "integrations/github"),
}


def terraform_requirements() -> dict[str, Any]:
    """The `terraform` block settings of the roots' versions.tf, from generator/versions.py."""
    return {
        "min_version": versions.MIN_TERRAFORM,
        "required_version": f">= {versions.MIN_TERRAFORM}",
        "required_providers": {
            root: {
                source.split("/")[1]: {
                    "source": source,
                    "version": versions.PROVIDER_CONSTRAINTS[source],
                }
                for source in sources
            }
            for root, sources in ROOT_PROVIDERS.items()
        },
    }


def label_value(text: str) -> str:
    """A GCP label value from free text: lowercase letters, digits, '_' and '-', <= 63 chars."""
    lowered = unicodedata.normalize("NFKC", text).lower()
    cleaned = "".join(ch if (ch.isalnum() and ch.islower()) or ch.isdigit() or ch in "_-"
                      else "_" for ch in lowered)
    cleaned = re.sub(r"_+", "_", cleaned).strip("_")
    return cleaned[:63]


def module_source(module: str, *, root_depth: int, source: str, git_url: str, ref: str) -> str:
    """Terraform `source` for a module, from a root `root_depth` levels below `terraform/`."""
    if source == "git":
        url = f"file://{git_url}" if git_url.startswith("/") else git_url  # go-getter wants a URL
        return f"git::{url}//{MODULES_DIR}/{module}?ref={ref}"
    return "/".join([".."] * root_depth + ["modules", module])


def _env_context(
    a: Mapping[str, Any], index: int, env: str, cicd_project: str, shared_project: str | None
) -> dict[str, Any]:
    envs: list[str] = list(a["environments"])
    slug, suffix = a["client_slug"], a["name_suffix"]
    adopt: Mapping[str, str] = a["adopt_project_ids"]
    branches: Mapping[str, str] = a["environment_branches"]
    layout = a["project_layout"]
    if layout == "single_project":
        assert shared_project is not None
        project_id, create = shared_project, False  # the bootstrap root owns the shared project
    else:
        project_id = adopt.get(env, f"{slug}-{env}-{suffix}")
        create = env not in adopt
    disposable = index == 0 and len(envs) > 1
    base = f"{slug}-{env}-{suffix}"
    underscored = slug.replace("-", "_")
    features = set(a["features"])
    accounts = {
        "pipeline": f"{env}-pipeline",
        "ci-plan": f"{env}-ci-plan",
        "ci-apply": f"{env}-ci-apply",
    }
    if "workbench" in features:
        accounts["notebook"] = f"{env}-notebook"
    emails = {
        role: f"{account}@{cicd_project if role.startswith('ci-') else project_id}"
        ".iam.gserviceaccount.com"
        for role, account in accounts.items()
    }
    nxt = envs[index + 1] if index + 1 < len(envs) else None
    run_pipeline = index == 0  # the ML pipeline runs in the first environment only
    branch_of = {e: branches.get(e, default_branch(envs, e)) for e in envs}
    return {
        "name": env,
        "index": index,
        "is_first": index == 0,
        "is_last": index == len(envs) - 1,
        "previous": envs[index - 1] if index > 0 else None,
        "next": nxt,
        "branch": branch_of[env],
        "next_branch": branch_of[nxt] if nxt else None,
        "approval_required": index > 0,
        "run_pipeline": run_pipeline,
        # Who opens the promotion pull request to the next environment: the ML pipeline build
        # where it runs, else the apply build (Cloud Build's _PROMOTE, Jenkins, the docs).
        "promote_after_pipeline": run_pipeline and nxt is not None,
        "promote_after_apply": not run_pipeline and nxt is not None,
        "project_id": project_id,
        "create_project": create,
        "deletion_policy": "DELETE" if disposable and create else "PREVENT",
        "force_destroy": disposable,
        "deletion_protection": not disposable,
        "state_prefix": f"envs/{env}",
        "labels": {
            "client": slug,
            "environment": env,
            "managed-by": "mlopsgen",
        },
        "buckets": {
            "data": f"{base}-data",
            "pipeline_root": f"{base}-pipeline-root",
        },
        "pipeline_root_prefixes": dict(PIPELINE_ROOT_PREFIXES),
        "datasets": {
            "training": f"{underscored}_{env}_training",
            "predictions": f"{underscored}_{env}_predictions",
            # the pipeline's own: its run tables (snapshots, training and forecast inputs)
            "runs": f"{underscored}_{env}_runs",
        },
        # the Dataplex quality scan of the training data the pipeline runs before it trains
        "quality_scan": f"{env}-training-data-quality",
        "service_accounts": accounts,
        "service_account_emails": emails,
        "artifact_registry": {
            "docker": f"{env}-containers",
            "kfp": f"{env}-pipelines",
        },
        "tensorboard": f"{slug}-{env}",
        "pubsub_topic": f"{env}-pipeline-events",
        "kms_key_ring": f"{slug}-{env}",
        "vertex_ai_kms_key": (
            f"projects/{project_id}/locations/{a['region']}/keyRings/{slug}-{env}/cryptoKeys/"
            f"{VERTEX_AI_KMS_KEY}" if "cmek" in features else None
        ),
        "endpoint": f"{slug}-{env}-forecast",
        "feature_online_store": f"{underscored}_{env}_features",
        "workbench_instance": f"{env}-workbench",
        "workbench_zone": f"{a['region']}-{WORKBENCH_ZONE_SUFFIX}",
        "workbench_instance_name": (
            f"projects/{project_id}/locations/{a['region']}-{WORKBENCH_ZONE_SUFFIX}/instances/"
            f"{env}-workbench" if "workbench" in features else None
        ),
        # Private network for Workbench / Dataflow (the projects have no default network).
        "network": {
            "name": f"{env}-mlops",
            "subnet": f"{env}-mlops-{a['region']}",
            "cidr": "10.10.0.0/24",
        },
        "log_bucket": f"{env}-pipeline-logs",
        # Cloud Build triggers (CI/CD project, region) and the check name the Cloud Build GitHub
        # App reports for the plan trigger: "<trigger name> (<project id>)". One chain per
        # change: plan (pull request, the PR's code, no secret) -> plan_comment (the trusted
        # build that posts it) -> plan_for_apply (push: the merged tree planned again, posted)
        # -> apply (started by plan_for_apply, waits for approval where approval_required,
        # applies exactly that saved plan) -> the environment's ML build, started by the apply
        # once applied: pipeline where run_pipeline (runs the ML pipeline), else publish (its
        # pipeline template); each builds the environment's trainer image of the commit once.
        "triggers": {
            "plan": f"{env}-terraform-plan",
            "plan_comment": f"{env}-plan-comment",
            "plan_for_apply": f"{env}-plan-for-apply",
            "apply": f"{env}-terraform-apply",
            "pipeline": f"{env}-ml-pipeline" if run_pipeline else None,
            "publish": None if run_pipeline else f"{env}-ml-publish",
            "rollback": f"{env}-rollback" if nxt else None,
        },
        # where this environment's saved plans live in the plans bucket (PLAN_KINDS)
        "plans_prefixes": {kind: f"{env}/{sub}" for kind, sub in PLAN_KINDS.items()},
        "allow_destroy_file": f"terraform/envs/{env}/{ALLOW_DESTROY_FILE}",
        "plan_check": f"{env}-terraform-plan ({cicd_project})",
    }


def build_context(
    raw_answers: Mapping[str, Any], *, template_ref: str = "HEAD",
    module_names: Sequence[str] = (),
) -> dict[str, Any]:
    """The `mlops` render context. `raw_answers` must already be validated. `module_names` are
    the template's modules (directories of `terraform/modules/`, read by copier_ext): only
    `module_sources` needs them, so callers after names alone pass none."""
    a = answers_mod.with_defaults(raw_answers)
    slug, suffix = a["client_slug"], a["name_suffix"]
    layout = a["project_layout"]
    adopt: Mapping[str, str] = a["adopt_project_ids"]
    shared_project: str | None = None
    cicd: dict[str, Any]
    if layout == "single_project":
        shared_project = adopt.get("shared", f"{slug}-ml-{suffix}")
        cicd = {"id": shared_project, "create": "shared" not in adopt}
    else:
        cicd = {"id": adopt.get("cicd", f"{slug}-cicd-{suffix}"), "create": "cicd" not in adopt}
    envs = [
        _env_context(a, i, env, cicd["id"], shared_project)
        for i, env in enumerate(a["environments"])
    ]
    features = {f: f in a["features"] for f in answers_mod.FEATURES}
    git_url = str(a.get("module_git_url") or "")

    def source(module: str, root_depth: int) -> str:
        return module_source(
            module, root_depth=root_depth, source=a["module_source"], git_url=git_url,
            ref=template_ref,
        )

    ctx: dict[str, Any] = {
        "client_name": a["client_name"],
        "client_slug": slug,
        "client_label": label_value(a["client_name"]) or slug,
        # the data stores' catalog labels (terraform/modules/mlops_platform data_governance)
        "data_governance": {"owner": a["data_owner"], "classification": a["data_classification"],
                            "retention": a["data_retention"]},
        "name_suffix": suffix,
        "layout": layout,
        "single_project": layout == "single_project",
        "region": a["region"],
        "gcp_parent": a["gcp_parent"],
        "parent_type": a["gcp_parent"].split("/")[0][:-1],  # organization | folder
        "parent_id": a["gcp_parent"].split("/")[1],
        "billing_account": a["billing_account"],
        "features": features,
        "enabled_features": [f for f in answers_mod.FEATURES if features[f]],
        "notification_email": a["notification_email"],
        # IAM principals who open and run the Workbench notebooks (answer data_scientists)
        "data_scientists": list(a["data_scientists"]),
        "github": {
            "owner": a["github_owner"],
            "repo": a["github_repo"],
            "approvers": list(a["approvers"]),
            "create_repo": bool(a["github_create_repo"]),
            "app_installation_id": a["github_app_installation_id"] or None,
        },
        "cicd_project": cicd,
        "state_bucket": f"{slug}-tfstate-{suffix}",
        "ci": {
            "plans_bucket": f"{slug}-ci-plans-{suffix}",
            "plans_retention_days": PLANS_RETENTION_DAYS,
            "plan_kinds": dict(PLAN_KINDS),
            "plans_kms_key": "plans",
            "commenter_account": CI_COMMENTER_ACCOUNT,
            "commenter_email": f"{CI_COMMENTER_ACCOUNT}@{cicd['id']}.iam.gserviceaccount.com",
            "cloud_builds_topic": CLOUD_BUILDS_TOPIC,
            "script_requirements": list(CI_SCRIPT_REQUIREMENTS),
            "mlopsgen": mlopsgen_install(str(a.get("mlopsgen_source") or "")),
            "template_update": _template_update_context(a, cicd["id"], envs[0]["branch"]),
        },
        "state_kms_key_ring": f"{slug}-tfstate",
        "build_log_bucket": "cloud-build-logs",
        "labels": {"client": slug, "managed-by": "mlopsgen"},
        "ci_seed_roles": {kind: list(roles) for kind, roles in CI_SEED_ROLES.items()},
        "environments": envs,
        "environment_names": [e["name"] for e in envs],
        "first_environment": envs[0],
        "last_environment": envs[-1],
        "module_source": a["module_source"],
        "template_ref": template_ref,
        "module_sources": {
            "env": {m: source(m, 2) for m in module_names},
            "bootstrap": {m: source(m, 1) for m in module_names},
        },
        "orchestrators": _orchestrators_context(a),
        "terraform": terraform_requirements(),
        "governance": governance.context(
            slug=slug, region=a["region"], parent=a["gcp_parent"], cicd_project=cicd["id"],
            env_projects=[(e["project_id"], e["create_project"]) for e in envs], features=features,
            guardrails=bool(a["guardrails"]), retention_days=int(a["audit_log_retention_days"]),
        ),
    }
    for env in envs:
        env["observability"] = observability.env_context(
            env=env["name"], client_name=a["client_name"], cicd_project=cicd["id"],
            features=features, slo_latency_p99_ms=a["slo_latency_p99_ms"],
            slo_error_rate_percent=a["slo_error_rate_percent"],
        )
        env["platform_inputs"] = _platform_inputs(ctx, env)
        env["tfvars"] = _env_tfvars(ctx, env)
    ctx["bootstrap_tfvars"] = _bootstrap_tfvars(ctx)
    return ctx


def _platform_names(env: Mapping[str, Any]) -> dict[str, Any]:
    """The `names` input of the mlops_platform module (its variable declares these keys)."""
    accounts = env["service_accounts"]
    return {
        "buckets": env["buckets"],
        "datasets": env["datasets"],
        "service_accounts": {
            "pipeline": accounts["pipeline"],
            "notebook": accounts.get("notebook"),
        },
        "artifact_registry": env["artifact_registry"],
        "tensorboard": env["tensorboard"],
        "pubsub_topic": env["pubsub_topic"],
        "kms_key_ring": env["kms_key_ring"],
        "endpoint": env["endpoint"],
        "feature_online_store": env["feature_online_store"],
        "workbench_instance": env["workbench_instance"],
        "network": env["network"],
        "log_bucket": env["log_bucket"],
    }


def _platform_inputs(ctx: Mapping[str, Any], env: Mapping[str, Any]) -> dict[str, Any]:
    """The generated arguments of the environment root's `module "platform"` call (main.tf):
    values the rest of the repo (config/<env>.yaml, the CI/CD configuration, the bootstrap
    root) relies on, so they are fixed by the answers rather than overridable variables."""
    create = env["create_project"]
    emails = env["service_account_emails"]
    return {
        "environment": env["name"],
        "client_name": ctx["client_name"],
        "region": ctx["region"],
        "project": {
            "id": env["project_id"],
            "create": create,
            "shared": ctx["single_project"],
            "parent": ctx["gcp_parent"] if create else None,
            "billing_account": ctx["billing_account"] if create else None,
            "deletion_policy": env["deletion_policy"],
        },
        "features": ctx["features"],
        "names": _platform_names(env),
        "ci_service_accounts": {"plan": emails["ci-plan"], "apply": emails["ci-apply"]},
        "ci_seed_roles": ctx["ci_seed_roles"],
        "workbench": {"zone_suffix": WORKBENCH_ZONE_SUFFIX},
        "workbench_users": ctx["data_scientists"] if ctx["features"]["workbench"] else [],
        "pipeline_root_run_prefixes": list(env["pipeline_root_prefixes"].values()),
        "data_governance": ctx["data_governance"],
        "serving_slo": env["observability"]["slo"],
        "retraining_topic": env["observability"]["retraining"]["topic"],
    }


def _env_tfvars(ctx: Mapping[str, Any], env: Mapping[str, Any]) -> dict[str, Any]:
    """terraform/envs/<env>/terraform.tfvars: the generated values of the root's variables,
    the ones a client may override in client.auto.tfvars."""
    return {
        "labels": env["labels"],
        "notification_email": ctx["notification_email"],
        "force_destroy": env["force_destroy"],
        "deletion_protection": env["deletion_protection"],
    }


def _bootstrap_tfvars(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """terraform/bootstrap/terraform.tfvars, in file order."""
    return {
        "region": ctx["region"],
        "parent": ctx["gcp_parent"],
        "billing_account": ctx["billing_account"],
        "cicd_project": ctx["cicd_project"],
        "labels": ctx["labels"],
        "state_bucket": ctx["state_bucket"],
        "cmek": ctx["features"]["cmek"],
        "state_kms_key_ring": ctx["state_kms_key_ring"],
        "build_log_bucket": ctx["build_log_bucket"],
        "audit_trail": ctx["governance"]["audit"],
        "guardrails": {k: v for k, v in ctx["governance"]["guardrails"].items()
                       if k not in ("cicd_guarded", "waiting_for_ci")},
        "environments": {
            env["name"]: {
                "plan_account_id": env["service_accounts"]["ci-plan"],
                "apply_account_id": env["service_accounts"]["ci-apply"],
                "project_id": env["project_id"],
                "create_project": env["create_project"],
                "state_prefix": env["state_prefix"],
            }
            for env in ctx["environments"]
        },
    }


def _template_update_context(a: Mapping[str, Any], cicd_project: str, base: str
                             ) -> dict[str, Any]:
    """The scheduled template-update build: on (the default) or off, when, as whom, into which
    branch (the first environment's: promotions carry the update on)."""
    def email(account: str) -> str:
        return f"{account}@{cicd_project}.iam.gserviceaccount.com"

    return {
        "enabled": bool(a["template_updates"]),
        "schedule": str(a["template_update_schedule"]),
        "trigger": TEMPLATE_UPDATE_TRIGGER,
        "config": "cloudbuild/template-update.yaml",
        "base_branch": base,
        "account": TEMPLATE_UPDATE_ACCOUNT,
        "email": email(TEMPLATE_UPDATE_ACCOUNT),
        "scheduler_account": TEMPLATE_UPDATE_SCHEDULER_ACCOUNT,
        "scheduler_email": email(TEMPLATE_UPDATE_SCHEDULER_ACCOUNT),
    }


def _orchestrators_context(a: Mapping[str, Any]) -> dict[str, Any]:
    """Airflow / Jenkins beside Cloud Build: what is rendered, and the Composer names."""
    selected = list(a["orchestrators"])
    airflow = "airflow" in selected
    composer = airflow and bool(a["composer"])
    slug = a["client_slug"]
    return {
        "selected": selected,
        "any": bool(selected),
        "airflow": airflow,
        "jenkins": "jenkins" in selected,
        "retrain_schedule": a["retrain_schedule"],
        "dag_id_prefix": "retrain",
        "composer": composer,
        # one Composer 3 environment per environment project, with its own service account
        "composer_environments": {
            env: {"name": f"{slug}-{env}-airflow", "service_account": f"{env}-composer"}
            for env in a["environments"]
        } if composer else {},
    }


def name_problems(a: Mapping[str, Any]) -> list[Problem]:
    """Check every derived name against GCP's rules; name the answer to change."""
    ctx = build_context(a)
    problems: list[Problem] = []

    def need(ok: bool, kind: str, name: str, rule: str, question: str = "client_slug") -> None:
        if not ok:
            problems.append(
                Problem(question, a.get(question), f"derived {kind} {name!r} breaks GCP's rule: "
                        f"{rule}; shorten {question} or the environment names")
            )

    project_rule = "project ids are 6-30 chars [a-z][-a-z0-9]*[a-z0-9]"
    cicd_id = ctx["cicd_project"]["id"]
    need(bool(_PROJECT_ID_RE.match(cicd_id)), "project id", cicd_id, project_rule)
    for bucket in (ctx["state_bucket"], ctx["ci"]["plans_bucket"]):
        need(bool(_BUCKET_RE.match(bucket)), "bucket name", bucket, "bucket names are 3-63 chars")
    for env in ctx["environments"]:
        pid = env["project_id"]
        need(bool(_PROJECT_ID_RE.match(pid)), "project id", pid, project_rule)
        for bucket in env["buckets"].values():
            need(bool(_BUCKET_RE.match(bucket)), "bucket name", bucket,
                 "bucket names are 3-63 chars")
        for dataset in env["datasets"].values():
            need(bool(_DATASET_RE.match(dataset)), "dataset id", dataset, "[A-Za-z0-9_]{1,1024}")
        for account in env["service_accounts"].values():
            need(bool(_SA_ID_RE.match(account)), "service account id", account,
                 "6-30 chars [a-z][-a-z0-9]*[a-z0-9]", question="environments")
        for repo in env["artifact_registry"].values():
            need(bool(_AR_REPO_RE.match(repo)), "repository id", repo, "[a-z][-a-z0-9]*",
                 question="environments")
        for key, value in env["labels"].items():
            need(bool(_LABEL_RE.match(value)) and value == value.lower(), f"label {key}", value,
                 "label values are <= 63 lowercase letters, digits, '_' or '-'")
    return problems


def validate_answers(raw_answers: Mapping[str, Any]) -> dict[str, Any]:
    """Every rule: each answer on its own, then every name derived from several answers.
    Raises AnswersError with all problems; returns the answers with defaults filled."""
    filled = answers_mod.validate_fields(raw_answers)
    problems = name_problems(filled)
    if problems:
        raise AnswersError(problems)
    return filled
