"""The next release updates a client repo rendered at the previous real release.

Not a fixture template: the template repo here is this checkout's own history (the previous
release's tag, or its commit from releases.yml when the clone has no tags), with the working
tree committed on top as the candidate. A consultant's repo rendered at that release (plain
copier, the release's own rules) and edited by the client is updated by today's mlopsgen; it
must merge without conflicts, keep the edits, pass today's offline validation, and replace or
delete no protected resource (the update's replacement check, generator/plan_diff.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.version import Version

from tests.upgrade import builder
from tests.worktree import copy_working_tree

RELEASES = yaml.safe_load((Path(__file__).with_name("releases.yml")).read_text())
PREVIOUS = max(RELEASES, key=Version)
CANDIDATE = "v99.0.0"  # newer than any release: what this checkout would be released as

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="needs terraform on PATH"),
]


def _history_has(commit: str) -> bool:
    probe = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=builder.ROOT,
                           capture_output=True, check=False)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def release_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's history with PREVIOUS tagged and the working tree as CANDIDATE."""
    commit = RELEASES[PREVIOUS]
    assert _history_has(commit), (
        f"{PREVIOUS} ({commit}) is not in this clone's history: the release test needs the "
        "history of the template (a clone, not an export)"
    )
    repo = tmp_path_factory.mktemp("release") / "mlops-foundations"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(builder.ROOT), str(repo)],
                   check=True, capture_output=True)
    builder.git(repo, "tag", "-f", PREVIOUS, commit)
    builder.git(repo, "checkout", "-q", "-B", "candidate", commit)
    for entry in repo.iterdir():  # the candidate is exactly the working tree, deletions too
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    copy_working_tree(repo)
    builder.git(repo, "add", "-A")
    builder.git(repo, "commit", "-q", "--allow-empty", "-m", "candidate")
    builder.git(repo, "tag", CANDIDATE)
    return repo


def _answers(example: str) -> dict[str, Any]:
    data = yaml.safe_load((builder.ROOT / "examples" / f"{example}.yml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("example", ["minimal", "full"])
def test_previous_release_repo_updates_to_the_candidate(
    release_repo: Path, tmp_path: Path, example: str
) -> None:
    client = builder.render_client(release_repo, tmp_path / "client", _answers(example),
                                   vcs_ref=PREVIOUS)
    recorded = yaml.safe_load((client / ".copier-answers.yml").read_text())
    assert recorded["_commit"] == PREVIOUS
    # the client's own edits: a value in their file, a section in the runbook
    env = _answers(example)["environments"][0]
    own = client / "terraform" / "envs" / env / "client.auto.tfvars"
    own.write_text(own.read_text() + 'notification_email = "oncall@client.example"\n')
    readme = client / "README.md"
    readme.write_text(readme.read_text() + "\n## Our on-call\n\nPage the data team.\n")
    builder.commit_all(client)

    result = subprocess.run(
        [sys.executable, "-m", "generator.cli", "update", str(client),
         "--vcs-ref", CANDIDATE, "--json"],
        capture_output=True, text=True, check=False, cwd=builder.ROOT,
    )
    report = yaml.safe_load(result.stdout)
    protected = [f"{d['action']} {d['address']} [{d['root']}]"
                 + (f" forced by {', '.join(d['forced_by'])}" if d.get("forced_by") else "")
                 for d in (report.get("replacements") or {}).get("destructions", ())
                 if d.get("protected")]
    assert not protected, (
        f"updating a repo rendered at {PREVIOUS} to this checkout would destroy protected "
        "resources (and their data): say so in CHANGELOG.md with a migration, or keep the "
        "attributes that force the replacement:\n  " + "\n  ".join(protected)
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert (report["from_version"], report["to_version"]) == (PREVIOUS, CANDIDATE)
    assert report["conflicts"] == [] and report["validation"]["status"] == "ok"
    assert 'notification_email = "oncall@client.example"' in own.read_text()
    assert "## Our on-call" in readme.read_text()
