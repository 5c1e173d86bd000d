"""`mlopsgen template-update`: the edges of the template-update build (git, copier, GitHub).

The decisions are `generator/selfupdate.py`'s; this module runs them:
1. the recorded template and version (`.copier-answers.yml` of REPO), the template's release
   tags, the target (`choose_target`);
2. with `--open-pr`, the repo's open update pull requests through the GitHub REST API
   (`GITHUB_TOKEN`, `GITHUB_API_URL`); any that the target supersedes are closed, their
   branches deleted;
3. a fresh clone of the repo's base branch (the first environment's branch), the branch
   `template-update/<tag>`, `mlopsgen update` to the tag there (copier's 3-way update, conflicts
   committed with their markers), `mlopsgen validate` and the replacement check, one commit
   whose message holds the update record;
4. with `--open-pr`: the branch pushed (force, with a lease on what it was) unless it already
   holds the same change on the same base, and the one pull request of that target opened
   (draft when conflicted) or refreshed (title, body, draft state). A pull request of the target
   closed without merge by a person is not reopened. Without `--open-pr`: nothing is written
   anywhere; the result holds the pull request's body (a preview).

Credentials: git asks a helper that reads the token from the environment at that moment
(`GITHUB_TOKEN` for the client repo, `TEMPLATE_TOKEN` for the template's URL, when set), so no
token is written to a file, a URL or a command line.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator import selfupdate as sel
from generator import update as upd
from generator import update_record as rec
from generator.client_repo import ClientRepo
from generator.errors import GitHubError, RepoError, UpdateError
from generator.gitenv import git_env
from generator.github_api import GitHub, Settings

TEMPLATE_TOKEN_ENV = "TEMPLATE_TOKEN"
REPO_TOKEN_ENV = "GITHUB_TOKEN"
_TO_DRAFT = ("mutation($id: ID!) { convertPullRequestToDraft(input: {pullRequestId: $id}) "
             "{ clientMutationId } }")
_TO_READY = ("mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id}) "
             "{ clientMutationId } }")


@dataclass(frozen=True)
class Request:
    """What `mlopsgen template-update` was asked to do."""

    repo: Path
    open_pr: bool = False
    github_repo: str | None = None  # owner/name; default: the answers' github_owner/github_repo
    base: str | None = None  # default: the first environment's branch
    remote: str | None = None  # where to clone and push; default: GitHub's URL (or REPO)
    validate: bool = True
    plan_diff: bool = True


@dataclass
class Result:
    repo: str
    from_version: str
    target: str | None
    action: str  # current | preview | opened | refreshed | unchanged | declined
    github_repo: str | None = None
    pull: int | None = None
    url: str | None = None
    draft: bool = False
    closed: list[int] = field(default_factory=list)
    outcome: sel.Outcome | None = None
    body: str = ""

    @property
    def needs_attention(self) -> bool:
        return self.outcome is not None and (bool(self.outcome.conflicts)
                                             or self.outcome.validation == "failed")

    def to_json(self) -> dict[str, Any]:
        out = self.outcome
        return {
            "repo": self.repo, "github_repo": self.github_repo, "from": self.from_version,
            "to": self.target, "action": self.action, "branch":
                rec.update_branch(self.target) if self.target else None,
            "pull": self.pull, "url": self.url, "draft": self.draft, "closed": self.closed,
            "conflicts": list(out.conflicts) if out else [],
            "validation": out.validation if out else None,
            "needs_attention": self.needs_attention,
        }


# --------------------------------------------------------------------------- git


def _git(cwd: Path, *args: str, check: bool = True) -> str:
    return upd.git(cwd, *args, check=check)


def template_url(source: upd.TemplateSource) -> str:
    """The template's location as git takes it (copier's `gh:`/`gl:` expanded, a relative path
    made absolute against the directory copier runs in)."""
    url = source.url
    for prefix, host in (("gh:", "https://github.com/"), ("gl:", "https://gitlab.com/")):
        if url.startswith(prefix):
            return host + url[len(prefix):].removesuffix(".git") + ".git"
    if upd.is_local_path(url):
        return str((source.cwd / Path(url).expanduser()).resolve())
    return url.removeprefix("git+")


def credential_config(tokens: Mapping[str, str]) -> dict[str, str]:
    """Git configuration, as environment variables (GIT_CONFIG_COUNT...), that answers git's
    credential requests for each https URL with the token in the named environment variable
    (`x-access-token` as the user, as GitHub documents for tokens over https)."""
    entries = [("credential.useHttpPath", "true")]
    for url, variable in tokens.items():
        if not url.startswith("https://"):
            continue
        helper = ("!f() { test \"$1\" = get && printf 'username=x-access-token\\npassword=%s\\n' "
                  f"\"${variable}\"; }}; f")
        bare = url.removesuffix(".git")
        for form in dict.fromkeys((url, bare, bare + ".git")):
            entries.append((f"credential.{form}.helper", helper))
    start = int(os.environ.get("GIT_CONFIG_COUNT", "0") or 0)
    env = {"GIT_CONFIG_COUNT": str(start + len(entries)), "GIT_TERMINAL_PROMPT": "0"}
    for offset, (key, value) in enumerate(entries):
        env[f"GIT_CONFIG_KEY_{start + offset}"] = key
        env[f"GIT_CONFIG_VALUE_{start + offset}"] = value
    return env


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ with `values` while the update runs (copier's git inherits it)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def read_changelog(url: str, tag: str, scratch: Path) -> str:
    """The template's CHANGELOG.md at `tag` ("" when it has none or cannot be read)."""
    dest = scratch / "template-changelog"
    done = subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--no-checkout", "--branch", tag, "--", url,
         str(dest)], capture_output=True, text=True, check=False, env=git_env())
    if done.returncode != 0:
        return ""
    return _git(dest, "show", "HEAD:CHANGELOG.md", check=False)


