"""Migration building blocks and their copier entries (no copier run: fast)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator import copier_spec, migrations
from generator.migrations import ops
from tests.upgrade import builder


def _repo(tmp_path: Path) -> Path:
    builder.git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "old.txt").write_text("client content\n")
    (tmp_path / ".copier-answers.yml").write_text(
        "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
        "_commit: v0.1.0\n_src_path: /t\nalert_email: a@b.example\nregion: us-central1\n"
    )
    builder.commit_all(tmp_path, "rendered")
    return tmp_path


def test_move_path_uses_git_and_is_idempotent(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert ops.move_path(repo, "old.txt", "sub/new.txt") == ["moved old.txt -> sub/new.txt"]
    assert (repo / "sub" / "new.txt").read_text() == "client content\n"
    assert "R  old.txt -> sub/new.txt" in builder.git(repo, "status", "--porcelain")
    assert ops.move_path(repo, "old.txt", "sub/new.txt") == []  # second run: nothing to do


def test_move_path_refuses_to_overwrite_a_different_file(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "new.txt").write_text("something else\n")
    with pytest.raises(SystemExit, match="both exist and differ"):
        ops.move_path(repo, "old.txt", "new.txt")
    assert (repo / "old.txt").exists() and (repo / "new.txt").read_text() == "something else\n"


def test_rename_answer_is_idempotent_and_keeps_the_rest(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert ops.rename_answer(repo, "alert_email", "notification_email")
    data = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert data["notification_email"] == "a@b.example" and "alert_email" not in data
    assert data["_commit"] == "v0.1.0" and data["region"] == "us-central1"
    assert ops.rename_answer(repo, "alert_email", "notification_email") == []


def test_copier_entries_are_version_gated_and_run_through_the_runner(tmp_path: Path) -> None:
    (tmp_path / "v0_10_0__later.py").write_text('STAGE = "before"\n')
    (tmp_path / "v0_2_0__first.py").write_text("")
    (tmp_path / "ops.py").write_text("")  # not a migration
    entries = migrations.copier_entries(tmp_path)
    assert [e["version"] for e in entries] == ["v0.2.0", "v0.10.0"]  # numeric, not text order
    assert entries[0]["when"] == "{{ _stage == 'after' }}"
    assert entries[1]["when"] == "{{ _stage == 'before' }}"
    assert entries[1]["command"] == [
        "{{ _copier_python }}",
        "{{ _copier_conf.src_path }}/generator/migrations/run.py",
        "v0_10_0__later",
    ]


def test_copier_yml_lists_this_templates_migrations() -> None:
    spec = yaml.safe_load(copier_spec.render())
    assert spec["_migrations"] == migrations.copier_entries()
    assert "terraform/envs/*/client.auto.tfvars" in spec["_skip_if_exists"]


def test_runner_runs_a_migration_by_name_from_the_client_repo(tmp_path: Path) -> None:
    (tmp_path / "client").mkdir()
    repo = _repo(tmp_path / "client")
    migration_dir = tmp_path / "template" / "generator" / "migrations"
    migration_dir.mkdir(parents=True)
    for name in ("run.py", "ops.py"):
        (migration_dir / name).write_text((Path(migrations.__file__).parent / name).read_text())
    (migration_dir / "v0_2_0__move.py").write_text(
        "import ops\n\ndef migrate(repo):\n    return ops.move_path(repo, 'old.txt', 'new.txt')\n"
    )
    run = [sys.executable, str(migration_dir / "run.py"), "v0_2_0__move"]
    first = subprocess.run(run, cwd=repo, capture_output=True, text=True, check=True)
    assert first.stdout == "" and "moved old.txt -> new.txt" in first.stderr
    second = subprocess.run(run, cwd=repo, capture_output=True, text=True, check=True)
    assert "nothing to do" in second.stderr
    assert (repo / "new.txt").exists() and not (repo / "old.txt").exists()
