"""A stand-in for the GitHub REST API (the part CI scripts use), reached by real clients through
a base URL (the client scripts' GITHUB_API_URL).

Modeled: repositories with branches, tags and files (the contents API, read-only), pull
requests (list/filter, get with `mergeable`, create, update, merge, commits, the pull requests
of a commit), issue comments (paginated with Link headers), labels, commit statuses (and the
combined status) and check runs. Tokens are registered with
`add_token`: a request without a known token gets 401 "Bad credentials", a read-only token gets
403 on writes, and check runs can only be written by a GitHub App token (a personal access
token gets 403, as on GitHub). Not modeled: reviews, branch protection, git data, webhooks
(a test fires the Cloud Build trigger itself).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.cloudbuild_local.httpfake import FakeServer, Handler, Request, Response

_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
PER_PAGE_DEFAULT, PER_PAGE_MAX = 30, 100
_Result = tuple[int, Any, dict[str, str]]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Token:
    login: str
    write: bool = True
    app: bool = False  # a GitHub App installation token (may write check runs)


@dataclass
class Repo:
    full_name: str
    default_branch: str = "main"
    branches: dict[str, str] = field(default_factory=dict)  # name -> head sha
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue -> comments
    labels: dict[int, list[str]] = field(default_factory=dict)  # issue -> label names
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # sha -> newest first
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # name -> sha, in creation order
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # branch -> path -> bytes


_GhHandler = Callable[[Repo, Token, Request, "re.Match[str]"], _Result]


class _Error(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FakeGitHub(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.repos: dict[str, Repo] = {}
        self.tokens: dict[str, Token] = {}
        self._ids = itertools.count(1000)
        for method, pattern, handler in self._routes():
            self.route(method, _REPO + pattern, self._guard(handler, write=method != "GET"))

    # -- test-side API ------------------------------------------------------------------------

    def add_token(self, token: str, login: str, *, write: bool = True, app: bool = False) -> str:
        self.tokens[token] = Token(login, write, app)
        return token

    def add_repo(self, full_name: str, *, default_branch: str = "main", head: str = "0" * 40
                 ) -> Repo:
        repo = Repo(full_name, default_branch, {default_branch: head})
        self.repos[full_name] = repo
        return repo

    def open_pull(self, full_name: str, *, head: str, base: str, head_sha: str,
                  title: str = "change", body: str = "", user: str = "developer",
                  draft: bool = False, mergeable: bool | None = None) -> int:
        """A pull request from branch `head` (at `head_sha`) into `base`; its number.
        `mergeable` is what GitHub computes (False: it conflicts with its base; None: not
        computed yet); like GitHub, only a single pull request's GET shows it."""
        with self.lock:
            repo = self.repos[full_name]
            repo.branches[head] = head_sha
            number = int(self._new_pull(repo, title, body, head, base, user)["number"])
            repo.pulls[number].update(draft=draft, mergeable=mergeable)
            return number

    def add_tag(self, full_name: str, name: str, sha: str = "") -> None:
        with self.lock:
            self.repos[full_name].tags[name] = sha or hashlib.sha1(name.encode()).hexdigest()

    def put_file(self, full_name: str, path: str, content: str | bytes,
                 branch: str | None = None) -> None:
        """A file on `branch` (default: the default branch), read through the contents API."""
        with self.lock:
            repo = self.repos[full_name]
            data = content.encode() if isinstance(content, str) else content
            repo.files.setdefault(branch or repo.default_branch, {})[path] = data

    def push(self, full_name: str, branch: str, sha: str) -> None:
        """Move `branch` to `sha` (a push; open pull requests from it follow)."""
        with self.lock:
            repo = self.repos[full_name]
            repo.branches[branch] = sha
            for pull in repo.pulls.values():
                if pull["state"] == "open" and pull["head"]["ref"] == branch:
                    pull["head"]["sha"] = sha

    def merge(self, full_name: str, number: int, merge_sha: str) -> None:
        """Merge as GitHub's merge button does: the base branch moves to `merge_sha`."""
        with self.lock:
            self._merge(self.repos[full_name], number, merge_sha, None)

    def comments(self, full_name: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self.repos[full_name].comments.get(number, [])]

    def pull(self, full_name: str, number: int) -> dict[str, Any]:
        with self.lock:
            return self._pull_json(self.repos[full_name], number)

    def writes(self) -> list[Request]:
        """Every request that could change something (not GET), in order."""
        return [r for r in self.requests if r.method != "GET"]

    # -- plumbing -----------------------------------------------------------------------------

    def _guard(self, handler: _GhHandler, *, write: bool) -> Handler:
        def guarded(req: Request, match: re.Match[str]) -> Response:
            token = self.tokens.get(req.bearer() or "")
            if token is None:
                return Response.of_json(401, {"message": "Bad credentials",
                                              "documentation_url": "https://docs.github.com/rest"})
            repo = self.repos.get(f"{match['owner']}/{match['name']}")
            if repo is None:
                return Response.of_json(404, {"message": "Not Found"})
            if write and not token.write:
                return Response.of_json(
                    403, {"message": "Resource not accessible by personal access token"})
            try:
                status, value, headers = handler(repo, token, req, match)
            except _Error as err:
                return Response.of_json(err.status, {"message": err.message})
            return Response.of_json(status, value, headers)

        return guarded

    def _routes(self) -> list[tuple[str, str, _GhHandler]]:
        return [
            ("GET", r"", self._get_repo),
            ("GET", r"/branches/(?P<branch>.+)", self._get_branch),
            ("GET", r"/tags", self._list_tags),
            ("GET", r"/contents/(?P<path>.+)", self._get_contents),
            ("GET", r"/git/ref/heads/(?P<branch>.+)", self._get_ref),
            ("GET", r"/pulls", self._list_pulls),
            ("POST", r"/pulls", self._create_pull),
            ("GET", r"/pulls/(?P<n>\d+)", self._get_pull),
            ("PATCH", r"/pulls/(?P<n>\d+)", self._update_pull),
            ("PUT", r"/pulls/(?P<n>\d+)/merge", self._merge_pull),
            ("GET", r"/pulls/(?P<n>\d+)/commits", self._pull_commits),
            ("GET", r"/commits/(?P<sha>[^/]+)/pulls", self._commit_pulls),
            ("GET", r"/issues/(?P<n>\d+)", self._get_issue),
            ("GET", r"/issues/(?P<n>\d+)/comments", self._list_comments),
            ("POST", r"/issues/(?P<n>\d+)/comments", self._create_comment),
            ("GET", r"/issues/comments/(?P<id>\d+)", self._get_comment),
            ("PATCH", r"/issues/comments/(?P<id>\d+)", self._update_comment),
            ("DELETE", r"/issues/comments/(?P<id>\d+)", self._delete_comment),
            ("GET", r"/issues/(?P<n>\d+)/labels", self._list_labels),
            ("POST", r"/issues/(?P<n>\d+)/labels", self._add_labels),
            ("PUT", r"/issues/(?P<n>\d+)/labels", self._set_labels),
            ("DELETE", r"/issues/(?P<n>\d+)/labels/(?P<label>[^/]+)", self._remove_label),
            ("POST", r"/statuses/(?P<sha>[^/]+)", self._create_status),
            ("GET", r"/commits/(?P<sha>[^/]+)/statuses", self._list_statuses),
            ("GET", r"/commits/(?P<sha>[^/]+)/status", self._combined_status),
            ("POST", r"/check-runs", self._create_check_run),
            ("PATCH", r"/check-runs/(?P<id>\d+)", self._update_check_run),
            ("GET", r"/check-runs/(?P<id>\d+)", self._get_check_run),
            ("GET", r"/commits/(?P<sha>[^/]+)/check-runs", self._list_check_runs),
        ]

    @staticmethod
    def _page(items: list[Any], req: Request) -> _Result:
        size = min(int(req.q("per_page", str(PER_PAGE_DEFAULT))), PER_PAGE_MAX)
        page = int(req.q("page", "1"))
        chunk = items[(page - 1) * size: page * size]
        headers = {}
        if page * size < len(items):
            query = {**{k: v[0] for k, v in req.query.items()}, "page": str(page + 1)}
            headers["Link"] = f'<{req.raw_path}?{urllib.parse.urlencode(query)}>; rel="next"'
        return 200, chunk, headers

    @staticmethod
    def _fields(req: Request, *names: str) -> dict[str, Any]:
        body = req.json()
        if not isinstance(body, dict):
            raise _Error(400, "Problems parsing JSON")
        missing = [n for n in names if n not in body]
        if missing:
            raise _Error(422, f"Invalid request: {', '.join(missing)} is missing")
        return body

    # -- repository, branches -----------------------------------------------------------------

    def _get_repo(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        return 200, {"full_name": repo.full_name, "default_branch": repo.default_branch,
                     "private": True}, {}

    def _branch_sha(self, repo: Repo, branch: str) -> str:
        if branch not in repo.branches:
            raise _Error(404, "Branch not found")
        return repo.branches[branch]

    def _get_branch(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        sha = self._branch_sha(repo, urllib.parse.unquote(m["branch"]))
        return 200, {"name": m["branch"], "commit": {"sha": sha}}, {}

    def _get_ref(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        sha = self._branch_sha(repo, urllib.parse.unquote(m["branch"]))
        return 200, {"ref": f"refs/heads/{m['branch']}", "object": {"sha": sha,
                                                                    "type": "commit"}}, {}

    def _list_tags(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        tags = [{"name": name, "commit": {"sha": sha}} for name, sha in reversed(repo.tags.items())]
        return self._page(tags, req)

    def _get_contents(self, repo: Repo, token: Token, req: Request, m: re.Match[str]
                      ) -> _Result:
        ref = req.q("ref") or repo.default_branch
        path = urllib.parse.unquote(m["path"])
        data = repo.files.get(ref, {}).get(path)
        if data is None:
            raise _Error(404, "Not Found")
        encoded = base64.encodebytes(data).decode()  # GitHub wraps the base64 at 60 columns
        return 200, {"type": "file", "encoding": "base64", "name": path.rsplit("/", 1)[-1],
                     "path": path, "size": len(data), "content": encoded,
                     "sha": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()}, {}

    # -- pull requests ------------------------------------------------------------------------

    def _new_pull(self, repo: Repo, title: str, body: str, head: str, base: str, user: str
                  ) -> dict[str, Any]:
        if base not in repo.branches or head not in repo.branches:
            raise _Error(422, "Validation Failed: head or base branch does not exist")
        number = max([0, *repo.pulls, *repo.comments]) + 1
        repo.pulls[number] = {
            "number": number, "state": "open", "title": title, "body": body,
            "user": {"login": user}, "draft": False, "merged": False, "merged_at": None,
            "merge_commit_sha": None, "created_at": _now(), "commits": [repo.branches[head]],
            "head": {"ref": head, "sha": repo.branches[head],
                     "repo": {"full_name": repo.full_name}},
            "base": {"ref": base, "sha": repo.branches[base],
                     "repo": {"full_name": repo.full_name}},
            "html_url": f"https://github.com/{repo.full_name}/pull/{number}",
        }
        return self._pull_json(repo, number)

    def _pull_json(self, repo: Repo, number: int) -> dict[str, Any]:
        if number not in repo.pulls:
            raise _Error(404, "Not Found")
        pull = {k: v for k, v in repo.pulls[number].items() if k != "commits"}
        pull["labels"] = [{"name": n} for n in repo.labels.get(number, [])]
        return pull

    def _list_pulls(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        state, head, base = req.q("state", "open"), req.q("head"), req.q("base")
        owner = repo.full_name.split("/")[0]
        found = [
            {k: v for k, v in self._pull_json(repo, n).items() if k != "mergeable"}
            for n, p in sorted(repo.pulls.items())
            if (state == "all" or p["state"] == state)
            and (not head or f"{owner}:{p['head']['ref']}" == head)
            and (not base or p["base"]["ref"] == base)
        ]
        return self._page(found, req)

    def _create_pull(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        body = self._fields(req, "title", "head", "base")
        head = str(body["head"]).split(":")[-1]
        return 201, self._new_pull(repo, body["title"], body.get("body") or "", head,
                                   body["base"], token.login), {}

    def _get_pull(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        return 200, self._pull_json(repo, int(m["n"])), {}

    def _update_pull(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        pull = self._pull_json(repo, int(m["n"]))
        body = self._fields(req)
        for key in ("title", "body", "state"):
            if key in body:
                repo.pulls[pull["number"]][key] = body[key]
        return 200, self._pull_json(repo, pull["number"]), {}

    def _merge(self, repo: Repo, number: int, merge_sha: str, expected_head: str | None) -> None:
        pull = repo.pulls.get(number)
        if pull is None:
            raise _Error(404, "Not Found")
        if pull["state"] != "open":
            raise _Error(405, "Pull Request is not mergeable")
        if expected_head and expected_head != pull["head"]["sha"]:
            raise _Error(409, "Head branch was modified. Review and try the merge again.")
        pull.update(state="closed", merged=True, merged_at=_now(), merge_commit_sha=merge_sha)
        repo.branches[pull["base"]["ref"]] = merge_sha

    def _merge_pull(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        body = self._fields(req)
        sha = f"{next(self._ids):040x}"
        self._merge(repo, int(m["n"]), sha, body.get("sha"))
        return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}, {}

    def _pull_commits(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        self._pull_json(repo, int(m["n"]))
        shas = repo.pulls[int(m["n"])]["commits"]
        return self._page([{"sha": s} for s in shas], req)

    def _commit_pulls(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        sha = m["sha"]
        found = [self._pull_json(repo, n) for n, p in sorted(repo.pulls.items())
                 if sha in (p["head"]["sha"], p["merge_commit_sha"])]
        return self._page(found, req)

    # -- issues: comments, labels -------------------------------------------------------------

    def _issue(self, repo: Repo, number: int) -> int:
        if number not in repo.pulls and number not in repo.comments:
            raise _Error(404, "Not Found")
        return number

    def _get_issue(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        pull = self._pull_json(repo, self._issue(repo, int(m["n"])))
        return 200, {k: pull[k] for k in ("number", "state", "title", "body", "labels")}, {}

    def _list_comments(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        thread = repo.comments.get(self._issue(repo, int(m["n"])), [])
        return self._page([dict(c) for c in thread], req)

    def _create_comment(self, repo: Repo, token: Token, req: Request, m: re.Match[str]
                        ) -> _Result:
        number = self._issue(repo, int(m["n"]))
        body = self._fields(req, "body")
        cid = next(self._ids)
        comment = {"id": cid, "body": body["body"], "user": {"login": token.login},
                   "created_at": _now(), "updated_at": _now(),
                   "html_url": f"https://github.com/{repo.full_name}/pull/{number}#c{cid}"}
        repo.comments.setdefault(number, []).append(comment)
        return 201, dict(comment), {}

    def _find_comment(self, repo: Repo, cid: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        for thread in repo.comments.values():
            for comment in thread:
                if comment["id"] == cid:
                    return thread, comment
        raise _Error(404, "Not Found")

    def _get_comment(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        return 200, dict(self._find_comment(repo, int(m["id"]))[1]), {}

    def _update_comment(self, repo: Repo, token: Token, req: Request, m: re.Match[str]
                        ) -> _Result:
        _, comment = self._find_comment(repo, int(m["id"]))
        comment.update(body=self._fields(req, "body")["body"], updated_at=_now())
        return 200, dict(comment), {}

    def _delete_comment(self, repo: Repo, token: Token, req: Request, m: re.Match[str]
                        ) -> _Result:
        thread, comment = self._find_comment(repo, int(m["id"]))
        thread.remove(comment)
        return 204, None, {}

    def _labels(self, repo: Repo, number: int) -> list[dict[str, str]]:
        return [{"name": n} for n in repo.labels.get(number, [])]

    def _list_labels(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        return 200, self._labels(repo, self._issue(repo, int(m["n"]))), {}

    @staticmethod
    def _label_names(req: Request) -> list[str]:
        body = req.json()
        names = body.get("labels", []) if isinstance(body, dict) else body
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _Error(422, "Invalid request: labels must be a list of strings")
        return names

    def _add_labels(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        number = self._issue(repo, int(m["n"]))
        current = repo.labels.setdefault(number, [])
        current += [n for n in self._label_names(req) if n not in current]
        return 200, self._labels(repo, number), {}

    def _set_labels(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        number = self._issue(repo, int(m["n"]))
        repo.labels[number] = list(dict.fromkeys(self._label_names(req)))
        return 200, self._labels(repo, number), {}

    def _remove_label(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        number = self._issue(repo, int(m["n"]))
        name = urllib.parse.unquote(m["label"])
        if name not in repo.labels.get(number, []):
            raise _Error(404, "Label does not exist")
        repo.labels[number].remove(name)
        return 200, self._labels(repo, number), {}

    # -- statuses, check runs -----------------------------------------------------------------

    def _create_status(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        body = self._fields(req, "state")
        if body["state"] not in ("error", "failure", "pending", "success"):
            raise _Error(422, "Validation Failed: state")
        status = {"id": next(self._ids), "state": body["state"],
                  "context": body.get("context") or "default",
                  "description": body.get("description"), "target_url": body.get("target_url"),
                  "creator": {"login": token.login}, "created_at": _now()}
        repo.statuses.setdefault(m["sha"], []).insert(0, status)
        return 201, dict(status), {}

    def _list_statuses(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        return self._page([dict(s) for s in repo.statuses.get(self._sha(repo, m["sha"]), [])],
                          req)

    def _sha(self, repo: Repo, ref: str) -> str:
        return repo.branches.get(ref, ref)

    def _combined_status(self, repo: Repo, token: Token, req: Request, m: re.Match[str]
                         ) -> _Result:
        sha = self._sha(repo, m["sha"])
        latest: dict[str, dict[str, Any]] = {}
        for status in repo.statuses.get(sha, []):
            latest.setdefault(status["context"], status)
        states = {s["state"] for s in latest.values()}
        state = ("failure" if states & {"error", "failure"} else
                 "pending" if "pending" in states or not states else "success")
        return 200, {"state": state, "sha": sha, "total_count": len(latest),
                     "statuses": list(latest.values())}, {}

    def _app_only(self, token: Token) -> None:
        if not token.app:
            raise _Error(403, "You must authenticate via a GitHub App.")

    def _create_check_run(self, repo: Repo, token: Token, req: Request, m: re.Match[str]
                          ) -> _Result:
        self._app_only(token)
        body = self._fields(req, "name", "head_sha")
        run = {"id": next(self._ids), "name": body["name"], "head_sha": body["head_sha"],
               "status": body.get("status", "queued"), "conclusion": body.get("conclusion"),
               "output": body.get("output") or {}, "details_url": body.get("details_url"),
               "external_id": body.get("external_id"), "app": {"slug": token.login}}
        repo.check_runs[run["id"]] = run
        return 201, dict(run), {}

    def _check_run(self, repo: Repo, cid: int) -> dict[str, Any]:
        if cid not in repo.check_runs:
            raise _Error(404, "Not Found")
        return repo.check_runs[cid]

    def _update_check_run(self, repo: Repo, token: Token, req: Request, m: re.Match[str]
                          ) -> _Result:
        self._app_only(token)
        run = self._check_run(repo, int(m["id"]))
        body = self._fields(req)
        run.update({k: body[k] for k in ("status", "conclusion", "output", "details_url", "name")
                    if k in body})
        return 200, dict(run), {}

    def _get_check_run(self, repo: Repo, token: Token, req: Request, m: re.Match[str]) -> _Result:
        return 200, dict(self._check_run(repo, int(m["id"]))), {}

    def _list_check_runs(self, repo: Repo, token: Token, req: Request, m: re.Match[str]
                         ) -> _Result:
        sha = self._sha(repo, m["sha"])
        runs = [dict(r) for r in repo.check_runs.values() if r["head_sha"] == sha]
        return 200, {"total_count": len(runs), "check_runs": runs}, {}


