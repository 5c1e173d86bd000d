"""generator.cloudbuild with triggers: read from `terraform show -json` plans.

Unit tests use small plan dicts shaped like Terraform's (`resource_changes[].change.after` and
`after_unknown`); the tests marked `terraform` produce real plans with terraform and the offline
stand-in providers and check that the same shapes come out, and that a rendered repo passes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from generator import offline
from generator.cloudbuild import (
    Finding,
    Trigger,
    check_build_file,
    check_repo,
    triggers_in_plan,
    triggers_in_plans,
)
from generator.cloudbuild.triggers import KNOWN_AFTER_APPLY
from tests.conftest import load_example

FIXTURES = Path(__file__).parent / "fixtures" / "cloudbuild"
GOOD_REPO = FIXTURES / "good_repo"
BASE = "steps:\n  - name: ubuntu\n    args: [echo, hello]\n"
SA = "projects/p/serviceAccounts/{}@p.iam.gserviceaccount.com"


def change(
    address: str,
    *,
    filename: str | None = None,
    path: str | None = None,
    substitutions: Mapping[str, str] | None = None,
    service_account: str | None = None,
    unknown: Mapping[str, Any] | None = None,
    actions: tuple[str, ...] = ("create",),
) -> dict[str, Any]:
    """One `resource_changes[]` entry of a google_cloudbuild_trigger, as terraform writes it
    (the attributes this check reads; `unknown` is `after_unknown`)."""
    module, _, local = address.rpartition(".google_cloudbuild_trigger.")
    after: dict[str, Any] = {
        "filename": filename,
        "git_file_source": [] if path is None else [{"path": path, "repo_type": "GITHUB"}],
        "service_account": service_account,
        "substitutions": None if substitutions is None else dict(substitutions),
        "build": [],
    }
    for key in unknown or {}:
        if unknown and unknown[key] is True:
            after.pop(key, None)  # terraform leaves values known only after apply out of `after`
    entry: dict[str, Any] = {
        "address": address,
        "mode": "managed",
        "type": "google_cloudbuild_trigger",
        "name": local.split("[")[0] if module else address.split(".")[1].split("[")[0],
        "provider_name": "registry.terraform.io/hashicorp/google",
        "change": {
            "actions": list(actions),
            "before": None,
            "after": None if actions == ("delete",) else after,
            "after_unknown": dict(unknown or {}),
        },
    }
    if module:
        entry["module_address"] = module
    return entry


def plan(*changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "resource_changes": list(changes),
    }


def one_trigger(root: str = "r", **kw: Any) -> dict[str, dict[str, Any]]:
    """Plans of one root with one trigger, google_cloudbuild_trigger.a unless `address` says."""
    return {root: plan(change(kw.pop("address", "google_cloudbuild_trigger.a"), **kw))}


# The triggers terraform/envs/dev of the good repo plans (test_good_plans_match_terraform).
GOOD_PLANS: dict[str, dict[str, Any]] = {
    "terraform/envs/dev": plan(
        change(
            "module.cicd.google_cloudbuild_trigger.plan",
            filename="cloudbuild/terraform-plan.yaml",
            substitutions={"_ENV": "dev", "_STATE_BUCKET": "tf-state"},
            service_account=SA.format("plan"),
        ),
        change(
            'module.cicd.google_cloudbuild_trigger.this["ml"]',
            filename="cloudbuild/ml-pipeline.yaml",
            substitutions={"_GH_SECRET": "github-token"},
            service_account=SA.format("ml"),
        ),
        change(
            'module.cicd.google_cloudbuild_trigger.this["rollback"]',
            filename="./cloudbuild/rollback.json",
            substitutions={"_ARTIFACTS_BUCKET": "art", "_CANDIDATE_SHA": ""},
            service_account=SA.format("rb"),
        ),
    )
}


def _write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _copy_good_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(GOOD_REPO, repo)
    return repo


def _errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


# --- reading plans ----------------------------------------------------------------------------


def test_reads_file_substitutions_and_service_account() -> None:
    (t,) = triggers_in_plan(
        "terraform/bootstrap",
        plan(
            change(
                'module.ci[0].google_cloudbuild_trigger.plan["dev"]',
                filename="./cloudbuild/a.yaml",
                substitutions={"_A": "1"},
                service_account=" " + SA.format("x") + " ",
            )
        ),
    )
    assert t == Trigger(
        root="terraform/bootstrap",
        address='module.ci[0].google_cloudbuild_trigger.plan["dev"]',
        filename="cloudbuild/a.yaml",
        substitutions=frozenset({"_A"}),
        service_account=SA.format("x"),
    )
    assert t.label == 'module.ci[0].google_cloudbuild_trigger.plan["dev"] (terraform/bootstrap)'


def test_git_file_source_path_and_unknown_values() -> None:
    triggers = triggers_in_plan(
        "r",
        plan(
            change(
                "google_cloudbuild_trigger.gfs",
                path="cloudbuild/b.yaml",
                substitutions={"_KNOWN": "v"},
                unknown={"substitutions": {"_LATER": True}, "service_account": True},
            ),
            change(
                "google_cloudbuild_trigger.whole",
                unknown={"filename": True, "substitutions": True},
            ),
            change(
                "google_cloudbuild_trigger.path_later",
                unknown={"git_file_source": [{"path": True}]},
            ),
        ),
    )
    assert [(t.address, t.filename, t.substitutions, t.service_account) for t in triggers] == [
        (
            "google_cloudbuild_trigger.gfs",
            "cloudbuild/b.yaml",
            frozenset({"_KNOWN", "_LATER"}),
            KNOWN_AFTER_APPLY,
        ),
        ("google_cloudbuild_trigger.whole", None, None, ""),
        ("google_cloudbuild_trigger.path_later", None, frozenset(), ""),
    ]


def test_skips_deleted_inline_data_and_other_resources() -> None:
    data = change("data.google_cloudbuild_trigger.d", filename="cloudbuild/a.yaml")
    data["mode"] = "data"
    other = change("google_storage_bucket.b", filename="cloudbuild/a.yaml")
    other["type"] = "google_storage_bucket"
    inline = change("google_cloudbuild_trigger.inline")
    inline["change"]["after"]["build"] = [{"step": [{"name": "ubuntu"}]}]
    deleted = change(
        "google_cloudbuild_trigger.gone", filename="cloudbuild/a.yaml", actions=("delete",)
    )
    kept = change(
        "google_cloudbuild_trigger.kept", filename="cloudbuild/a.yaml", actions=("no-op",)
    )
    triggers = triggers_in_plan("r", plan(data, other, inline, deleted, kept))
    assert [t.address for t in triggers] == ["google_cloudbuild_trigger.kept"]


def test_roots_in_order() -> None:
    plans = {
        "terraform/envs/dev": plan(change("google_cloudbuild_trigger.b", filename="b.yaml")),
        "terraform/bootstrap": plan(change("google_cloudbuild_trigger.a", filename="a.yaml")),
        "terraform/envs/prod": {"format_version": "1.2"},  # nothing planned
    }
    assert [(t.root, t.address) for t in triggers_in_plans(plans)] == [
        ("terraform/bootstrap", "google_cloudbuild_trigger.a"),
        ("terraform/envs/dev", "google_cloudbuild_trigger.b"),
    ]


# --- checking a repo with its triggers ---------------------------------------------------------


def test_good_files_need_their_triggers() -> None:
    """The good repo's configs use substitutions only their triggers declare."""
    assert check_repo(GOOD_REPO, GOOD_PLANS) == []
    alone = check_repo(GOOD_REPO, {})
    assert alone and all("not declared" in f.message for f in alone), alone


