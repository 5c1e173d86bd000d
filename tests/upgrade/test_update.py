"""`mlopsgen update` with real copier and real git, across tagged template versions.

A client repo is rendered at v0.1.0, edited the way clients edit (a resource in an env root, a
tfvars value, a README section, a new file, a deleted optional file) and updated to v0.2.0
(see tests/upgrade/builder.py for what each version changes)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from generator import update as upd
from generator.cli import main as cli
from tests.upgrade import builder

CLIENT_RESOURCE = 'resource "terraform_data" "client_audit_marker" {\n  input = "client-owned"\n}\n'
CLIENT_OWNED = 'notification_email = "alerts@contoso.example"\n'
CLIENT_SECTION = "## Client notes\n\nOur data team owns the `prod` dataset refresh.\n\n"


def env_root(repo: Path) -> Path:
    roots = sorted(p for p in (repo / "terraform" / "envs").glob("*") if p.is_dir())
    assert roots, f"no terraform/envs/<env>/ in {repo}"
    return roots[0]


def tree_digest(repo: Path) -> dict[str, str]:
    """Every file outside .git with its content hash."""
    return {
        str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }


def git_state(repo: Path) -> tuple[str, str, dict[str, str]]:
    head = builder.git(repo, "rev-parse", "HEAD")
    status = builder.git(repo, "status", "--porcelain", "--untracked-files=all")
    return head, status, tree_digest(repo)


def edit_tfvars(path: Path) -> tuple[str, str]:
    """The client routes alerts elsewhere: a new `notification_email` value."""
    lines = path.read_text().splitlines(keepends=True)
    for i, line in enumerate(lines):
        match = re.match(r'^notification_email(\s*)= "([^"]*)"\n$', line)
        if match:
            new = f'notification_email{match.group(1)}= "ml-oncall@contoso.example"\n'
            lines[i] = new
            path.write_text("".join(lines))
            return line, new
    raise AssertionError(f"no notification_email in {path}")


def insert_readme_section(path: Path) -> None:
    """Insert a client section before the third `## ` heading (away from the title and the
    end, which the template changes)."""
    lines = path.read_text().splitlines(keepends=True)
    headings = [i for i, line in enumerate(lines) if line.startswith("## ")]
    assert len(headings) >= 3, "README has fewer than three sections"
    at = headings[2]
    path.write_text("".join([*lines[:at], CLIENT_SECTION, *lines[at:]]))


@dataclass
class Edited:
    repo: Path
    report: upd.UpdateReport
    tfvars_old: str
    tfvars_new: str
    task_runs: list[str]


@pytest.fixture(scope="module")
def edited(template_repo: Path, answers: dict[str, Any],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edited]:
    base = tmp_path_factory.mktemp("edited")
    repo = builder.render_client(template_repo, base / "client", answers)
    root = env_root(repo)
    with (root / "main.tf").open("a") as main_tf:
        main_tf.write("\n" + CLIENT_RESOURCE)
    (root / "client.tf").write_text(CLIENT_RESOURCE.replace("client_audit_marker", "extra"))
    old, new = edit_tfvars(root / "terraform.tfvars")
    (root / "client.auto.tfvars").write_text(CLIENT_OWNED)
    insert_readme_section(repo / "README.md")
    (repo / builder.DELETED).unlink()
    builder.commit_all(repo)
    runs_before = len(builder.task_runs(template_repo))
    report = upd.update_repo(repo, vcs_ref="v0.2.0", validate=False)
    yield Edited(repo, report, old, new, builder.task_runs(template_repo)[runs_before:])


# ------------------------------------------------------------------ edits survive


def test_resource_added_to_env_root_survives(edited: Edited) -> None:
    root = env_root(edited.repo)
    assert CLIENT_RESOURCE in (root / "main.tf").read_text()
    assert 'module "platform"' in (root / "main.tf").read_text()
    assert "extra" in (root / "client.tf").read_text()


def test_changed_tfvars_value_survives(edited: Edited) -> None:
    text = (env_root(edited.repo) / "terraform.tfvars").read_text()
    assert edited.tfvars_new in text
    assert edited.tfvars_old not in text


def test_client_owned_file_is_never_touched(edited: Edited) -> None:
    """_skip_if_exists: v0.2.0 changed the template's client.auto.tfvars; the client's stays."""
    assert (env_root(edited.repo) / "client.auto.tfvars").read_text() == CLIENT_OWNED


def test_readme_section_survives_and_template_sections_arrive(edited: Edited) -> None:
    text = (edited.repo / "README.md").read_text()
    assert CLIENT_SECTION in text
    assert builder.V2_README_SECTION in text
    assert text.splitlines()[0].endswith("(managed by mlopsgen)")
    assert builder.V3_README_SECTION not in text  # updated to v0.2.0, not the latest


def test_deleted_optional_file_stays_deleted(edited: Edited) -> None:
    assert not (edited.repo / builder.DELETED).exists()


def test_new_answer_gets_its_default_and_new_files_arrive(edited: Edited) -> None:
    recorded = yaml.safe_load((edited.repo / upd.ANSWERS_FILE).read_text())
    assert recorded["support_tier"] == "standard"
    assert recorded["_commit"] == "v0.2.0"
    assert "Tier: standard" in (edited.repo / "SUPPORT.md").read_text()


def test_clean_update_reports_no_conflicts(edited: Edited) -> None:
    report = edited.report
    assert report.conflicts == []
    assert (report.from_version, report.to_version) == ("v0.1.0", "v0.2.0")
    assert "README.md" in report.changed and "SUPPORT.md" in report.changed
    assert upd.conflict_files(edited.repo) == []
    assert not report.needs_attention


def test_migration_moved_the_renamed_file(edited: Edited) -> None:
    assert not (edited.repo / builder.RENAMED_FROM).exists()
    assert "ENTRYPOINT" in (edited.repo / builder.RENAMED_TO).read_text()
    assert (edited.repo / builder.PROBE).read_text() == "0.1.0 -> 0.2.0\n"


def test_tasks_ran_in_every_copier_pass_and_stay_idempotent(edited: Edited) -> None:
    runs = edited.task_runs
    # v0.1.0 has no task; v0.2.0's runs in the repo and in copier's fresh render of v0.2.0
    assert len(runs) == 2, runs
    assert str(edited.repo) in runs
    lines = (edited.repo / ".gitignore").read_text().splitlines()
    assert lines.count(builder.TASK_LINE) == 1


def test_an_update_without_infrastructure_changes_replaces_nothing(edited: Edited) -> None:
    """The replacement check ran (both versions planned offline, every root rehearsed) and
    found nothing to destroy: v0.2.0 changes docs and files, not resources."""
    r = edited.report.replacements
    assert (r.status, r.destructions, r.errors) == ("ok", [], []), r.lines()
    # every environment root was rehearsed (a bootstrap reading environment states from Cloud
    # Storage cannot be, offline: a note says so)
    assert not [n for n in r.notes if "terraform/envs/" in n], r.notes
    assert "replacements: none" in upd.format_report(edited.report)


def test_updated_repo_passes_offline_validation(edited: Edited) -> None:
    """Issue 7's bar: rendered from an older version, edited, updated: `mlopsgen validate`
    (offline: fmt, init, validate, plan, terraform test, Cloud Build checks, checkov) passes."""
    validate = pytest.importorskip("generator.validate")
    report = validate.validate_repo(edited.repo)
    assert report.ok, validate.format_report(report)


# ------------------------------------------------------------------ conflicts, dry run


@dataclass
class Conflicting:
    repo: Path
    before: tuple[str, str, dict[str, str]]
    dry_run: subprocess.CompletedProcess[str]  # `mlopsgen update --dry-run --json`
    after_dry_run: tuple[str, str, dict[str, str]]
    update: Any  # click Result of `update`


@pytest.fixture(scope="module")
def conflicting(template_repo: Path, answers: dict[str, Any],
                tmp_path_factory: pytest.TempPathFactory) -> Conflicting:
    """Edits on lines v0.2.0 also changes (the README title, the file it renames); a dry run,
    then the update, both through the CLI."""
    repo = builder.render_client(template_repo, tmp_path_factory.mktemp("c") / "client", answers)
    readme = repo / "README.md"
    lines = readme.read_text().splitlines(keepends=True)
    lines[0] = "# Contoso's forecasting platform\n"
    readme.write_text("".join(lines))
    with (repo / builder.RENAMED_FROM).open("a") as dockerfile:
        dockerfile.write("LABEL owner=contoso-ml\n")
    builder.commit_all(repo)
    before = git_state(repo)
    dry = subprocess.run(  # a real process: migrations' output must not end up in the JSON
        [sys.executable, "-m", "generator.cli", "update", str(repo), "--vcs-ref", "v0.2.0",
         "--dry-run", "--json", "--no-validate"],
        capture_output=True, text=True, check=False, cwd=builder.ROOT,
    )
    after_dry = git_state(repo)
    real = CliRunner().invoke(cli, ["update", str(repo), "--vcs-ref", "v0.2.0", "--no-validate"])
    return Conflicting(repo, before, dry, after_dry, real)


def test_dry_run_writes_nothing_and_shows_the_diff(conflicting: Conflicting) -> None:
    assert conflicting.after_dry_run == conflicting.before
    result = conflicting.dry_run
    assert result.returncode == 4, result.stderr[-2000:]  # it would conflict
    report = json.loads(result.stdout)
    assert report["dry_run"] is True
    assert report["to_version"] == "v0.2.0"
    assert "SUPPORT.md" in report["changed"]
    assert "README.md" in report["conflicts"]


def test_conflicting_edit_gets_markers_and_a_nonzero_exit_naming_the_file(
    conflicting: Conflicting,
) -> None:
    result = conflicting.update
    assert result.exit_code == 4, result.output  # needs attention
    assert "CONFLICTS" in result.stdout
    assert "README.md" in result.stderr
    text = (conflicting.repo / "README.md").read_text()
    assert "<<<<<<< before updating" in text and ">>>>>>> after updating" in text
    assert "# Contoso's forecasting platform" in text  # the client's line is kept
    assert "(managed by mlopsgen)" in text  # next to the template's
    unmerged = builder.git(conflicting.repo, "ls-files", "-u")
    assert "README.md" in unmerged


def test_edited_renamed_file_keeps_the_edit_and_is_reported(conflicting: Conflicting) -> None:
    """A migration moved the file; the client's edit meets the template's version of the
    new name as a reported conflict (nothing is silently dropped)."""
    repo = conflicting.repo
    assert "LABEL owner=contoso-ml" in (repo / builder.RENAMED_TO).read_text()
    assert not (repo / builder.RENAMED_FROM).exists()
    assert builder.RENAMED_TO in upd.conflict_files(repo)
    assert builder.RENAMED_TO in conflicting.update.stderr


# ------------------------------------------------------------------ migrations across versions


@pytest.fixture(scope="module")
def chain(template_repo: Path, answers: dict[str, Any],
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Unedited repo: v0.1.0 -> v0.2.0 (committed) -> v0.3.0 (latest tag, no --vcs-ref)."""
    base = tmp_path_factory.mktemp("chain")
    repo = builder.render_client(template_repo, base / "client", answers)
    first = upd.update_repo(repo, vcs_ref="v0.2.0", validate=False, commit=True,
                            plan_diff=False)
    probe_after_first = (repo / builder.PROBE).read_text()
    runs_before = len(builder.task_runs(template_repo))
    second = upd.update_repo(repo, validate=False, plan_diff=False)
    runs = builder.task_runs(template_repo)[runs_before:]
    fresh = builder.render_client(template_repo, base / "fresh", answers, vcs_ref="v0.3.0")
    return {"repo": repo, "first": first, "second": second, "fresh": fresh,
            "probe_after_first": probe_after_first, "task_runs": runs}