def clone_base(remote: str, base: str, dest: Path) -> Path:
    done = subprocess.run(["git", "clone", "-q", "--branch", base, "--", remote, str(dest)],
                          capture_output=True, text=True, check=False, env=git_env())
    if done.returncode != 0:
        raise UpdateError(f"could not clone branch {base} of {remote}: {done.stderr.strip()}")
    return dest


def remote_head(work: Path, branch: str) -> str | None:
    out = _git(work, "ls-remote", "--heads", "origin", f"refs/heads/{branch}")
    return out.split("\t", 1)[0] if out.strip() else None


def same_change(work: Path, old: str, branch: str) -> bool:
    """The pushed branch already holds this change: same tree, on the same base commit."""
    _git(work, "fetch", "-q", "origin", f"refs/heads/{branch}")
    trees = _git(work, "rev-parse", "HEAD^{tree}", f"{old}^{{tree}}").split()
    parents = _git(work, "rev-parse", "HEAD^", f"{old}^", check=False).split()
    return len(set(trees)) == 1 and len(parents) == 2 and len(set(parents)) == 1


def push(work: Path, branch: str, old: str | None) -> None:
    lease = f"--force-with-lease=refs/heads/{branch}:{old or ''}"
    _git(work, "push", "-q", lease, "origin", f"HEAD:refs/heads/{branch}")


def delete_branch(work: Path, branch: str) -> None:
    _git(work, "push", "-q", "origin", "--delete", f"refs/heads/{branch}", check=False)


# --------------------------------------------------------------------------- the update


def base_branch(client: ClientRepo, base: str | None) -> str:
    if base:
        return base
    try:
        return str(client.context["first_environment"]["branch"])
    except RepoError as error:
        raise UpdateError(f"{error.message()}; pass the branch to update with --base") from error


def release_target(client: ClientRepo, source: upd.TemplateSource) -> str | None:
    tags = upd.list_tags(source)
    if tags is None:
        raise UpdateError(
            f"cannot list the tags of the template {source.url}: check the URL and, for a "
            f"private template, that {TEMPLATE_TOKEN_ENV} holds a token that can read it")
    return sel.choose_target(client.template_version, upd.release_tags(tags))


