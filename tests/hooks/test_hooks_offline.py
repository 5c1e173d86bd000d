"""`mlopsgen plan --offline` / `apply --offline`: a scratch copy with a local backend and the
stand-in providers of generator.offline (issue 3), on fixture repos and a rendered example."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from hookfixtures import ClientRepo, needs_terraform

from generator.cli import main

pytestmark = [needs_terraform, pytest.mark.terraform, pytest.mark.usefixtures("tf_env")]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_offline_plan_and_rehearsal_apply(client_repo: ClientRepo) -> None:
    repo = str(client_repo.path)
    res = run("plan", repo, "--env", "dev", "--offline", "--quiet")
    assert res.exit_code == 2, res.output
    assert "Plan for dev (offline preview)" in res.stdout
    rec = json.loads((client_repo.plan_dir("dev", offline=True) / "summary.json").read_text())
    assert rec["offline"] is True
    # the real root is untouched: no init there, no state in its backend
    assert not (client_repo.root("dev") / ".terraform").exists()
    assert not client_repo.state_file("dev").exists()
    # an offline preview is never applied for real
    res = run("apply", repo, "--env", "dev", "--quiet")
    assert res.exit_code == 1 and "no saved plan for 'dev'" in res.stderr

    res = run("apply", repo, "--env", "dev", "--offline", "--quiet")
    assert res.exit_code == 0, res.output
    assert "Applied the saved plan to offline rehearsal state." in res.stdout
    assert not client_repo.state_file("dev").exists()
    assert run("plan", repo, "--env", "dev", "--offline", "--quiet").exit_code == 0

    client_repo.set_vars("dev", bucket_name="acme-dev-renamed")
    args = ("plan", repo, "--env", "dev", "--offline", "--quiet",
            "--protect-type", "terraform_data")
    assert run(*args).exit_code == 3
    assert run(*args, "--allow-destroy", "terraform_data.bucket").exit_code == 2


def _rendered(render_repo, example: str = "full") -> Path:  # type: ignore[no-untyped-def]
    return Path(render_repo(yaml.safe_load((EXAMPLES / f"{example}.yml").read_text())))


@pytest.mark.slow
def test_rendered_full_example_plans_offline(render_repo) -> None:  # type: ignore[no-untyped-def]
    dest = _rendered(render_repo)
    envs = yaml.safe_load((dest / ".copier-answers.yml").read_text())["environments"]
    for env in envs:
        res = run("plan", str(dest), "--env", env, "--offline", "--quiet", "--json")
        assert res.exit_code == 2, res.output
        body = json.loads(res.stdout)
        assert body["status"] == "changes"
        assert body["summary"]["totals"]["create"] > 0
        assert body["summary"]["by_type"]["google_storage_bucket"]["create"] >= 1


def _violations(body: dict) -> list[tuple[str, str, bool]]:  # type: ignore[type-arg]
    return [(v["rule"], v["address"], v["allowed"]) for v in body["policy"]["violations"]]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def _rename(root: Path, old: str, new: str) -> None:
    """Change a generated name (a quoted string) wherever the environment root states it."""
    files = [f for f in sorted(root.glob("*.tf*")) if f'"{old}"' in f.read_text()]
    assert files, f"{old!r} is in no file of {root}"
    for f in files:
        _edit(f, f'"{old}"', f'"{new}"')


def _after(plan_json: str, rtype: str, fragment: str, attr: str) -> tuple[str, str]:
    """(address, planned ATTR) of the one RTYPE change whose address contains FRAGMENT."""
    plan = json.loads(Path(plan_json).read_text())
    [found] = [(rc["address"], rc["change"]["after"][attr]) for rc in plan["resource_changes"]
               if rc["type"] == rtype and fragment in rc["address"]]
    return found


@pytest.mark.slow
def test_rendered_bucket_replacement_is_refused_then_allowed(
    render_repo, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """Renaming a bucket plans a replacement (the stand-in knows `name` forces one) and the
    gate refuses it: no --replace needed."""
    dest = tmp_path / "repo"
    shutil.copytree(_rendered(render_repo, "minimal"), dest)  # the smallest render: one env
    env = "prod"
    res = run("plan", str(dest), "--env", env, "--offline", "--quiet", "--json")
    assert res.exit_code == 2, res.output
    plan_json = json.loads(res.stdout)["plan_json"]
    bucket, name = _after(plan_json, "google_storage_bucket", ".data_bucket.", "name")
    assert run("apply", str(dest), "--env", env, "--offline", "--quiet").exit_code == 0
    _rename(dest / "terraform" / "envs" / env, name, f"{name}-v2")
    # renaming the data bucket is refused...
    res = run("plan", str(dest), "--env", env, "--offline", "--quiet", "--json")
    assert res.exit_code == 3, res.output
    body = json.loads(res.stdout)
    assert _violations(body) == [("protected-destroy", bucket, False)]
    assert {"address": bucket, "type": "google_storage_bucket", "action": "replace",
            "action_reason": "replace_because_cannot_update"} in body["summary"]["destructive"]
    # ...until --allow-destroy names it
    res = run("plan", str(dest), "--env", env, "--offline", "--quiet", "--allow-destroy", bucket)
    assert res.exit_code == 2, res.output
    assert f"ALLOWED: plan would replace protected google_storage_bucket {bucket}" in res.stdout


@pytest.mark.slow
def test_force_new_changes_of_protected_types_plan_replacements(
    render_repo, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """A changed force-new attribute of a bucket, a dataset, a KMS key and a project, after an
    offline apply: each plans a replacement (cascading to what references it), and the gate
    refuses it."""
    dest = tmp_path / "repo"
    shutil.copytree(_rendered(render_repo, "full"), dest)  # dev: created project, cmek on
    env = "dev"
    root = dest / "terraform" / "envs" / env
    kms = dest / "terraform" / "modules" / "kms" / "main.tf"
    res = run("plan", str(dest), "--env", env, "--offline", "--quiet", "--json")
    assert res.exit_code == 2, res.output
    plan_json = json.loads(res.stdout)["plan_json"]
    _, bucket_name = _after(plan_json, "google_storage_bucket", ".data_bucket.", "name")
    _, dataset_id = _after(plan_json, "google_bigquery_dataset", '["training"]', "dataset_id")
    _, project_id = _after(plan_json, "google_project", "", "project_id")
    assert run("apply", str(dest), "--env", env, "--offline", "--quiet").exit_code == 0

    def plan(*extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        res = run("plan", str(dest), "--env", env, "--offline", "--quiet", "--json", *extra)
        return res.exit_code, json.loads(res.stdout)

    def refused(body: dict, rtype: str) -> list[str]:  # type: ignore[type-arg]
        replaced = {c["address"] for c in body["summary"]["destructive"]
                    if c["type"] == rtype and c["action"] == "replace"}
        blocked = {a for rule, a, allowed in _violations(body)
                   if rule == "protected-destroy" and not allowed}
        assert replaced and replaced <= blocked, (replaced, blocked)
        return sorted(replaced)

    # a bucket's and a dataset's name (location would do as well)
    _rename(root, bucket_name, f"{bucket_name}2")
    _rename(root, dataset_id, f"{dataset_id}2")
    code, body = plan()
    assert code == 3
    [bucket] = refused(body, "google_storage_bucket")
    [dataset] = refused(body, "google_bigquery_dataset")
    assert ".data_bucket." in bucket and '["training"]' in dataset
    # what grants on them is replaced with them (their bucket/dataset_id forces it too), and
    # the quality scan of the dataset's table (its data.resource forces it)
    assert {c["type"] for c in body["summary"]["destructive"]} == {
        "google_storage_bucket", "google_storage_bucket_iam_member",
        "google_bigquery_dataset", "google_bigquery_dataset_iam_member",
        "google_dataplex_datascan",
    }
    code, _ = plan("--allow-destroy", bucket, "--allow-destroy", dataset)
    assert code == 2
    _rename(root, f"{bucket_name}2", bucket_name)
    _rename(root, f"{dataset_id}2", dataset_id)

    # a KMS key's protection level (a nested force-new attribute: version_template[0]...)
    _edit(kms, 'protection_level = "SOFTWARE"', 'protection_level = "HSM"')
    code, body = plan()
    assert code == 3
    assert len(refused(body, "google_kms_crypto_key")) >= 2
    _edit(kms, 'protection_level = "HSM"', 'protection_level = "SOFTWARE"')
    assert plan()[0] == 0

    # the project id: the project and everything in it
    _rename(root, project_id, f"{project_id[:-1]}x")
    code, body = plan()
    assert code == 3
    [project] = refused(body, "google_project")
    assert "module.project" in project
    refused(body, "google_storage_bucket")
    refused(body, "google_kms_crypto_key")  # its key ring is replaced: key_ring forces it


@pytest.mark.slow
def test_offline_plan_of_a_git_sourced_render_needs_no_network(
    render_repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    """`module_source: git` renders reference the template by URL; `plan --offline` must plan
    them from the local template (the same workspace validate uses), never fetching."""
    answers = yaml.safe_load((EXAMPLES / "minimal.yml").read_text())
    answers.update(module_source="git",
                   module_git_url="https://github.com/example-consultancy/mlops-foundations.git")
    dest = tmp_path / "repo"
    shutil.copytree(Path(render_repo(answers)), dest)
    main_tf = (dest / "terraform" / "envs" / "prod" / "main.tf").read_text()
    assert "git::https://github.com/example-consultancy/mlops-foundations.git//" in main_tf
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file")  # any fetch over the network fails at once
    res = run("plan", str(dest), "--env", "prod", "--offline", "--quiet", "--json")
    assert res.exit_code == 2, res.output
    body = json.loads(res.stdout)
    assert body["summary"]["by_type"]["google_storage_bucket"]["create"] >= 1
