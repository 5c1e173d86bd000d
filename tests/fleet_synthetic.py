"""Synthetic fleets for `fleet status` tests: a template git repo with release tags, and
client clones that hold only what status reads (an answers file, git refs, update branches).
Real git everywhere; no copier render (tests/upgrade renders real ones)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import yaml

from generator import update_record as rec

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
TAGS = ("v0.1.0", "v0.2.0", "v0.3.0rc1", "v0.3.0", "nightly")  # releases: v0.1.0-v0.3.0


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, env=GIT_ENV,
                          capture_output=True, text=True).stdout.strip()


def make_template(dest: Path, tags: Sequence[str] = TAGS) -> Path:
    dest.mkdir(parents=True)
    git(dest, "init", "-q", "-b", "main")
    for tag in tags:
        (dest / "copier.yml").write_text(f"_subdirectory: templates\n# {tag}\n")
        git(dest, "add", "-A")
        git(dest, "commit", "-q", "-m", tag)
        git(dest, "tag", tag)
    return dest


def answers_text(version: str, template: str, slug: str = "contoso") -> str:
    return yaml.safe_dump({"_commit": version, "_src_path": template, "client_slug": slug,
                           "features": []}, sort_keys=False)


def make_client(dest: Path, template: str, version: str) -> Path:
    dest.mkdir(parents=True)
    (dest / ".copier-answers.yml").write_text(answers_text(version, template, dest.name))
    (dest / "README.md").write_text(f"# {dest.name}\n")
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "rendered")
    return dest


def record_text(record: rec.UpdateRecord) -> str:
    return (f"Template update {record.from_version} -> {record.to_version}\n\n"
            + rec.render_update_record(record) + "\n")


def add_update_branch(repo: Path, record: rec.UpdateRecord, *, remote: bool = False) -> str:
    """A `template-update/<to>` branch whose head commit carries the update record, as the
    update build leaves it; `remote`: only as origin's remote-tracking branch (a fetched PR
    branch). Returns the branch's sha."""
    branch = rec.update_branch(str(record.to_version))
    git(repo, "checkout", "-q", "-b", branch)
    (repo / "UPDATED.md").write_text(f"{record.to_version}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", record_text(record))
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    if remote:
        git(repo, "update-ref", f"refs/remotes/origin/{branch}", sha)
        git(repo, "branch", "-q", "-D", branch)
    return sha