def test_trigger_substitutions_declare(tmp_path: Path) -> None:
    repo = _copy_good_repo(tmp_path)
    cfg = repo / "cloudbuild" / "terraform-plan.yaml"
    cfg.write_text(cfg.read_text().replace("${_STATE_BUCKET}", "${_STATE_BUCKT}"))
    (finding,) = check_repo(repo, GOOD_PLANS)
    assert finding.file == "cloudbuild/terraform-plan.yaml" and finding.line == 11
    assert "_STATE_BUCKT" in finding.message
    assert "did you mean '_STATE_BUCKET'?" in finding.message
    assert "module.cicd.google_cloudbuild_trigger.plan (terraform/envs/dev)" in finding.message


def test_trigger_service_account_requires_logging(tmp_path: Path) -> None:
    repo = _copy_good_repo(tmp_path)
    cfg = repo / "cloudbuild" / "terraform-plan.yaml"
    cfg.write_text(cfg.read_text().replace("logging: CLOUD_LOGGING_ONLY", "logging: LEGACY"))
    (finding,) = check_repo(repo, GOOD_PLANS)
    assert finding.file == "cloudbuild/terraform-plan.yaml"
    assert (
        "'service_account' on module.cicd.google_cloudbuild_trigger.plan (terraform/envs/dev)"
        in finding.message
    )
    # the same file checked alone does not know the trigger's service account
    assert check_build_file(cfg, frozenset({"_ENV", "_STATE_BUCKET"}), repo) == []


