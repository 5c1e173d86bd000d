"""A small Cloud Resource Manager v3 REST server for tests (stdlib http.server, 127.0.0.1).

Speaks the JSON/HTTP API the `google-cloud-resource-manager` REST transport calls:
`GET /v3/projects/{id}`, `GET /v3/projects:search` (paged), `GET /v3/folders/{id}`,
`GET /v3/organizations/{id}`, `POST /v3/{projects|folders|organizations}/{id}:testIamPermissions`,
and an OAuth 2.0 token endpoint (`POST /token`, JWT bearer grant) for service-account
credentials files. Tokens are checked for real: the grant's assertion, or a self-signed JWT sent
as the bearer token, must verify (RS256) against a registered service-account public key.
Answers 200, 401 (no/invalid token), 403 (resource not visible) and 404 (no such resource) with
the Google error body shape.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TOKEN = "ya29.test-access-token"
# Project.State / Folder.State / Organization.State numbers, for `$alt=json;enum-encoding=int`
STATE_NUMBERS = {"STATE_UNSPECIFIED": 0, "ACTIVE": 1, "DELETE_REQUESTED": 2}


@dataclass
class RMState:
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)  # "folders/1" -> resource
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)  # project id -> resource
    hidden: set[str] = field(default_factory=set)  # names answered with 403 ("projects/<id>")
    permissions: dict[str, set[str]] = field(default_factory=dict)  # resource -> held
    search_page_size: int = 1
    search_leading_empty_pages: int = 0
    require_token: bool = True
    service_accounts: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)  # email -> key
    requests: list[tuple[str, str]] = field(default_factory=list)

    def add_folder(self, number: str, display: str = "ML", state: str = "ACTIVE") -> None:
        self.folders[f"folders/{number}"] = {
            "name": f"folders/{number}", "displayName": display, "state": state,
            "parent": "organizations/1",
        }

    def add_project(self, project_id: str, parent: str, state: str = "ACTIVE") -> None:
        number = str(415104041262 + len(self.projects))
        self.projects[project_id] = {
            "name": f"projects/{number}", "projectId": project_id, "parent": parent,
            "state": state, "displayName": project_id,
        }


def service_account_file(path: Any, state: RMState, token_uri: str,
                         email: str = "deployer@acme-cicd.iam.gserviceaccount.com",
                         register: bool = True) -> Any:
    """Write a service-account credentials file with a fresh RSA key; register its public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    if register:
        state.service_accounts[email] = key.public_key()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "acme-cicd", "private_key_id": "k1",
        "private_key": pem, "client_email": email, "client_id": "1", "token_uri": token_uri,
    }))
    return path


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_jwt(token: str, keys: dict[str, rsa.RSAPublicKey]) -> dict[str, Any] | None:
    """The claims of an RS256 JWT signed by a registered key and not expired, else None."""
    try:
        header_b64, payload_b64, sig_b64 = token.split(".")
        claims = json.loads(_b64(payload_b64))
        key = keys[claims["iss"]]
        key.verify(_b64(sig_b64), f"{header_b64}.{payload_b64}".encode(),
                   padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return None
    if claims.get("exp", 0) < time.time():
        return None
    return dict(claims)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _send(self, code: int, body: dict[str, Any]) -> None:
        if "enum-encoding=int" in urllib.parse.unquote(self.path):
            body = _int_enums(body)
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: int, status: str, message: str) -> None:
        self._send(code, {"error": {"code": code, "message": message, "status": status}})

    def _authorized(self) -> bool:
        if not self.server.state.require_token:
            return True
        auth = self.headers.get("Authorization") or ""
        bearer = auth.removeprefix("Bearer ")
        if bearer == TOKEN or verify_jwt(bearer, self.server.state.service_accounts):
            return True
        self._error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        return False

    def _lookup(self, name: str) -> dict[str, Any] | None:
        st = self.server.state
        kind, _, ident = name.partition("/")
        if kind == "projects":
            found = st.projects.get(ident)
            if found is None:
                found = next((p for p in st.projects.values() if p["name"] == name), None)
            return found
        if kind == "folders":
            return st.folders.get(name)
        if kind == "organizations":
            return st.organizations.get(name)
        return None

    def _get_resource(self, name: str) -> None:
        st = self.server.state
        if name in st.hidden:
            self._error(403, "PERMISSION_DENIED",
                        f"The caller does not have permission (or {name} may not exist)")
            return
        found = self._lookup(name)
        if found is None:
            self._error(404, "NOT_FOUND", f"{name} not found.")
            return
        self._send(200, found)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        st = self.server.state
        st.requests.append(("GET", url.path + ("?" + url.query if url.query else "")))
        if not self._authorized():
            return
        path = url.path.removeprefix("/v3/")
        if path == "projects:search":
            self._search(urllib.parse.parse_qs(url.query))
            return
        if path.count("/") == 1 and path.split("/")[0] in ("projects", "folders", "organizations"):
            self._get_resource(path)
            return
        self._error(404, "NOT_FOUND", f"no route {url.path}")

    def _search(self, query: dict[str, list[str]]) -> None:
        st = self.server.state
        q = (query.get("query") or [""])[0]
        token = (query.get("pageToken") or [""])[0]
        matches = []
        for p in st.projects.values():
            if f"projects/{p['projectId']}" in st.hidden:
                continue  # search returns only projects the caller may get
            if q.startswith("id:") and p["projectId"] != q[3:]:
                continue
            if q.startswith("parent:") and p["parent"] != q[7:]:
                continue
            matches.append(p)
        page = int(token or 0)
        if page < st.search_leading_empty_pages:
            self._send(200, {"nextPageToken": str(page + 1)})
            return
        start = (page - st.search_leading_empty_pages) * st.search_page_size
        chunk = matches[start:start + st.search_page_size]
        body: dict[str, Any] = {"projects": chunk} if chunk else {}
        if start + st.search_page_size < len(matches):
            body["nextPageToken"] = str(page + 1)
        self._send(200, body)

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        st = self.server.state
        st.requests.append(("POST", url.path))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path == "/token":
            form = urllib.parse.parse_qs(raw.decode())
            assertion = (form.get("assertion") or [""])[0]
            if verify_jwt(assertion, st.service_accounts):
                self._send(200, {"access_token": TOKEN, "expires_in": 3600,
                                 "token_type": "Bearer"})
            else:
                self._send(400, {"error": "invalid_grant",
                                 "error_description": "Invalid JWT Signature."})
            return
        if not self._authorized():
            return
        path = url.path.removeprefix("/v3/")
        if path.endswith(":testIamPermissions"):
            name = path.removesuffix(":testIamPermissions")
            if name in st.hidden:
                self._error(403, "PERMISSION_DENIED", f"The caller lacks permission on {name}")
                return
            found = self._lookup(name)
            if found is None:
                self._error(404, "NOT_FOUND", f"{name} not found.")
                return
            asked = json.loads(raw or b"{}").get("permissions", [])
            held = st.permissions.get(name, set())
            self._send(200, {"permissions": [p for p in asked if p in held]})
            return
        self._error(404, "NOT_FOUND", f"no route {url.path}")


def _int_enums(body: Any) -> Any:
    if isinstance(body, dict):
        return {
            k: STATE_NUMBERS[v] if k == "state" and v in STATE_NUMBERS else _int_enums(v)
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [_int_enums(v) for v in body]
    return body


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: RMState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class ResourceManagerServer:
    """Runs the server in a thread; `url` is http://127.0.0.1:PORT."""

    def __init__(self, state: RMState | None = None) -> None:
        self.state = state or RMState()
        self._server = _Server(self.state)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ResourceManagerServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
