"""The rendered `cloudbuild/template-update.yaml` run end to end by the local Cloud Build runner
(tests/cloudbuild_local/): the trigger and its substitutions from the render's offline bootstrap
plan, the real config's steps (terraform copied, `scripts/ci_tools.py install --group ci`, then
`mlopsgen template-update --open-pr`) with the token from the GitHub token secret as the
build's account may read it, real copier and git updating a clone of the base branch from a
template repo with two releases, `mlopsgen validate` and the replacement check inside the
build, and a fake GitHub that gets exactly one pull request."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import model
from generator import update_record as rec
from generator.validate import validate_repo
from tests.cloudbuild_local import Trigger, default_images, run_build, triggers_from_plan
from tests.test_template_update import TOKEN, UpdateGitHub, git

from . import ci_python
from .conftest import load_example

pytestmark = [pytest.mark.terraform, pytest.mark.slow, pytest.mark.upgrade]

ANSWERS: dict[str, Any] = {
    **load_example("minimal"),
    "project_layout": "per_environment",
    "environments": ["dev", "prod"],
    "github_app_installation_id": "4242",
    "mlopsgen_source": "https://pypi.invalid/simple/",  # never asked: the pin is installed
}
NEXT_ENTRY = """## v{version}.post1 — a line in the README

**Changes.**
- `README.md` says where template updates come from.

**Migrations.** None.

**Action.** Review the template-update pull request.

"""


def _template(snapshot: Path, dest: Path, version: str) -> Path:
    """The template at `v<version>` (this working tree) and a later release `.post1`."""
    shutil.copytree(snapshot, dest, symlinks=True)
    git(dest, "tag", f"v{version}")
    readme = dest / "templates" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nTemplate updates arrive as pull requests.\n")
    changelog = dest / "CHANGELOG.md"
    text = changelog.read_text()
    at = text.index("## Unreleased")
    changelog.write_text(text[:at] + NEXT_ENTRY.format(version=version) + text[at:])
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "a release that changes the README")
    git(dest, "tag", f"v{version}.post1")
    return dest


def test_the_rendered_build_opens_the_pull_request(template_snapshot: Path,
                                                   tmp_path: Path) -> None:
    version = importlib.metadata.version("mlops-foundations")
    template = _template(template_snapshot, tmp_path / "template", version)
    answers_file = tmp_path / "answers.yml"
    answers_file.write_text(yaml.safe_dump(ANSWERS))
    repo = tmp_path / "repo"
    copier = Path(sys.executable).with_name("copier")
    done = subprocess.run([str(copier), "copy", "--trust", "--defaults", "--quiet", "--vcs-ref",
                           f"v{version}", "--data-file", str(answers_file), str(template),
                           str(repo)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = validate_repo(repo, skip=("test", "checkov"))
    assert report.ok, "\n".join(p.one_line() for p in report.problems)
    trigger = triggers_from_plan(report.plans["terraform/bootstrap"])["template-update"]
    ctx = model.build_context(model.validate_answers(ANSWERS), template_ref=f"v{version}")
    update, cicd = ctx["ci"]["template_update"], ctx["cicd_project"]["id"]
    full = f"{ctx['github']['owner']}/{ctx['github']['repo']}"
    assert trigger.service_account == update["email"]
    assert trigger.substitutions["_BASE_BRANCH"] == update["base_branch"]

    # the client repo on "GitHub": a bare repo the build clones and pushes, and the API fake
    base = update["base_branch"]
    remotes = tmp_path / "remotes"
    bare = remotes / f"{full}.git"
    bare.parent.mkdir(parents=True)
    git(tmp_path, "init", "-q", "--bare", "-b", base, str(bare))
    git(repo, "init", "-q", "-b", base)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "rendered")
    git(repo, "push", "-q", str(bare), base)
    secret = f"projects/{cicd}/secrets/github-token"
    python, python_env = ci_python.build_python(tmp_path)  # the bare image (tests/ci_python.py)
    with UpdateGitHub(bare, full, default_branch=base) as github:
        result = run_build(
            # the replacement check (tests/upgrade tests it) is left out: minutes of plans
            repo / trigger.filename,
            substitutions={**trigger.substitutions, "_UPDATE_OPTIONS": "--no-plan-diff"},
            workspace=tmp_path / "workspace", source=repo,
            images=default_images(python=python),
            secrets={secret: TOKEN}, readable_secrets=[secret],
            trigger=Trigger(trigger.name, git(repo, "rev-parse", "HEAD"), branch=base,
                            repo_full_name=full),
            service_account=trigger.service_account, project_id=cicd,
            location=str(ctx["region"]),
            env={**python_env, "GITHUB_API_URL": github.url,
                 "GITHUB_SERVER_URL": remotes.as_uri()})
        assert result.ok, result.log[-6000:]
        (pull,) = github.open_pulls()
    assert pull["head"]["ref"] == f"template-update/v{version}.post1"
    assert pull["base"]["ref"] == base and pull["user"]["login"] == "template-update-bot"
    assert pull["title"] == f"Template update v{version} → v{version}.post1"
    body = pull["body"]
    assert "Review the template-update pull request." in body and "**Action.**" not in body
    record = rec.parse_update_record(body)
    assert record is not None and record.to_version == f"v{version}.post1"
    assert record.conflicts == () and record.validation in ("ok", "failed")
    assert record.summary and "### Validation" in body and "Replacement check" not in body
    head = pull["head"]["sha"]
    assert "Template updates arrive as pull requests." in git(bare, "show", f"{head}:README.md")
    answers = yaml.safe_load(git(bare, "show", f"{head}:.copier-answers.yml"))
    assert answers["_commit"] == f"v{version}.post1"
    assert rec.parse_update_record(git(bare, "log", "-1", "--format=%B", head)) == record
    assert json.dumps(record.to_json())  # the record fleet status reads