def test_pure_rename_updates_cleanly_and_commits(chain: dict[str, Any]) -> None:
    first: upd.UpdateReport = chain["first"]
    assert first.conflicts == [] and first.committed
    assert chain["probe_after_first"] == "0.1.0 -> 0.2.0\n"


def test_migration_runs_once_not_again_on_later_updates(chain: dict[str, Any]) -> None:
    second: upd.UpdateReport = chain["second"]
    assert (second.from_version, second.to_version) == ("v0.2.0", "v0.3.0")
    assert second.conflicts == []
    assert (chain["repo"] / builder.PROBE).read_text() == "0.1.0 -> 0.2.0\n"


def test_migration_does_not_run_when_not_crossing_its_version(
    template_repo: Path, answers: dict[str, Any], tmp_path: Path
) -> None:
    repo = builder.render_client(template_repo, tmp_path / "client", answers, vcs_ref="v0.2.0")
    report = upd.update_repo(repo, vcs_ref="v0.3.0", validate=False, plan_diff=False)
    assert report.to_version == "v0.3.0" and report.conflicts == []
    assert not (repo / builder.PROBE).exists()
    assert builder.V3_README_SECTION in (repo / "README.md").read_text()


def test_update_equals_a_fresh_render_of_the_new_version(chain: dict[str, Any]) -> None:
    """Three task runs (old render, new render, the repo) leave what one render leaves."""
    updated, fresh = tree_digest(chain["repo"]), tree_digest(chain["fresh"])
    # intended differences: the probe migration's log, and client-owned files (written once)
    updated.pop(builder.PROBE)
    owned = [name for name in fresh if name.endswith("client.auto.tfvars")]
    assert owned
    for name in owned:
        assert updated.pop(name) != fresh.pop(name)
        assert builder.V2_CLIENT_OWNED_LINE not in (chain["repo"] / name).read_text()
    assert updated == fresh
    assert len(chain["task_runs"]) == 3  # old render, the repo, new render


