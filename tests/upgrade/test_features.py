"""`mlopsgen enable/disable FEATURE REPO`: the features answer changes and the repo goes through
the update path at its own template version (real copier, real git, offline terraform for the
replacement check)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import main as cli
from tests.upgrade import builder


@pytest.fixture(scope="module")
def rendered(template_repo: Path, answers: dict[str, Any],
             tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/minimal.yml with Workbench, rendered at v0.1.0 of a template with three tags."""
    return builder.render_client(template_repo, tmp_path_factory.mktemp("features") / "client",
                                 {**answers, "features": ["workbench"]})


@pytest.fixture
def client(rendered: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "client"
    shutil.copytree(rendered, copy, symlinks=True)
    return copy


def recorded(repo: Path) -> dict[str, Any]:
    data = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert isinstance(data, dict)
    return data


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_enable_at_the_repos_own_version(client: Path) -> None:
    result = run("enable", "model_monitoring", str(client), "--no-validate", "--no-plan-diff",
                 "--commit", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["features_before"] == ["workbench"]
    assert report["features_after"] == ["workbench", "model_monitoring"]
    assert (report["update"]["from_version"], report["update"]["to_version"]) == (
        "v0.1.0", "v0.1.0")
    answers = recorded(client)
    assert answers["features"] == ["workbench", "model_monitoring"]
    assert answers["_commit"] == "v0.1.0"  # no template update came along
    assert not (client / "SUPPORT.md").exists()  # a v0.2.0 file
    main_tf = (client / "terraform" / "envs" / "prod" / "main.tf").read_text()
    assert "model_monitoring" in main_tf
    assert builder.git(client, "status", "--porcelain") == ""
    assert builder.git(client, "log", "-1", "--format=%s").strip() == (
        "Enable the model_monitoring feature (mlopsgen enable)")
    again = run("enable", "model_monitoring", str(client))
    assert again.exit_code == 0 and "already enabled; nothing to do" in again.stdout


def test_disable_lists_what_it_would_destroy(client: Path) -> None:
    result = run("disable", "workbench", str(client), "--no-validate", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["features_after"] == []
    replacements = report["update"]["replacements"]
    assert replacements["status"] == "ok", replacements
    deleted = {d["address"] for d in replacements["destructions"] if d["action"] == "delete"}
    assert "module.platform.module.workbench[0].google_workbench_instance.this" in deleted
    assert "module.platform.module.notebook_sa[0].google_service_account.this" in deleted
    assert recorded(client)["features"] == []
    assert recorded(client)["_commit"] == "v0.1.0"
    assert ".copier-answers.yml" in builder.git(client, "status", "--porcelain")  # not committed
    text = run("disable", "workbench", str(client))
    assert text.exit_code == 1 and "uncommitted changes" in text.output  # refused: dirty


def test_a_feature_the_model_refuses_changes_nothing(client: Path) -> None:
    before = (client / ".copier-answers.yml").read_text()
    for verb in ("enable", "disable"):
        result = run(verb, "model_monitorin", str(client))
        assert result.exit_code == 1, result.output
        assert "invalid answers; nothing was written" in result.output
        assert "unknown feature(s) ['model_monitorin']" in result.output
    assert (client / ".copier-answers.yml").read_text() == before
    assert builder.git(client, "status", "--porcelain") == ""
    off = run("disable", "cmek", str(client))
    assert off.exit_code == 0 and "cmek is not enabled; nothing to do" in off.stdout


def test_a_dirty_repo_is_refused(client: Path) -> None:
    (client / "notes.txt").write_text("work in progress\n")
    result = run("enable", "cmek", str(client), "--json")
    assert result.exit_code == 1
    assert "uncommitted changes" in json.loads(result.stdout)["error"]
    assert recorded(client)["features"] == ["workbench"]


def test_fleet_status_reads_a_real_render(client: Path, template_repo: Path) -> None:
    """A render's own answers file and git: at v0.1.0 of three releases, before and after a
    feature is enabled (the version stays)."""
    for step in ("rendered", "enabled"):
        result = run("fleet", "status", "--repos", str(client), "--json")
        assert result.exit_code == 4, result.output  # behind, no update open
        row = json.loads(result.stdout)["repos"][0]
        assert (row["version"], row["latest"], row["behind"], row["state"]) == (
            "v0.1.0", "v0.3.0", 2, "behind"), step
        assert row["template"] == str(template_repo)
        if step == "rendered":
            enabled = run("enable", "cmek", str(client), "--no-validate", "--no-plan-diff",
                          "--commit")
            assert enabled.exit_code == 0, enabled.output
