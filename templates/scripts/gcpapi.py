"""Google Cloud REST calls for the CI scripts (rollback, artifact publishing).

Access token: `GOOGLE_OAUTH_ACCESS_TOKEN`, else Application Default Credentials through
google-auth (in Cloud Build the trigger's service account, from the metadata server; on a laptop
`gcloud auth application-default login`). Endpoints can be pointed at a local server with
`STORAGE_API_URL` and `VERTEX_API_URL` (tests).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


class GcpError(RuntimeError):
    def __init__(self, method: str, url: str, status: int, body: str):
        self.status = status
        super().__init__(f"{method} {url} failed with HTTP {status}: {body[:500]}")


def access_token() -> str:
    token = os.environ.get("GOOGLE_OAUTH_ACCESS_TOKEN")
    if token:
        return token
    try:
        import google.auth
        import google.auth.exceptions
        import google.auth.transport.requests
    except ImportError as err:  # pragma: no cover - depends on the image
        raise RuntimeError("google-auth is needed for Google credentials (python "
                           "scripts/ci_tools.py install --group ci-scripts)") from err
    try:
        credentials, _ = google.auth.default(scopes=SCOPES)
        credentials.refresh(google.auth.transport.requests.Request())
    except google.auth.exceptions.GoogleAuthError as err:
        raise RuntimeError(f"no Google credentials: {err} (run on Cloud Build, or "
                           "`gcloud auth application-default login`)") from err
    return str(credentials.token)


class Gcp:
    def __init__(self, region: str, *, dry_run: bool = False, token: str | None = None,
                 timeout: float = 60.0):
        self.region = region
        self.dry_run = dry_run
        self.timeout = timeout
        self._token = token
        self.storage_url = os.environ.get("STORAGE_API_URL", "https://storage.googleapis.com")
        self.vertex_url = os.environ.get("VERTEX_API_URL",
                                         f"https://{region}-aiplatform.googleapis.com")

    def token(self) -> str:
        if self._token is None:
            self._token = access_token()
        return self._token

    def call(self, method: str, url: str, body: Any = None, *, raw: bytes | None = None,
             content_type: str = "application/json") -> Any:
        if method != "GET" and self.dry_run:
            print(f"dry-run: would {method} {url}")
            return None
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token()}")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as err:
            raise GcpError(method, url, err.code, err.read().decode(errors="replace")) from err
        return json.loads(text) if text else None

    # --- Cloud Storage ---------------------------------------------------------------------

    def list_objects(self, bucket: str, prefix: str) -> list[str]:
        names: list[str] = []
        page = ""
        while True:
            query = {"prefix": prefix, "fields": "items(name),nextPageToken"}
            if page:
                query["pageToken"] = page
            url = (f"{self.storage_url}/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o?"
                   + urllib.parse.urlencode(query))
            result = self.call("GET", url) or {}
            names += [item["name"] for item in result.get("items", [])]
            page = result.get("nextPageToken", "")
            if not page:
                return names

    def delete_object(self, bucket: str, name: str) -> None:
        url = (f"{self.storage_url}/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o/"
               f"{urllib.parse.quote(name, safe='')}")
        try:
            self.call("DELETE", url)
        except GcpError as err:
            if err.status != 404:  # already gone: fine, rollback is idempotent
                raise

    def upload(self, bucket: str, name: str, data: bytes, content_type: str) -> None:
        query = urllib.parse.urlencode({"uploadType": "media", "name": name})
        url = (f"{self.storage_url}/upload/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o?"
               f"{query}")
        self.call("POST", url, raw=data, content_type=content_type)

    # --- BigQuery ------------------------------------------------------------------------------

    def delete_table(self, project: str, dataset: str, table: str) -> bool:
        """Delete a table; False if it was already gone. BIGQUERY_API_URL overrides the host."""
        base = os.environ.get("BIGQUERY_API_URL", "https://bigquery.googleapis.com")
        quote = urllib.parse.quote
        url = (f"{base}/bigquery/v2/projects/{quote(project, safe='')}/datasets/"
               f"{quote(dataset, safe='')}/tables/{quote(table, safe='')}")
        try:
            self.call("DELETE", url)
            return True
        except GcpError as err:
            if err.status != 404:
                raise
            return False

    # --- Vertex AI ---------------------------------------------------------------------------

    def vertex(self, method: str, path: str, body: Any = None, **query: str) -> Any:
        url = f"{self.vertex_url}/v1/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return self.call(method, url, body)

    def vertex_list(self, path: str, key: str, **query: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = ""
        while True:
            q = dict(query)
            if page:
                q["pageToken"] = page
            result = self.vertex("GET", path, **q) or {}
            items += result.get(key, [])
            page = result.get("nextPageToken", "")
            if not page:
                return items