def test_service_account_known_after_apply_requires_logging(tmp_path: Path) -> None:
    _write(tmp_path, "cloudbuild/a.yaml", BASE)
    plans = one_trigger(filename="cloudbuild/a.yaml", unknown={"service_account": True})
    (finding,) = check_repo(tmp_path, plans)
    assert "'service_account' on google_cloudbuild_trigger.a (r)" in finding.message


def test_trigger_without_service_account_needs_no_logging(tmp_path: Path) -> None:
    repo = _copy_good_repo(tmp_path)
    plans = json.loads(json.dumps(GOOD_PLANS))
    plans["terraform/envs/dev"]["resource_changes"][0]["change"]["after"]["service_account"] = None
    cfg = repo / "cloudbuild" / "terraform-plan.yaml"
    cfg.write_text(cfg.read_text().replace("logging: CLOUD_LOGGING_ONLY", "logging: LEGACY"))
    assert check_repo(repo, plans) == []


def test_missing_trigger_file_is_reported_at_the_trigger(tmp_path: Path) -> None:
    repo = _copy_good_repo(tmp_path)
    (repo / "cloudbuild" / "rollback.json").unlink()
    (finding,) = check_repo(repo, GOOD_PLANS)
    assert finding == Finding(
        "terraform/envs/dev",
        0,
        'module.cicd.google_cloudbuild_trigger.this["rollback"]: runs '
        "'cloudbuild/rollback.json', which does not exist in the repo: fix the path or add the "
        "build config",
        "error",
        'module.cicd.google_cloudbuild_trigger.this["rollback"]',
    )


def test_trigger_file_outside_the_repo(tmp_path: Path) -> None:
    plans = one_trigger(filename="../other/c.yaml")
    (finding,) = check_repo(tmp_path, plans)
    assert "not a path inside the repository" in finding.message and finding.file == "r"


def test_each_file_gets_exactly_its_triggers_keys(tmp_path: Path) -> None:
    _write(tmp_path, "cloudbuild/a.yaml", BASE + "    env: ['A=$_A', 'B=$_B']\n")
    _write(tmp_path, "cloudbuild/b.yml", BASE + "    env: ['A=$_A', 'B=$_B']\n")
    plans = {
        "r": plan(
            change(
                "google_cloudbuild_trigger.a",
                filename="cloudbuild/a.yaml",
                substitutions={"_A": "1", "_B": "2"},
            ),
            change(
                "google_cloudbuild_trigger.b", path="cloudbuild/b.yml", substitutions={"_A": "1"}
            ),
        )
    }
    findings = check_repo(tmp_path, plans)
    assert [(f.file, f.line) for f in findings] == [("cloudbuild/b.yml", 4)], findings
    assert (
        "uses _B, which is not declared by this file or by the triggers that run it "
        "(google_cloudbuild_trigger.b (r))" in findings[0].message
    )


def test_key_some_triggers_of_a_file_lack(tmp_path: Path) -> None:
    """A file run by several triggers: every run needs the substitution."""
    _write(tmp_path, "cloudbuild/a.yaml", BASE + "    env: ['X=${_X}']\n")
    plans = {
        "terraform/bootstrap": plan(
            *(
                change(
                    f'google_cloudbuild_trigger.t["{env}"]',
                    filename="cloudbuild/a.yaml",
                    substitutions={"_X": "1"} if env != "prod" else {},
                )
                for env in ("dev", "staging", "prod")
            )
        )
    }
    (finding,) = check_repo(tmp_path, plans)
    assert finding.line == 4
    assert (
        'uses _X, which google_cloudbuild_trigger.t["prod"] (terraform/bootstrap) does not '
        "declare (other triggers that run this file do)" in finding.message
    )
    # a default in the file serves every run
    _write(tmp_path, "cloudbuild/a.yaml", BASE + "    env: ['X=${_X}']\nsubstitutions: {_X: d}\n")
    assert check_repo(tmp_path, plans) == []