def run_update(work: Path, source: upd.TemplateSource, target: str, req: Request
               ) -> sel.Outcome:
    """`mlopsgen update` to `target` on the update branch of the clone, committed (conflict
    markers included: the pull request lists them)."""
    _git(work, "checkout", "-q", "-B", rec.update_branch(target))
    report = upd.update_repo(work, vcs_ref=target, validate=req.validate,
                             plan_diff=req.plan_diff, cwd=source.cwd)
    return sel.Outcome(
        from_version=str(report.from_version), to_version=str(report.to_version or target),
        conflicts=tuple(report.conflicts), validation=report.validation.status,
        validation_detail=report.validation.detail,
        replacements=tuple(report.replacements.lines()) if req.plan_diff else (),
        changed=len(report.changed),
    )


def commit(work: Path, outcome: sel.Outcome, at: str) -> None:
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "--no-verify", "--allow-empty", "-m",
         sel.commit_message(outcome, at))


# --------------------------------------------------------------------------- GitHub


class Pulls:
    """The pull request calls of the build (REST, and GraphQL for the draft state)."""

    def __init__(self, gh: GitHub, full_name: str) -> None:
        self.gh, self.full = gh, full_name

    def open_updates(self) -> list[sel.OpenUpdate]:
        return sel.update_pulls(self.gh.open_pulls(self.full), self.full)

    def declined(self, branch: str) -> int | None:
        """A pull request of this branch closed without merge (a person said no), if any."""
        owner = self.full.split("/")[0]
        for pull in self.gh.get_pages(f"/repos/{self.full}/pulls",
                                      {"state": "closed", "head": f"{owner}:{branch}"}):
            if isinstance(pull, dict) and not pull.get("merged_at"):
                return int(pull["number"])
        return None

    def create(self, branch: str, base: str, title: str, body: str, draft: bool
               ) -> dict[str, Any]:
        payload = {"title": title, "head": branch, "base": base, "body": body, "draft": draft}
        try:
            value = self.gh.send("POST", f"/repos/{self.full}/pulls", payload)
        except GitHubError as error:
            if not (draft and error.status == 422 and "draft" in error.message().lower()):
                raise
            # GitHub plans without draft pull requests: the title says [conflicts] instead
            value = self.gh.send("POST", f"/repos/{self.full}/pulls", {**payload, "draft": False})
        return dict(value)

    def update(self, number: int, title: str, body: str) -> None:
        self.gh.send("PATCH", f"/repos/{self.full}/pulls/{number}", {"title": title, "body": body})

    def set_draft(self, node_id: str, draft: bool) -> None:
        self.gh.graphql(_TO_DRAFT if draft else _TO_READY, {"id": node_id})

    def close(self, update: sel.OpenUpdate, why: str) -> None:
        self.gh.send("POST", f"/repos/{self.full}/issues/{update.number}/comments", {"body": why})
        self.gh.send("PATCH", f"/repos/{self.full}/pulls/{update.number}", {"state": "closed"})


def github_repo(client: ClientRepo, given: str | None) -> str:
    if given:
        return given
    owner, name = client.recorded.get("github_owner"), client.recorded.get("github_repo")
    if not owner or not name:
        raise UpdateError("the answers name no GitHub repo (github_owner, github_repo): pass "
                          "--github-repo OWNER/NAME")
    return f"{owner}/{name}"


def close_superseded(pulls: Pulls, work: Path | None, plan: sel.PullPlan, target: str | None,
                     recorded: str, result: Result) -> None:
    for old in plan.close:
        why = (f"Superseded by the template update to `{target}`"
               + (f" (#{result.pull})" if result.pull else "") + "." if target else
               f"The base branch already is at template version `{recorded}`.")
        pulls.close(old, why + " Closed by the template-update build.")
        if work is not None:
            delete_branch(work, old.branch)
        result.closed.append(old.number)


