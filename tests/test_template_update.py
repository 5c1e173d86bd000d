"""`mlopsgen template-update` for real: real copier and git against a LOCAL template repo with
release tags and a client repo whose `origin` is a local bare repo, and a fake of GitHub's REST
API (tests/cloudbuild_local/github.py) that sees the branches pushed there. One pull request
opened, refreshed (not duplicated) when the base moves, superseded by a newer release, a draft
listing its conflicts (ready again once they are gone), not reopened once declined, none when
the repo is current; plus the pure decisions of `generator/selfupdate.py`."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator import selfupdate as sel
from generator import selfupdate_run as run
from generator import update_record as rec
from generator.cli import main as cli
from tests.cloudbuild_local.github import FakeGitHub, Repo, Token, _Result
from tests.cloudbuild_local.httpfake import Request, Response

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
FULL = "contoso/contoso-ml"
TOKEN = "ghs_template_update"
ANSWERS_TEMPLATE = ("# Changes here will be overwritten by Copier\n"
                    "{{ _copier_answers|to_nice_yaml -}}\n")

CHANGELOG = """# Changelog

## Unreleased

**Changes.** Not released yet.

## v1.2.0 — a new file

**Changes.**
- `NOTES.md` is new.

**Migrations.** None.

**Action.** None.

## v1.1.0 — the setting doubles

**Changes.**
- `settings.txt`: `setting = 2`.

**Migrations.** None.

**Action.**
- Re-read your settings.

## v1.0.0 — first release

**Changes.** Everything.
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, env=GIT_ENV,
                          capture_output=True, text=True).stdout.strip()


# --------------------------------------------------------------------------- a local template


def release(tpl: Path, tag: str) -> None:
    """Write the template as it is at `tag` and tag it."""
    files = {
        "copier.yml": "_subdirectory: template\nname:\n  type: str\n  default: acme\n",
        "CHANGELOG.md": CHANGELOG,
        "template/{{ _copier_conf.answers_file }}.jinja": ANSWERS_TEMPLATE,
        "template/README.md.jinja": "# {{ name }}\n",
        "template/settings.txt": "# settings\nsetting = 1\n",
    }
    if tag >= "v1.1.0":
        files["template/settings.txt"] = "# settings\nsetting = 2\n"
    if tag >= "v1.2.0":
        files["template/NOTES.md"] = "notes\n"
    for rel, text in files.items():
        path = tpl / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(tpl, "add", "-A")
    git(tpl, "commit", "-q", "--allow-empty", "-m", tag)
    git(tpl, "tag", tag)


@pytest.fixture()
def template(tmp_path: Path) -> Path:
    tpl = tmp_path / "template"
    tpl.mkdir()
    git(tpl, "init", "-q", "-b", "main")
    release(tpl, "v1.0.0")
    return tpl


@pytest.fixture()
def client(tmp_path: Path, template: Path) -> Path:
    """A client repo rendered from v1.0.0 with real copier, pushed to a bare `origin`."""
    import copier

    repo = tmp_path / "client"
    copier.run_copy(str(template), str(repo), data={"name": "contoso"}, vcs_ref="v1.0.0",
                    defaults=True, quiet=True, unsafe=True)
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "rendered")
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    return repo


def client_commit(repo: Path, rel: str, text: str) -> str:
    """A client change on main, pushed (the base branch moves)."""
    (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"client edits {rel}")
    git(repo, "push", "-q", "origin", "main")
    return git(repo, "rev-parse", "HEAD")


# --------------------------------------------------------------------------- a fake GitHub


