"""Minimal GitHub REST client for the CI scripts (standard library only).

`GITHUB_API_URL` overrides the endpoint (tests point it at a local server); the token comes from
`GITHUB_TOKEN` (Cloud Build injects it from Secret Manager). With `dry_run`, reads are made and
writes are printed instead of sent.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_API = "https://api.github.com"


class GitHubError(RuntimeError):
    """A GitHub API call failed; the message names the call and GitHub's answer."""

    def __init__(self, method: str, path: str, status: int, body: str):
        self.status = status
        super().__init__(f"GitHub {method} {path} failed with HTTP {status}: {body[:500]}")


class GitHub:
    def __init__(self, repo: str, *, token: str | None = None, api_url: str | None = None,
                 dry_run: bool = False, timeout: float = 30.0):
        if repo.count("/") != 1:
            raise ValueError(f"--repo must be <owner>/<name>, got {repo!r}")
        self.repo = repo
        self.owner = repo.split("/")[0]
        self.token = token if token is not None else os.environ.get("GITHUB_TOKEN", "")
        self.api_url = (api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")
        self.dry_run = dry_run
        self.timeout = timeout
        if not self.token and not dry_run:
            raise ValueError("GITHUB_TOKEN is not set (Cloud Build passes it from Secret Manager)")

    def request(self, method: str, path: str, body: Any = None,
                query: dict[str, str] | None = None) -> Any:
        """Call the API; `path` is relative to /repos/<owner>/<name> unless it starts with '/'."""
        full = path if path.startswith("/") else f"/repos/{self.repo}/{path.lstrip('/')}"
        if query:
            full += "?" + urllib.parse.urlencode(query)
        if method != "GET" and self.dry_run:
            print(f"dry-run: would {method} {full} {json.dumps(body, sort_keys=True)[:300]}")
            return None
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.api_url + full, data=data, method=method)
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("X-GitHub-Api-Version", "2022-11-28")
        req.add_header("User-Agent", "mlops-ci-scripts")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read().decode()
        except urllib.error.HTTPError as err:
            raise GitHubError(method, full, err.code, err.read().decode(errors="replace")) from err
        return json.loads(raw) if raw else None

    def get(self, path: str, **query: str) -> Any:
        return self.request("GET", path, query=query or None)

    def open_pull(self, head: str, base: str) -> dict[str, Any] | None:
        """The open pull request from branch `head` into `base`, if any."""
        pulls = self.get("pulls", state="open", head=f"{self.owner}:{head}", base=base) or []
        return pulls[0] if pulls else None


def log(message: str) -> None:
    print(message, file=sys.stderr)