def publish(pulls: Pulls, work: Path, plan: sel.PullPlan, base: str, result: Result,
            body: str) -> None:
    """Push the branch and open or refresh its one pull request."""
    assert result.outcome is not None and result.target is not None
    branch = rec.update_branch(result.target)
    declined = None if plan.refresh else pulls.declined(branch)
    if declined is not None:
        result.action, result.pull = "declined", declined
        return
    old = remote_head(work, branch)
    unchanged = old is not None and same_change(work, old, branch)
    if not unchanged:
        push(work, branch, old)
    title, draft = sel.pull_title(result.outcome), sel.draft_wanted(result.outcome.conflicts)
    result.draft = draft
    if plan.refresh is None:
        made = pulls.create(branch, base, title, body, draft)
        result.action, result.pull = "opened", int(made["number"])
        result.url, result.draft = made.get("html_url"), bool(made.get("draft"))
        return
    result.pull = plan.refresh.number
    if unchanged:
        result.action, result.draft = "unchanged", plan.refresh.draft
        return
    pulls.update(plan.refresh.number, title, body)
    if plan.refresh.draft != draft and plan.refresh.node_id:
        pulls.set_draft(plan.refresh.node_id, draft)
    result.action = "refreshed"


def template_update(req: Request) -> Result:
    """The whole run; raises `UpdateError`/`GitHubError` when it cannot run."""
    client = ClientRepo.open(req.repo)
    _src, recorded = client.require_template_record()
    source = upd.resolve_template(req.repo, client.recorded)
    url = template_url(source)
    settings = Settings.from_env()
    full = github_repo(client, req.github_repo) if req.open_pr else req.github_repo
    remote = req.remote or (f"{settings.server_url}/{full}.git" if req.open_pr
                            else str(req.repo.resolve()))
    tokens = {url: TEMPLATE_TOKEN_ENV} if os.environ.get(TEMPLATE_TOKEN_ENV) else {}
    tokens[remote] = REPO_TOKEN_ENV
    with patched_environ(credential_config(tokens)):
        return _run(req, client, source, url, remote, full, recorded, settings)


def _run(req: Request, client: ClientRepo, source: upd.TemplateSource, url: str, remote: str,
         full: str | None, recorded: str, settings: Settings) -> Result:
    target = release_target(client, source)
    pulls = Pulls(GitHub(settings), full) if req.open_pr and full else None
    plan = sel.plan_pulls(target, pulls.open_updates() if pulls else [])
    result = Result(str(req.repo), recorded, target, "current", github_repo=full)
    if target is None:
        if pulls:
            close_superseded(pulls, None, plan, None, recorded, result)
        return result
    base = base_branch(client, req.base)
    with tempfile.TemporaryDirectory(prefix="mlopsgen-template-update-") as tmp:
        work = clone_base(remote, base, Path(tmp) / "repo")
        result.outcome = run_update(work, source, target, req)
        at = rec.now_utc()
        commit(work, result.outcome, at)
        entries = sel.entries_between(
            sel.parse_changelog(read_changelog(url, target, Path(tmp))), recorded, target)
        result.body = sel.pull_body(result.outcome, entries, at, template=source.url)
        if pulls is None:
            result.action = "preview"
            return result
        publish(pulls, work, plan, base, result, result.body)
        close_superseded(pulls, work, plan, target, recorded, result)
    return result


def format_result(result: Result) -> str:
    what = {
        "current": "up to date: no newer release, no pull request",
        "preview": "preview (nothing written; --open-pr pushes and opens the pull request)",
        "opened": f"opened pull request #{result.pull}",
        "refreshed": f"refreshed pull request #{result.pull}",
        "unchanged": f"pull request #{result.pull} already holds this update",
        "declined": f"pull request #{result.pull} of this release was closed unmerged: "
                    "not reopened",
    }[result.action]
    lines = [f"{result.repo}: {result.from_version} -> {result.target or result.from_version}: "
             f"{what}" + (" (draft)" if result.draft and result.pull else "")]
    if result.outcome is not None:
        out = result.outcome
        if out.conflicts:
            lines.append(f"  conflicts ({len(out.conflicts)}): " + ", ".join(out.conflicts))
        lines.append(f"  validate: {out.validation}")
    if result.closed:
        lines.append("  closed superseded: " + ", ".join(f"#{n}" for n in result.closed))
    return "\n".join(lines)