class UpdateGitHub(FakeGitHub):
    """FakeGitHub whose branches are those of a bare repo (what `git push` changed), with
    draft pull requests and the two GraphQL mutations that change the draft state."""

    def __init__(self, bare: Path, full_name: str = FULL, default_branch: str = "main") -> None:
        self.bare, self.full_name = bare, full_name
        super().__init__()
        self.route("POST", "/graphql", self._graphql)
        self.add_token(TOKEN, "template-update-bot")
        self.add_repo(full_name, default_branch=default_branch)

    def _routes(self) -> list[Any]:
        return [(method, pattern, self._synced(handler))
                for method, pattern, handler in super()._routes()]

    def _synced(self, handler: Callable[..., _Result]) -> Callable[..., _Result]:
        def inner(repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
            out = git(self.bare, "for-each-ref", "--format=%(refname:short) %(objectname)",
                      "refs/heads")
            repo.branches = dict(line.split(" ", 1) for line in out.splitlines() if line)
            for pull in repo.pulls.values():
                pull["head"]["sha"] = repo.branches.get(pull["head"]["ref"], pull["head"]["sha"])
            return handler(repo, token, req, m)
        return inner

    def _create_pull(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        status, value, headers = super()._create_pull(repo, token, req, m)
        number = value["number"]
        repo.pulls[number].update(draft=bool(req.json().get("draft")), node_id=f"PR_{number}")
        return status, self._pull_json(repo, number), headers

    def _graphql(self, req: Request, m: re.Match[str]) -> Response:
        if self.tokens.get(req.bearer() or "") is None:
            return Response.of_json(401, {"message": "Bad credentials"})
        body = req.json()
        draft = "convertPullRequestToDraft" in body["query"]
        for pull in self.repos[self.full_name].pulls.values():
            if pull.get("node_id") == body["variables"]["id"]:
                pull["draft"] = draft
                return Response.of_json(200, {"data": {"ok": True}})
        return Response.of_json(200, {"errors": [{"message": "Could not resolve to a node"}]})

    def open_pulls(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(p) for p in self.repos[self.full_name].pulls.values()
                    if p["state"] == "open"]


@pytest.fixture()
def github(client: Path) -> Iterator[UpdateGitHub]:
    with UpdateGitHub(client.parent / "origin.git") as fake:
        yield fake


def template_update(client: Path, github: UpdateGitHub, *extra: str) -> dict[str, Any]:
    args = ["template-update", str(client), "--open-pr", "--github-repo", FULL, "--base", "main",
            "--remote", str(client.parent / "origin.git"), "--no-validate", "--no-plan-diff",
            "--json", *extra]
    result = CliRunner().invoke(cli, args, env={"GITHUB_API_URL": github.url,
                                                "GITHUB_TOKEN": TOKEN})
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def fleet_status(client: Path, github: UpdateGitHub) -> dict[str, Any]:
    """`mlopsgen fleet status` of the repo on the fake GitHub: what the consultancy sees."""
    github.put_file(FULL, ".copier-answers.yml", (client / ".copier-answers.yml").read_text())
    result = CliRunner().invoke(cli, ["fleet", "status", "--repos", FULL, "--json"],
                                env={"GITHUB_API_URL": github.url, "GITHUB_TOKEN": TOKEN})
    (row,) = json.loads(result.stdout)["repos"]
    return dict(row)


def remote_branches(client: Path) -> dict[str, str]:
    out = git(client.parent / "origin.git", "for-each-ref",
              "--format=%(refname:short) %(objectname)", "refs/heads")
    return dict(line.split(" ", 1) for line in out.splitlines())


# --------------------------------------------------------------------------- the runs


def test_current_repo_gets_no_pull_request(client: Path, github: UpdateGitHub) -> None:
    doc = template_update(client, github)
    assert doc["action"] == "current" and doc["to"] is None and doc["pull"] is None
    assert github.writes() == [] and set(remote_branches(client)) == {"main"}


def test_preview_writes_nothing(client: Path, template: Path, github: UpdateGitHub) -> None:
    release(template, "v1.1.0")
    args = ["template-update", str(client), "--base", "main", "--no-validate", "--no-plan-diff",
            "--body"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "preview" in result.stdout and "Template update v1.0.0 → v1.1.0" in result.stdout
    assert github.requests == [] and set(remote_branches(client)) == {"main"}
    assert git(client, "status", "--porcelain") == ""


def test_one_pull_request_opened_then_refreshed_not_duplicated(
        client: Path, template: Path, github: UpdateGitHub) -> None:
    release(template, "v1.1.0")
    first = template_update(client, github)
    assert first["action"] == "opened" and first["branch"] == "template-update/v1.1.0"
    pulls = github.open_pulls()
    assert len(pulls) == 1 and pulls[0]["number"] == first["pull"] and not pulls[0]["draft"]
    body = pulls[0]["body"]
    assert pulls[0]["title"] == "Template update v1.0.0 → v1.1.0"
    assert "#### Action" in body and "Re-read your settings." in body
    assert "`settings.txt`: `setting = 2`." in body and "NOTES.md" not in body
    assert "Not released yet" not in body and "Everything." not in body
    record = rec.parse_update_record(body)
    assert record is not None and (record.from_version, record.to_version) == ("v1.0.0", "v1.1.0")
    assert record.conflicts == () and record.validation == "skipped"
    # the branch: the update on top of main, its message holding the record for clones
    head = remote_branches(client)["template-update/v1.1.0"]
    bare = client.parent / "origin.git"
    assert git(bare, "show", f"{head}:settings.txt").endswith("setting = 2")
    assert "_commit: v1.1.0" in git(bare, "show", f"{head}:.copier-answers.yml")
    message = git(bare, "log", "-1", "--format=%B", head)
    assert rec.parse_update_record(message) == record

    again = template_update(client, github)  # nothing moved: nothing written
    writes = len(github.writes())
    assert again["action"] == "unchanged" and again["pull"] == first["pull"]
    assert remote_branches(client)["template-update/v1.1.0"] == head

    main = client_commit(client, "CLIENT.md", "ours\n")  # the base moved: refresh
    third = template_update(client, github)
    assert third["action"] == "refreshed" and third["pull"] == first["pull"]
    pulls = github.open_pulls()
    assert len(pulls) == 1 and len(github.writes()) == writes + 1  # one PATCH of the body
    new_head = remote_branches(client)["template-update/v1.1.0"]
    assert new_head != head and git(bare, "rev-parse", f"{new_head}^") == main


def test_newer_release_supersedes_the_older_pull_request(
        client: Path, template: Path, github: UpdateGitHub) -> None:
    release(template, "v1.1.0")
    older = template_update(client, github)
    release(template, "v1.2.0")
    newer = template_update(client, github)
    assert newer["action"] == "opened" and newer["to"] == "v1.2.0"
    assert newer["closed"] == [older["pull"]]
    (pull,) = github.open_pulls()
    assert pull["number"] == newer["pull"] and pull["head"]["ref"] == "template-update/v1.2.0"
    body = pull["body"]
    assert "**v1.1.0**" in body and "**v1.2.0**" in body and "`NOTES.md` is new." in body
    assert set(remote_branches(client)) == {"main", "template-update/v1.2.0"}
    closed = github.pull(FULL, older["pull"])
    assert closed["state"] == "closed"
    assert "Superseded by the template update to `v1.2.0`" in \
        github.comments(FULL, older["pull"])[0]["body"]
    row = fleet_status(client, github)
    assert (row["state"], row["latest"], row["behind"]) == ("update-open", "v1.2.0", 2)
    assert row["update"]["target"] == "v1.2.0" and row["update"]["number"] == newer["pull"]
    assert row["update"]["others"] == []


def test_conflicts_make_a_draft_that_lists_them(
        client: Path, template: Path, github: UpdateGitHub) -> None:
    client_commit(client, "settings.txt", "# settings\nsetting = 1  # ours\n")
    release(template, "v1.1.0")
    doc = template_update(client, github)
    assert doc["action"] == "opened" and doc["draft"] and doc["conflicts"] == ["settings.txt"]
    (pull,) = github.open_pulls()
    assert pull["draft"] and pull["title"].startswith("[conflicts] ")
    assert "### Conflicts (1)" in pull["body"] and "- `settings.txt`" in pull["body"]
    record = rec.parse_update_record(pull["body"])
    assert record is not None and record.conflicts == ("settings.txt",)
    head = remote_branches(client)["template-update/v1.1.0"]
    assert "<<<<<<<" in git(client.parent / "origin.git", "show", f"{head}:settings.txt")
    row = fleet_status(client, github)
    assert row["state"] == "conflicts" and row["update"]["draft"]

    client_commit(client, "settings.txt", "# settings\nsetting = 1\n")  # the client gives in
    again = template_update(client, github)
    assert again["action"] == "refreshed" and again["conflicts"] == [] and not again["draft"]
    (pull,) = github.open_pulls()
    assert not pull["draft"] and not pull["title"].startswith("[conflicts]")


def test_a_declined_pull_request_is_not_reopened(
        client: Path, template: Path, github: UpdateGitHub) -> None:
    release(template, "v1.1.0")
    first = template_update(client, github)
    with github.lock:
        github.repos[FULL].pulls[first["pull"]]["state"] = "closed"  # a person closes it
    again = template_update(client, github)
    assert again["action"] == "declined" and again["pull"] == first["pull"]
    assert github.open_pulls() == []


def test_an_untoken_run_fails_with_the_apis_message(
        client: Path, template: Path, github: UpdateGitHub) -> None:
    release(template, "v1.1.0")
    args = ["template-update", str(client), "--open-pr", "--github-repo", FULL, "--base", "main",
            "--remote", str(client.parent / "origin.git"), "--no-validate", "--no-plan-diff"]
    result = CliRunner().invoke(cli, args, env={"GITHUB_API_URL": github.url,
                                                "GITHUB_TOKEN": "ghs_unknown"})
    assert result.exit_code == 1 and "401" in result.stderr
    assert set(remote_branches(client)) == {"main"}


# --------------------------------------------------------------------------- the decisions


def test_choose_target() -> None:
    releases = ["v0.1.0", "v0.2.0", "v0.10.0"]
    assert sel.choose_target("v0.1.0", releases) == "v0.10.0"
    assert sel.choose_target("v0.2.0-3-gabc1234", releases) == "v0.10.0"
    assert sel.choose_target("v0.10.0", releases) is None
    assert sel.choose_target("abc1234", releases) is None  # no release to compare with
    assert sel.choose_target("v0.1.0", []) is None


def test_plan_pulls_keeps_one_per_target() -> None:
    updates = [sel.OpenUpdate(3, "v0.2.0", "template-update/v0.2.0"),
               sel.OpenUpdate(5, "v0.3.0", "template-update/v0.3.0"),
               sel.OpenUpdate(7, "v0.3.0", "template-update/v0.3.0")]
    plan = sel.plan_pulls("v0.3.0", updates)
    assert plan.refresh == updates[1] and plan.close == (updates[0], updates[2])
    assert sel.plan_pulls(None, updates) == sel.PullPlan(None, tuple(updates))
    assert sel.plan_pulls("v0.4.0", []) == sel.PullPlan(None, ())


def test_update_pulls_ignore_forks_and_other_branches() -> None:
    def pull(n: int, ref: str, repo: str = FULL) -> dict[str, Any]:
        return {"number": n, "state": "open", "head": {"ref": ref, "repo": {"full_name": repo}}}
    found = sel.update_pulls([pull(1, "template-update/v1.0.0"), pull(2, "feature"),
                              pull(3, "template-update/v2.0.0", "fork/contoso-ml")], FULL)
    assert [u.number for u in found] == [1]


def test_changelog_entries_between_versions() -> None:
    entries = sel.parse_changelog(CHANGELOG)
    assert [e.version for e in entries] == ["v1.2.0", "v1.1.0", "v1.0.0"]
    assert entries[1].sections["Action"] == "- Re-read your settings."
    between = sel.entries_between(entries, "v1.0.0", "v1.2.0")
    assert [e.version for e in between] == ["v1.1.0", "v1.2.0"]
    assert sel.entries_between(entries, "v1.1.0-2-gabc1234", "v1.1.0") == []


def test_body_stays_under_githubs_limit_and_keeps_the_record() -> None:
    huge = [sel.Entry("v9.0.0", "v9.0.0", {"Changes": "x" * 200_000})]
    outcome = sel.Outcome("v1.0.0", "v9.0.0", conflicts=("a|b`c.txt",), validation="failed",
                          validation_detail="line\n" * 500)
    body = sel.pull_body(outcome, huge, "2026-01-01T00:00:00Z")
    assert len(body) < 65_536 and "_(cut:" in body and "- ``a|b`c.txt``" in body
    record = rec.parse_update_record(body)
    assert record is not None and record.validation == "failed"
    assert record.summary.count("\n") == sel.SUMMARY_LINES  # 12 lines and "..."


def test_credential_helper_answers_from_the_environment(tmp_path: Path) -> None:
    """git asks the configured helper and gets the token of the variable, never stored."""
    env = run.credential_config({"https://git.example/acme/tpl.git": "TEMPLATE_TOKEN"})
    assert not any("s3cr3t" in v for v in env.values())
    done = subprocess.run(
        ["git", "credential", "fill"],
        input="protocol=https\nhost=git.example\npath=acme/tpl.git\n",
        capture_output=True, text=True, check=True, cwd=tmp_path,
        env={**os.environ, **env, "TEMPLATE_TOKEN": "s3cr3t"})
    assert "username=x-access-token" in done.stdout and "password=s3cr3t" in done.stdout
