"""The few GitHub REST API reads `mlopsgen fleet status` needs, over the standard library.

Settings come from the environment, as GitHub's own tools read them: `GITHUB_TOKEN` (or
`GH_TOKEN`) for the token, `GITHUB_API_URL` for the API base (GitHub Enterprise, or a local
fake in tests; default https://api.github.com) and `GITHUB_SERVER_URL` for the web host whose
repo URLs count as GitHub's (default https://github.com). Every failure is a `GitHubError`
whose message names the request and what to check.
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from generator.errors import GitHubError

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
TIMEOUT_S = 30.0
MAX_PAGES = 50  # 5,000 items at 100 a page: far beyond any open-PR or tag list we read
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_NAME = r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}"
_FULL_NAME = re.compile(rf"^{_NAME}$")

Opener = Callable[[urllib.request.Request, float], Any]


@dataclass(frozen=True)
class Settings:
    api_url: str = DEFAULT_API_URL
    token: str | None = None
    server_url: str = DEFAULT_SERVER_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            token=env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or None,
            server_url=(env.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/"),
        )

    @property
    def server_host(self) -> str:
        return urllib.parse.urlsplit(self.server_url).hostname or "github.com"


def is_full_name(text: str) -> bool:
    """`owner/name`, as GitHub spells repository names."""
    return bool(_FULL_NAME.match(text)) and not text.endswith((".", ".git"))


def repo_of_url(url: str, host: str = "github.com") -> str | None:
    """`owner/name` of a git URL on `host` (https, ssh, scp-like `git@host:`, copier's `gh:`);
    None for any other URL or a path."""
    text = url.strip().removeprefix("git+")
    if text.startswith("gh:"):
        path = text[3:]
    elif text.startswith(f"git@{host}:"):
        path = text.split(":", 1)[1]
    else:
        parts = urllib.parse.urlsplit(text)
        if parts.scheme not in ("https", "http", "ssh") or parts.hostname != host:
            return None
        path = parts.path
    path = path.strip("/").removesuffix(".git")
    return path if is_full_name(path) else None


def _default_opener(request: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.urlopen(request, timeout=timeout)


class GitHub:
    """Read-only GitHub REST client (JSON, pagination through Link headers)."""

    def __init__(self, settings: Settings, *, timeout_s: float = TIMEOUT_S,
                 opener: Opener = _default_opener) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._open = opener

    # -- requests -------------------------------------------------------------------------------

    def _request(self, url: str, method: str = "GET", payload: Any = None) -> tuple[Any, str]:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                   "User-Agent": "mlopsgen"}
        if self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        data = None if payload is None else json.dumps(payload).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self._open(request, self.timeout_s) as response:
                body = response.read()
                link = response.headers.get("Link", "")
        except urllib.error.HTTPError as error:
            raise _http_error(url, error, self.settings, method) from error
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise GitHubError(
                f"cannot reach the GitHub API at {self.settings.api_url} ({reason}); check the "
                "network, or GITHUB_API_URL"
            ) from error
        try:
            return (json.loads(body) if body else None), link
        except ValueError as error:
            raise GitHubError(f"GET {url}: the answer is not JSON") from error

    def _url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        url = f"{self.settings.api_url}{path}"
        return f"{url}?{urllib.parse.urlencode(query)}" if query else url

    def get(self, path: str, query: Mapping[str, str] | None = None) -> Any:
        return self._request(self._url(path, query))[0]

    def send(self, method: str, path: str, payload: Any = None) -> Any:
        """A write (POST, PATCH, DELETE) with a JSON body; the answer's JSON. Only the
        template-update build writes (`generator/selfupdate.py`); status only reads."""
        return self._request(self._url(path), method, payload)[0]

    def get_pages(self, path: str, query: Mapping[str, str] | None = None) -> list[Any]:
        """Every item of a paginated list (100 a page)."""
        url: str | None = self._url(path, {"per_page": "100", **(query or {})})
        items: list[Any] = []
        for _page in range(MAX_PAGES):
            if url is None:
                break
            value, link = self._request(url)
            if not isinstance(value, list):
                raise GitHubError(f"GET {url}: expected a list")
            items.extend(value)
            found = _NEXT.search(link)
            url = urllib.parse.urljoin(url, found.group(1)) if found else None
        return items

    def graphql(self, query: str, variables: Mapping[str, Any]) -> Any:
        """One GraphQL request (what REST cannot do: a pull request's draft state); its data."""
        base = self.settings.api_url
        url = (base.removesuffix("/v3") + "/graphql" if base.endswith("/api/v3")
               else f"{base}/graphql")
        value = self._request(url, "POST", {"query": query, "variables": dict(variables)})[0]
        if not isinstance(value, dict) or value.get("errors"):
            errors = value.get("errors") if isinstance(value, dict) else value
            raise GitHubError(f"POST {url}: GraphQL answered {errors}")
        return value.get("data")

    # -- the reads fleet status makes -----------------------------------------------------------

    def file_text(self, full_name: str, path: str, ref: str | None = None) -> str | None:
        """A file of the repo's default branch (or `ref`); None when it does not exist."""
        quoted = urllib.parse.quote(path)
        try:
            value = self.get(f"/repos/{full_name}/contents/{quoted}", {"ref": ref} if ref else None)
        except GitHubError as error:
            if error.status == 404 and self._repo_exists(full_name):
                return None
            raise
        if not isinstance(value, dict) or value.get("type") != "file":
            raise GitHubError(f"{full_name}: {path} is not a file")
        if value.get("encoding") != "base64":
            raise GitHubError(f"{full_name}: {path} is too large for the contents API")
        return base64.b64decode(str(value.get("content", ""))).decode("utf-8")

    def _repo_exists(self, full_name: str) -> bool:
        """Tells a missing file (404 in a readable repo) from a repo the token cannot see."""
        self.get(f"/repos/{full_name}")  # raises the repo's own 404 message
        return True

    def tags(self, full_name: str) -> list[str]:
        return [str(t["name"]) for t in self.get_pages(f"/repos/{full_name}/tags")
                if isinstance(t, dict) and "name" in t]

    def open_pulls(self, full_name: str) -> list[dict[str, Any]]:
        return [p for p in self.get_pages(f"/repos/{full_name}/pulls", {"state": "open"})
                if isinstance(p, dict)]

    def pull(self, full_name: str, number: int) -> dict[str, Any]:
        value = self.get(f"/repos/{full_name}/pulls/{number}")
        if not isinstance(value, dict):
            raise GitHubError(f"{full_name}: pull request #{number} is not an object")
        return value


def _http_error(url: str, error: urllib.error.HTTPError, settings: Settings,
                method: str = "GET") -> GitHubError:
    try:
        message = str(json.loads(error.read() or b"{}").get("message", ""))
    except (ValueError, AttributeError):
        message = ""
    what = f"{method} {url} answered {error.code}" + (f" ({message})" if message else "")
    if error.code == 401:
        hint = ("the token was refused: set GITHUB_TOKEN to a valid token" if settings.token
                else "set GITHUB_TOKEN to a token that can read it")
    elif error.code == 403 and error.headers.get("X-RateLimit-Remaining") == "0":
        hint = "the API rate limit is used up: wait, or set GITHUB_TOKEN for a higher limit"
    elif error.code in (403, 404) and method != "GET":
        hint = ("the token may not write here: it needs read and write access to the "
                "repository's contents and pull requests")
    elif error.code in (403, 404):
        hint = ("no such repository or file, or the token cannot read it" if settings.token
                else "no such repository or file, or it is private: set GITHUB_TOKEN")
    else:
        hint = "GitHub could not answer; try again"
    return GitHubError(f"{what}: {hint}", status=error.code)