def test_up_to_date_repo_is_a_no_op(chain: dict[str, Any]) -> None:
    repo: Path = chain["repo"]
    builder.commit_all(repo, "v0.3.0")
    before = git_state(repo)
    result = CliRunner().invoke(cli, ["update", str(repo), "--no-validate", "--no-plan-diff"])
    assert result.exit_code == 0, result.output
    assert "no changes" in result.stdout
    assert git_state(repo) == before


# ------------------------------------------------------------------ refusals


def test_dirty_repo_is_refused_and_left_alone(
    template_repo: Path, answers: dict[str, Any], tmp_path: Path
) -> None:
    repo = builder.render_client(template_repo, tmp_path / "client", answers)
    with (repo / "README.md").open("a") as readme:
        readme.write("uncommitted\n")
    (repo / "scratch.txt").write_text("new\n")
    before = git_state(repo)
    result = CliRunner().invoke(cli, ["update", str(repo), "--no-validate", "--no-plan-diff"])
    assert result.exit_code == 1  # could not run
    assert "uncommitted changes" in result.stderr
    assert "README.md" in result.stderr and "scratch.txt" in result.stderr
    assert git_state(repo) == before


def test_repo_without_answers_file_is_refused(
    template_repo: Path, answers: dict[str, Any], tmp_path: Path
) -> None:
    repo = builder.render_client(template_repo, tmp_path / "client", answers)
    builder.git(repo, "rm", "-q", upd.ANSWERS_FILE)
    builder.commit_all(repo, "lost the answers")
    result = CliRunner().invoke(cli, ["update", str(repo)])
    assert result.exit_code == 1  # could not run
    assert f"has no {upd.ANSWERS_FILE}" in result.stderr
    assert "git checkout" in result.stderr  # says how to get it back


