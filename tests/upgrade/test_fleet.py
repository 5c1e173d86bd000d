"""`mlopsgen fleet`: many client repos, in parallel processes, one table and one JSON report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator import fleet
from generator.cli import main as cli
from tests.upgrade import builder


@pytest.fixture(scope="module")
def fleet_dir(template_repo: Path, answers: dict[str, Any], other_answers: dict[str, Any],
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    """a: v0.1.0, another answer set, with a client resource in each env root; b: v0.1.0 with
    an edit v0.2.0 conflicts with; c: already at the latest version; d: a git repo that lost
    its answers file."""
    base = tmp_path_factory.mktemp("fleet") / "clients"
    base.mkdir()
    a = builder.render_client(template_repo, base / "a", other_answers)
    for env in ("dev", "prod"):
        with (a / "terraform" / "envs" / env / "main.tf").open("a") as main_tf:
            main_tf.write(f'\nresource "terraform_data" "client_{env}" {{\n  input = "{env}"\n}}\n')
    builder.commit_all(a)
    b = builder.render_client(template_repo, base / "b", answers)
    readme = b / "README.md"
    readme.write_text("# Our own title\n" + readme.read_text().split("\n", 1)[1])
    builder.commit_all(b)
    builder.render_client(template_repo, base / "c", answers, vcs_ref="v0.3.0")
    d = builder.render_client(template_repo, base / "d", answers)
    builder.git(d, "rm", "-q", ".copier-answers.yml")
    builder.commit_all(d)
    (base / "not-a-repo").mkdir()
    return base


@pytest.fixture(scope="module")
def fleet_update(fleet_dir: Path) -> tuple[Any, dict[str, Any]]:
    report = fleet_dir.parent / "report.json"
    result = CliRunner().invoke(
        cli, ["fleet", "update", "--repos", str(fleet_dir), "--jobs", "2", "--no-validate",
              "--no-plan-diff", "--json-report", str(report)],
    )
    return result, json.loads(report.read_text())


def test_fleet_update_reports_each_repo_and_fails_when_any_needs_attention(
    fleet_update: tuple[Any, dict[str, Any]], fleet_dir: Path
) -> None:
    result, report = fleet_update
    assert result.exit_code == 4, result.output  # some repos need attention
    by_name = {Path(r["repo"]).name: r for r in report["repos"]}
    assert set(by_name) == {"a", "b", "c", "d"}  # not-a-repo is not a client repo
    assert (by_name["a"]["status"], by_name["a"]["from_version"], by_name["a"]["to_version"]) == (
        "updated", "v0.1.0", "v0.3.0")
    assert by_name["b"]["status"] == "conflicts" and by_name["b"]["conflicts"] == ["README.md"]
    assert by_name["c"]["status"] == "up-to-date" and by_name["c"]["changed"] == 0
    assert by_name["d"]["status"] == "error"
    assert "has no .copier-answers.yml" in by_name["d"]["error"]
    assert report["summary"]["needs_attention"] == 2
    assert [r["needs_attention"] for r in report["repos"]] == [False, True, False, True]


def test_fleet_table_has_one_row_per_repo(fleet_update: tuple[Any, dict[str, Any]]) -> None:
    result, report = fleet_update
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "repo", "from", "to", "conflicts", "validation", "replaces", "status"]
    for repo in report["repos"]:
        row = next(line for line in lines if line.startswith(repo["repo"] + " "))
        assert row.split()[-1] == repo["status"]
    assert "4 repos, 2 need attention" in result.stdout


def test_fleet_update_wrote_each_repo_independently(
    fleet_update: tuple[Any, dict[str, Any]], fleet_dir: Path
) -> None:
    a = fleet_dir / "a"
    assert "(managed by mlopsgen)" in (a / "README.md").read_text()
    assert 'Fabrikam "Retail" &amp; Co' in (a / "README.md").read_text()
    prod_main = (a / "terraform" / "envs" / "prod" / "main.tf").read_text()
    assert 'resource "terraform_data" "client_prod"' in prod_main
    assert builder.V3_README_SECTION in (a / "README.md").read_text()
    assert "<<<<<<< before updating" in (fleet_dir / "b" / "README.md").read_text()
    assert builder.git(fleet_dir / "c", "status", "--porcelain") == ""


def test_fleet_validate_reads_a_repo_list_file(
    template_repo: Path, answers: dict[str, Any], tmp_path: Path
) -> None:
    """Someone committed a file with conflict markers; another repo lost its answers."""
    clients = tmp_path / "clients"
    clients.mkdir()
    b = builder.render_client(template_repo, clients / "b", answers)
    block = "<<<<<<< before updating\nours\n=======\ntheirs\n>>>>>>> after updating\n"
    (b / "README.md").write_text(block + (b / "README.md").read_text())
    builder.commit_all(b, "resolved (not really)")
    d = builder.render_client(template_repo, clients / "d", answers)
    builder.git(d, "rm", "-q", ".copier-answers.yml")
    builder.commit_all(d)
    listing = tmp_path / "repos.txt"
    listing.write_text("# clients that need a look\nclients/b\n\nclients/d  # lost answers\n")
    report = tmp_path / "out" / "validate.json"
    result = CliRunner().invoke(
        cli, ["fleet", "validate", "--repos", str(listing), "-j", "2", "--json-report", str(report)]
    )
    assert result.exit_code == 4, result.output  # some repos need attention
    rows = {line.split()[0]: line.split()[-1] for line in result.stdout.splitlines()[2:4]}
    assert rows == {str(b): "conflicts", str(d): "error"}
    repos = json.loads(report.read_text())["repos"]
    assert repos[0]["conflicts"] == ["README.md"] and repos[0]["from_version"] == "v0.1.0"


def test_discover_repos_rules(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / ".copier-answers.yml").write_text("_src_path: t\n")
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / ".git").mkdir()
    (tmp_path / "docs").mkdir()
    listing = tmp_path / "list.txt"
    listing.write_text("x\n# comment\n x \n")
    assert fleet.discover_repos([tmp_path]) == [tmp_path / "x", tmp_path / "y"]
    assert fleet.discover_repos([listing, tmp_path / "x"]) == [tmp_path / "x"]
    assert fleet.discover_repos([tmp_path / "x"]) == [tmp_path / "x"]
    with pytest.raises(fleet.FleetError, match="no such file"):
        fleet.discover_repos([tmp_path / "missing"])
    with pytest.raises(fleet.FleetError, match="no client repos"):
        fleet.discover_repos([tmp_path / "docs"])


def test_unusable_repo_list_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["fleet", "update", "--repos", str(tmp_path)])
    assert result.exit_code == 1  # could not run
    assert "no client repos found" in result.stderr
