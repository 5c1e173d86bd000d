"""`mlopsgen plan` and `mlopsgen apply` end to end with the real terraform binary.

Fixture repos are built from `terraform_data` with a local backend; `--protect-type
terraform_data` makes the stand-in bucket a protected resource for the policy gate.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hookfixtures import ClientRepo, make_client_repo, needs_terraform

from generator.cli import main
from generator.commands import apply as apply_cmd
from generator.tfrunner import Terraform

pytestmark = [needs_terraform, pytest.mark.terraform, pytest.mark.usefixtures("tf_env")]

PROTECT = ("--protect-type", "terraform_data")
BUCKET = "module.platform.terraform_data.bucket"


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def plan(repo: ClientRepo, env: str, *extra: str) -> Result:
    return run("plan", str(repo.path), "--env", env, "--quiet", *extra)


def apply(repo: ClientRepo, env: str, *extra: str, input: str | None = None) -> Result:
    return run("apply", str(repo.path), "--env", env, "--quiet", *extra, input=input)


def summary(repo: ClientRepo, env: str) -> dict:
    return json.loads((repo.plan_dir(env) / "summary.json").read_text())


def test_plan_writes_plan_files_and_exits_2_on_changes(client_repo: ClientRepo) -> None:
    res = plan(client_repo, "dev")
    assert res.exit_code == 2, res.output
    d = client_repo.plan_dir("dev")
    assert sorted(p.name for p in d.iterdir()) == ["plan.json", "summary.json", "tfplan"]
    assert (client_repo.path / ".mlopsgen" / ".gitignore").read_text().splitlines()[-1] == "*"
    rec = summary(client_repo, "dev")
    assert len(rec["config_sha256"]) == 64
    assert rec["state"] == {"serial": None, "lineage": None}
    assert rec["summary"]["by_type"] == {
        "terraform_data": {"create": 2, "update": 0, "delete": 0, "replace": 0}
    }
    assert json.loads((d / "plan.json").read_text())["format_version"].startswith("1.")
    assert "terraform_data       2       0       0        0" in res.stdout
    assert "Policy gate: passed" in res.stdout
    assert "[plan] terraform plan" in res.stderr  # a progress line per stage


def test_apply_then_no_changes_then_replace_gate(client_repo: ClientRepo) -> None:
    assert plan(client_repo, "dev", *PROTECT).exit_code == 2
    res = apply(client_repo, "dev")
    assert res.exit_code == 0, res.output
    assert "bucket_name = acme-dev-data" in res.stdout
    assert "token       = <sensitive>" in res.stdout
    # a saved plan applies once
    again = apply(client_repo, "dev")
    assert again.exit_code == 3 and "already applied" in again.stderr

    assert plan(client_repo, "dev", *PROTECT).exit_code == 0  # no changes

    # renaming the bucket replaces it: refused by the gate, and the plan cannot be applied
    client_repo.set_vars("dev", bucket_name="acme-dev-data2")
    refused = plan(client_repo, "dev", *PROTECT)
    assert refused.exit_code == 3, refused.output
    assert f"!! REPLACE {BUCKET}" in refused.stdout
    assert "REFUSED: plan would replace protected terraform_data" in refused.stdout
    assert f"rerun with --allow-destroy {BUCKET} if that is intended" in refused.stdout
    assert not (client_repo.plan_dir("dev") / "tfplan").exists()
    blocked = apply(client_repo, "dev")
    assert blocked.exit_code == 3 and "refused by the policy gate" in blocked.stderr

    # an allowance for something else does not help
    other = plan(client_repo, "dev", *PROTECT, "--allow-destroy", "terraform_data.config")
    assert other.exit_code == 3
    assert "--allow-destroy terraform_data.config matches no protected" in other.stdout

    # allowed by TYPE.NAME, and by the full address
    ok = plan(client_repo, "dev", *PROTECT, "--allow-destroy", "terraform_data.bucket")
    assert ok.exit_code == 2, ok.output
    assert "ALLOWED: plan would replace protected terraform_data" in ok.stdout
    ok = plan(client_repo, "dev", *PROTECT, "--allow-destroy", BUCKET)
    assert ok.exit_code == 2
    done = apply(client_repo, "dev")
    assert done.exit_code == 0, done.output
    assert "bucket_name = acme-dev-data2" in done.stdout


def test_default_protected_types_do_not_cover_terraform_data(client_repo: ClientRepo) -> None:
    assert plan(client_repo, "dev").exit_code == 2
    assert apply(client_repo, "dev").exit_code == 0
    client_repo.set_vars("dev", bucket_name="acme-dev-other")
    res = plan(client_repo, "dev")
    assert res.exit_code == 2  # replace shown, but not a protected type by default
    assert f"!! REPLACE {BUCKET}" in res.stdout


def test_apply_refuses_stale_configuration(client_repo: ClientRepo) -> None:
    assert plan(client_repo, "dev").exit_code == 2
    client_repo.set_vars("dev", label="two")
    res = apply(client_repo, "dev")
    assert res.exit_code == 3
    assert "stale plan: the Terraform configuration of 'dev' changed" in res.stderr
    assert not client_repo.state_file("dev").exists()  # nothing applied


def test_apply_refuses_stale_module_change(client_repo: ClientRepo) -> None:
    assert plan(client_repo, "dev").exit_code == 2
    module = client_repo.path / "terraform" / "modules" / "platform" / "main.tf"
    module.write_text(module.read_text() + "\n# edited after the plan\n")
    res = apply(client_repo, "dev")
    assert res.exit_code == 3 and "configuration of 'dev' changed" in res.stderr


def test_apply_refuses_stale_state(client_repo: ClientRepo) -> None:
    assert plan(client_repo, "dev").exit_code == 2
    # someone else applies first (same configuration, so only the state moves)
    tf = Terraform(client_repo.root("dev"))
    tf.init()
    tf.apply_plan(tf.plan(client_repo.path / "other.tfplan").plan_file)
    res = apply(client_repo, "dev")
    assert res.exit_code == 3
    assert "stale plan: the state of 'dev' changed since the plan (serial None ->" in res.stderr


def test_apply_refuses_tampered_plan_file(client_repo: ClientRepo) -> None:
    assert plan(client_repo, "dev").exit_code == 2
    with (client_repo.plan_dir("dev") / "tfplan").open("ab") as fh:
        fh.write(b"x")
    res = apply(client_repo, "dev")
    assert res.exit_code == 3 and "changed since it was reviewed" in res.stderr


def test_protected_environment_needs_approval(
    client_repo: ClientRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert plan(client_repo, "prod").exit_code == 2
    # no TTY (CliRunner) and no --approve: refused
    res = apply(client_repo, "prod")
    assert res.exit_code == 3
    assert "'prod' is a protected environment: rerun with --approve" in res.stderr
    # interactive, wrong name typed: refused
    monkeypatch.setattr(apply_cmd, "stdin_is_tty", lambda: True)
    res = apply(client_repo, "prod", input="dev\n")
    assert res.exit_code == 3 and "confirmation did not match 'prod'" in res.stderr
    assert not client_repo.state_file("prod").exists()
    # interactive, env name typed: applied
    res = apply(client_repo, "prod", input="prod\n")
    assert res.exit_code == 0, res.output
    assert client_repo.state_file("prod").exists()


def test_protected_environment_with_approve(client_repo: ClientRepo) -> None:
    assert plan(client_repo, "prod").exit_code == 2
    res = apply(client_repo, "prod", "--approve", "--json")
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout)
    assert body == {
        "env": "prod",
        "status": "applied",
        "exit_code": 0,
        "outputs": {
            "bucket_name": {"value": "acme-prod-data", "sensitive": False, "type": "string"},
            "label": {"value": "one", "sensitive": False, "type": "string"},
            "token": {"value": None, "sensitive": True, "type": "string"},
        },
        "error": None,
    }


def test_plan_json_shape(client_repo: ClientRepo) -> None:
    res = plan(client_repo, "dev", "--json")
    assert res.exit_code == 2
    body = json.loads(res.stdout)
    assert set(body) == {
        "env", "offline", "status", "exit_code", "plan_dir", "plan_file", "plan_json",
        "summary_json", "config_sha256", "state_serial", "summary", "policy", "error",
    }
    assert body["status"] == "changes" and body["exit_code"] == 2
    assert body["summary"]["totals"] == {"create": 2, "update": 0, "delete": 0, "replace": 0}
    assert body["policy"] == {
        "refused": False, "violations": [], "warnings": [], "unused_allowances": []
    }
    assert Path(body["plan_file"]).is_file()

    assert apply(client_repo, "dev").exit_code == 0
    client_repo.set_vars("dev", bucket_name="acme-dev-b")
    res = plan(client_repo, "dev", "--json", *PROTECT)
    assert res.exit_code == 3
    body = json.loads(res.stdout)
    assert body["status"] == "refused" and body["plan_file"] is None
    assert body["policy"]["violations"] == [
        {
            "rule": "protected-destroy",
            "address": BUCKET,
            "message": body["policy"]["violations"][0]["message"],
            "allowed": False,
        }
    ]
    assert body["summary"]["destructive"] == [
        {"address": BUCKET, "type": "terraform_data", "action": "replace",
         "action_reason": "replace_because_cannot_update"}
    ]


def test_errors_exit_1(client_repo: ClientRepo, tmp_path: Path) -> None:
    res = plan(client_repo, "qa")
    assert res.exit_code == 1 and "unknown environment 'qa': this repo has dev, prod" in res.stderr
    res = run("plan", str(tmp_path), "--env", "dev")
    assert res.exit_code == 1 and ".copier-answers.yml not found" in res.stderr
    res = apply(client_repo, "dev")
    assert res.exit_code == 1 and "no saved plan for 'dev'" in res.stderr

    (client_repo.root("dev") / "broken.tf").write_text('output "x" {\n  value = var.nope\n}\n')
    res = plan(client_repo, "dev", "--json")
    assert res.exit_code == 1
    body = json.loads(res.stdout)
    assert body["status"] == "error" and body["summary"] is None
    assert "terraform plan failed" in body["error"]
    assert "Reference to undeclared input variable (broken.tf:2)" in body["error"]
    res = apply(client_repo, "dev", "--json")
    assert res.exit_code == 1
    assert json.loads(res.stdout)["status"] == "error"


def test_apply_json_when_refused(client_repo: ClientRepo) -> None:
    assert plan(client_repo, "prod").exit_code == 2
    res = apply(client_repo, "prod", "--json")
    assert res.exit_code == 3
    body = json.loads(res.stdout)
    assert body["status"] == "refused" and body["outputs"] == {}
    assert "protected environment" in body["error"]


def test_every_environment_after_the_first_needs_approval(tmp_path: Path) -> None:
    """The model's rule (Cloud Build, Jenkins and the README follow it): staging too, not only
    the last environment; the first applies without approval."""
    repo = make_client_repo(tmp_path / "three", ["dev", "staging", "prod"])
    for env in ("staging", "prod"):
        assert plan(repo, env).exit_code == 2
        res = apply(repo, env)
        assert res.exit_code == 3, res.output
        assert f"{env!r} is a protected environment: rerun with --approve" in res.stderr
        assert not repo.state_file(env).exists()
        assert apply(repo, env, "--approve").exit_code == 0
    assert plan(repo, "dev").exit_code == 2
    assert apply(repo, "dev").exit_code == 0  # no prompt, no --approve


def test_no_lock_plans_without_the_state_lock(client_repo: ClientRepo) -> None:
    """Pull request CI plans as an account that may only read state: `--no-lock`."""
    res = plan(client_repo, "dev", "--no-lock")
    assert res.exit_code == 2, res.output
    (line,) = [ln for ln in res.stderr.splitlines() if ln.startswith("[plan] terraform plan")]
    assert "-lock=false" in line
    locked = plan(client_repo, "dev")
    assert "-lock=false" not in locked.stderr