def test_directory_that_is_not_a_git_repo_is_refused(tmp_path: Path) -> None:
    (tmp_path / upd.ANSWERS_FILE).write_text("_src_path: x\n_commit: v0.1.0\n")
    with pytest.raises(upd.UpdateError, match="not a git repository"):
        upd.update_repo(tmp_path)


# ------------------------------------------------------------------ template location


def test_relative_src_path_resolves_from_anywhere(
    template_repo: Path, answers: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A consultant in ~/work runs `copier copy mlops-foundations acme-mlops`: copier records
    `_src_path: mlops-foundations`, relative to ~/work, not to the repo."""
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run(["git", "clone", "-q", str(template_repo), str(work / "mlops-foundations")],
                   check=True)
    repo = builder.render_client(Path("mlops-foundations"), work / "acme-mlops", answers,
                                 cwd=work)
    recorded = yaml.safe_load((repo / upd.ANSWERS_FILE).read_text())
    assert recorded["_src_path"] == "mlops-foundations"
    monkeypatch.chdir(repo)  # where a consultant runs `mlopsgen update .`
    source = upd.resolve_template(Path("."), recorded)
    assert Path(source.cwd) == work
    report = upd.update_repo(Path("."), vcs_ref="v0.2.0", validate=False, plan_diff=False)
    assert report.to_version == "v0.2.0" and report.conflicts == []
    after = yaml.safe_load((repo / upd.ANSWERS_FILE).read_text())
    assert after["_src_path"] == "mlops-foundations"  # still portable
    assert Path.cwd() == repo


def test_moved_template_needs_and_accepts_template_option(
    template_repo: Path, answers: dict[str, Any], tmp_path: Path
) -> None:
    gone = tmp_path / "old-location"
    shutil.copytree(template_repo, gone, symlinks=True)
    repo = builder.render_client(gone, tmp_path / "client", answers)
    shutil.rmtree(gone)
    result = CliRunner().invoke(cli, ["update", str(repo), "--no-validate", "--no-plan-diff"])
    assert result.exit_code == 1  # could not run
    assert "--template" in result.stderr
    result = CliRunner().invoke(
        cli, ["update", str(repo), "--template", str(template_repo), "--vcs-ref", "v0.2.0",
              "--no-validate", "--no-plan-diff"],
    )
    assert result.exit_code == 0, result.output
    after = yaml.safe_load((repo / upd.ANSWERS_FILE).read_text())
    assert after["_commit"] == "v0.2.0"
    assert after["_src_path"] == str(template_repo)
    assert builder.git(repo, "ls-files", "-v", upd.ANSWERS_FILE).startswith("H ")  # flag cleared


def test_conflict_scan_finds_markers_committed_or_not_and_rej_files(tmp_path: Path) -> None:
    builder.git(tmp_path, "init", "-q", "-b", "main")
    block = "<<<<<<< before updating\nours\n=======\ntheirs\n>>>>>>> after updating\n"
    (tmp_path / "committed.tf").write_text("a = 1\n" + block)
    (tmp_path / "half.md").write_text("<<<<<<< only an opening line\n")
    (tmp_path / "clean.txt").write_text("nothing here\n")
    builder.commit_all(tmp_path, "someone committed a conflict")
    (tmp_path / "untracked.yaml").write_text(block)
    (tmp_path / "main.tf.rej").write_text("@@ rejected hunk\n")
    assert upd.conflict_files(tmp_path) == ["committed.tf", "main.tf.rej", "untracked.yaml"]