def test_triggered_files_have_dynamic_substitutions(tmp_path: Path) -> None:
    """Cloud Build always applies dynamic substitutions in triggered builds."""
    _write(tmp_path, "cloudbuild/a.yaml", BASE + "substitutions:\n  _A: ${_B}-x\n")
    assert check_repo(tmp_path, {}) == []
    plans = one_trigger(filename="cloudbuild/a.yaml", substitutions={})
    (finding,) = check_repo(tmp_path, plans)
    assert "uses _B" in finding.message and finding.line == 5


def test_unknown_substitution_keys_are_trusted_with_a_warning(tmp_path: Path) -> None:
    _write(tmp_path, "cloudbuild/a.yaml", BASE + "    env: ['X=${_ANY}', 'H=$HOME']\n")
    plans = one_trigger(filename="cloudbuild/a.yaml", unknown={"substitutions": True})
    findings = check_repo(tmp_path, plans)
    assert [(f.file, f.severity) for f in findings] == [
        ("r", "warning"),  # the trigger: keys known only after apply
        ("cloudbuild/a.yaml", "error"),  # $HOME is still not a substitution
    ], findings
    assert "known only after apply" in findings[0].message
    assert findings[0].address == "google_cloudbuild_trigger.a"


def test_unknown_file_is_a_warning_and_checks_files_alone(tmp_path: Path) -> None:
    _write(tmp_path, "cloudbuild/a.yaml", BASE + "    env: ['X=${_A}']\n")
    plans = one_trigger(substitutions={"_A": "1"}, unknown={"filename": True})
    findings = check_repo(tmp_path, plans)
    assert [(f.file, f.severity) for f in findings] == [
        ("r", "warning"),
        ("cloudbuild/a.yaml", "error"),
    ], findings


def test_invalid_trigger_substitution_key(tmp_path: Path) -> None:
    _write(tmp_path, "cloudbuild/a.yaml", BASE)
    plans = one_trigger(
        "terraform/bootstrap",
        address="google_cloudbuild_trigger.t",
        filename="cloudbuild/a.yaml",
        substitutions={"env": "d"},
    )
    (finding,) = check_repo(tmp_path, plans)
    assert (finding.file, finding.line, finding.address) == (
        "terraform/bootstrap",
        0,
        "google_cloudbuild_trigger.t",
    )
    assert "substitution key 'env' is invalid" in finding.message and "'_ENV'" in finding.message


def test_trigger_file_outside_cloudbuild_dir_is_checked(tmp_path: Path) -> None:
    _write(tmp_path, "cloudbuild.yaml", BASE + "timout: 1s\n")
    _write(tmp_path, "other/x.yaml", BASE + "timout: 1s\n")  # no trigger runs it: not checked
    plans = one_trigger(filename="cloudbuild.yaml")
    assert [(f.file, f.line) for f in check_repo(tmp_path, plans)] == [("cloudbuild.yaml", 4)]


# --- real plans ------------------------------------------------------------------------------


def show_plan(root: Path, scratch: Path, *plan_args: str) -> dict[str, Any]:
    """`terraform show -json` of a saved plan of `root` (changed in place: local backend,
    no lock file), made offline with the stand-in providers."""
    (root / "zz_cloudbuild_test_override.tf").write_text(
        'terraform {\n  backend "local" {\n'
        f"    path = {json.dumps(str(root / 'test.tfstate'))}\n  }}\n}}\n"
    )
    (root / ".terraform.lock.hcl").unlink(missing_ok=True)
    with offline.offline_providers(scratch, reattach=True) as extra:
        env = {**os.environ, **extra}
        plan_cmd = ["plan", "-input=false", "-out=test.tfplan", *plan_args]
        for args in (["init", "-input=false"], plan_cmd):
            run = subprocess.run(
                ["terraform", *args, "-no-color"],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
        shown = subprocess.run(
            ["terraform", "show", "-json", "test.tfplan"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
    result: dict[str, Any] = json.loads(shown.stdout)
    return result


SHAPES_TF = """\
resource "google_service_account" "sa" {
  account_id = "builder"
}

resource "google_cloudbuild_trigger" "partial" {
  location        = "europe-west1"
  filename        = "./cloudbuild/a.yaml"
  service_account = google_service_account.sa.id
  substitutions = {
    _KNOWN = "v"
    _LATER = google_service_account.sa.email
  }
}

resource "google_cloudbuild_trigger" "whole" {
  location      = "europe-west1"
  filename      = google_service_account.sa.email
  substitutions = { for k in [google_service_account.sa.email] : k => "v" }
}

resource "google_cloudbuild_trigger" "gfs" {
  for_each = toset(["dev"])
  location = "europe-west1"
  git_file_source {
    path      = "cloudbuild/${each.key}.yaml"
    repo_type = "GITHUB"
  }
  service_account = "projects/p/serviceAccounts/x@p.iam.gserviceaccount.com"
}

resource "google_cloudbuild_trigger" "gfs_later" {
  location = "europe-west1"
  git_file_source {
    path      = google_service_account.sa.email
    repo_type = "GITHUB"
  }
}

resource "google_cloudbuild_trigger" "inline" {
  location = "europe-west1"
  build {
    step {
      name = "ubuntu"
    }
  }
}
"""


@pytest.mark.terraform
def test_real_plan_shapes(tmp_path: Path) -> None:
    """What terraform really writes for known, partly unknown and unknown trigger values."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(SHAPES_TF)
    triggers = triggers_in_plan("root", show_plan(root, tmp_path / "scratch"))
    assert sorted(triggers, key=lambda t: t.address) == [
        Trigger(
            "root",
            'google_cloudbuild_trigger.gfs["dev"]',
            "cloudbuild/dev.yaml",
            frozenset(),
            "projects/p/serviceAccounts/x@p.iam.gserviceaccount.com",
        ),
        Trigger("root", "google_cloudbuild_trigger.gfs_later", None, frozenset(), ""),
        Trigger(
            "root",
            "google_cloudbuild_trigger.partial",
            "cloudbuild/a.yaml",
            frozenset({"_KNOWN", "_LATER"}),
            KNOWN_AFTER_APPLY,
        ),
        Trigger("root", "google_cloudbuild_trigger.whole", None, None, ""),
    ]


@pytest.mark.terraform
def test_good_plans_match_terraform(tmp_path: Path) -> None:
    """GOOD_PLANS (used by the unit tests) is what terraform plans for the good repo."""
    repo = _copy_good_repo(tmp_path)
    real = {"terraform/envs/dev": show_plan(repo / "terraform/envs/dev", tmp_path / "scratch")}
    assert triggers_in_plans(real) == triggers_in_plans(GOOD_PLANS)
    assert check_repo(repo, real) == []


Render = Callable[[Mapping[str, Any]], Path]


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("example", "plan_args", "configs"),
    [
        ("full", (), ("terraform-plan", "plan-comment", "plan-for-apply", "terraform-apply",
                      "ml-pipeline", "ml-publish", "rollback", "retrain", "template-update")),
        # no GitHub App installation yet: plan with a placeholder id so the triggers appear
        (
            "minimal",
            ("-var", "github_app_installation_id=1"),
            ("terraform-plan", "plan-comment", "plan-for-apply", "terraform-apply",
             "ml-pipeline", "template-update"),
        ),
    ],
)
def test_rendered_repo_passes_with_its_bootstrap_plan(
    render_repo: Render,
    tmp_path: Path,
    example: str,
    plan_args: tuple[str, ...],
    configs: tuple[str, ...],
) -> None:
    """The template's cloudbuild/*.yaml pass with the triggers the bootstrap really plans, and a
    mistake in one is reported with the trigger that runs it."""
    repo = tmp_path / "repo"
    shutil.copytree(render_repo(load_example(example)), repo)
    bootstrap = show_plan(repo / "terraform/bootstrap", tmp_path / "scratch", *plan_args)
    plans = {"terraform/bootstrap": bootstrap}
    triggers = triggers_in_plans(plans)
    assert {t.filename for t in triggers} == {f"cloudbuild/{n}.yaml" for n in configs}
    assert all(t.service_account for t in triggers)  # every trigger names its account
    assert check_repo(repo, plans) == []

    cfg = repo / "cloudbuild" / "terraform-apply.yaml"
    cfg.write_text(cfg.read_text().replace("logging: CLOUD_LOGGING_ONLY", "logging: LEGACY"))
    findings = check_repo(repo, plans)
    assert [f.file for f in findings] == ["cloudbuild/terraform-apply.yaml"], findings
    assert "google_cloudbuild_trigger.apply[" in findings[0].message
    assert "(terraform/bootstrap)" in findings[0].message

    # the payload the Pub/Sub, webhook and alert triggers bind never reaches a shell as code
    payload = {t.filename: t.payload for t in triggers if t.payload}
    assert payload["cloudbuild/plan-comment.yaml"] >= {"_BUILD_PR", "_BUILD_COMMIT"}
    if example == "full":
        assert payload["cloudbuild/rollback.yaml"] >= {"_CANDIDATE_SHA", "_CLOSED_PR"}
        assert payload["cloudbuild/retrain.yaml"] >= {"_POLICY", "_INCIDENT_STATE"}
        cfg = repo / "cloudbuild" / "rollback.yaml"
        cfg.write_text(cfg.read_text().replace('--pr="$$CLOSED_PR"', '--pr="${_CLOSED_PR}"'))
        pasted = [f for f in check_repo(repo, plans) if f.file == "cloudbuild/rollback.yaml"]
        assert len(pasted) == 1 and "pastes _CLOSED_PR" in pasted[0].message, pasted


# --- payload-bound substitutions in shell scripts -------------------------------------------

ALERT_BUILD = """\
substitutions:
  _POLICY: ""
  _ENV: ""
options:
  logging: CLOUD_LOGGING_ONLY
steps:
  - id: decide
    name: python:3.11.11-slim
    entrypoint: {entrypoint}
    {env}
    args:
{args}
"""


def _alert_repo(tmp_path: Path, entrypoint: str, args: list[str], env: str = "") -> Path:
    lines = "\n".join(f"      - {a}" for a in args)
    _write(tmp_path, "cloudbuild/retrain.yaml",
           ALERT_BUILD.format(entrypoint=entrypoint, env=env, args=lines))
    return tmp_path


ALERT_PLANS = one_trigger(
    "terraform/bootstrap", filename="cloudbuild/retrain.yaml",
    substitutions={"_POLICY": "$(body.message.data.incident.policy_name)", "_ENV": "dev"},
)


def test_payload_bindings_are_read_from_the_plan() -> None:
    (t,) = triggers_in_plan("terraform/bootstrap", ALERT_PLANS["terraform/bootstrap"])
    assert t.payload == frozenset({"_POLICY"})  # _ENV is the trigger's own, fixed value


def test_a_payload_value_pasted_into_a_shell_script_is_refused(tmp_path: Path) -> None:
    repo = _alert_repo(tmp_path, "sh", ["-c", "'echo \"alert: ${_POLICY}\" in ${_ENV}'"])
    (finding,) = _errors(check_repo(repo, ALERT_PLANS))
    assert finding.file == "cloudbuild/retrain.yaml" and finding.line == 13
    assert "'${_POLICY}' pastes _POLICY" in finding.message
    assert "google_cloudbuild_trigger.a (terraform/bootstrap) binds" in finding.message
    assert "'POLICY=${_POLICY}'" in finding.message and '"$$POLICY"' in finding.message
    # a trusted substitution in the same script, and the bash path form, are told apart
    bash = _alert_repo(tmp_path, "/bin/bash", ["-c", "'echo $_POLICY'"])
    assert [f.message.split(":")[0] for f in _errors(check_repo(bash, ALERT_PLANS))] == [
        "steps[0].args[1]"]


def test_a_payload_value_through_env_or_as_an_argument_passes(tmp_path: Path) -> None:
    through_env = _alert_repo(tmp_path, "sh", ["-c", "'echo \"alert: $$POLICY\"'"],
                              env='env: ["POLICY=${_POLICY}"]')
    assert _errors(check_repo(through_env, ALERT_PLANS)) == []
    argv = _alert_repo(tmp_path, "python", ["scripts/retrain.py", "--policy=${_POLICY}"])
    assert _errors(check_repo(argv, ALERT_PLANS)) == []
    # the same file run by a trigger that binds nothing from a payload is not refused
    fixed = one_trigger("terraform/bootstrap", filename="cloudbuild/retrain.yaml",
                        substitutions={"_POLICY": "nightly", "_ENV": "dev"})
    shell = _alert_repo(tmp_path, "sh", ["-c", "'echo ${_POLICY}'"])
    assert _errors(check_repo(shell, fixed)) == []
