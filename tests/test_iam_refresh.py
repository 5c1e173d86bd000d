"""tools/refresh_iam_roles.py: the IAM API through the real google-auth and requests clients
(against a local stand-in for the token endpoint and roles.list, with paging), files, --check,
and the shipped snapshot in the tool's canonical form."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from generator.iam import snapshot

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "refresh_iam_roles.py"

ROLES = [
    {"name": "roles/a.viewer", "title": "A Viewer", "stage": "GA",
     "includedPermissions": ["a.things.get", "a.things.list"]},
    {"name": "roles/a.admin", "title": "A Admin", "stage": "GA",
     "includedPermissions": ["a.things.get", "a.things.create", "a.things.list"]},
    {"name": "roles/b.old", "title": "[DEPRECATED] B", "stage": "DEPRECATED",
     "includedPermissions": ["b.x.get"]},
]


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("refresh_iam_roles", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class FakeIam:
    """Google's OAuth token endpoint and IAM roles.list, as far as the tool uses them."""

    def __init__(self, roles: list[dict[str, Any]], page_size: int = 2) -> None:
        self.roles = roles
        self.page_size = page_size
        self.requests: list[tuple[str, dict[str, list[str]], str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # the token endpoint (a service account's JWT grant)
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                fake.requests.append(("POST " + self.path, form, ""))
                if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] \
                        or not form.get("assertion"):
                    self._send(400, {"error": "unsupported_grant_type"})
                    return
                self._send(200, {"access_token": "fake-token", "expires_in": 3600,
                                 "token_type": "Bearer"})

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                auth = self.headers.get("Authorization", "")
                fake.requests.append(("GET " + url.path, query, auth))
                if auth != "Bearer fake-token":
                    self._send(401, {"error": {"code": 401, "message": "unauthenticated"}})
                    return
                if url.path != "/v1/roles" or query.get("view") != ["FULL"]:
                    self._send(404, {"error": {"code": 404, "message": "not found"}})
                    return
                start = int((query.get("pageToken") or ["0"])[0])
                page = fake.roles[start:start + fake.page_size]
                body: dict[str, Any] = {"roles": page}
                if start + fake.page_size < len(fake.roles):
                    body["nextPageToken"] = str(start + fake.page_size)
                self._send(200, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeIam:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _service_account_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture
def adc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIam]:
    """Application Default Credentials (a service account key file) whose token endpoint is
    the stand-in: google-auth signs its JWT and exchanges it there as it would at Google's."""
    with FakeIam(ROLES) as fake:
        creds = tmp_path / "adc.json"
        creds.write_text(json.dumps({
            "type": "service_account", "project_id": "acme-tools", "private_key_id": "k1",
            "private_key": _service_account_key(), "client_id": "1",
            "client_email": "refresh@acme-tools.iam.gserviceaccount.com",
            "token_uri": f"{fake.url}/token",
        }))
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(creds))
        monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
        yield fake


def _read(path: Path) -> dict[str, Any]:
    data = json.loads(gzip.decompress(path.read_bytes()))
    assert isinstance(data, dict)
    return data


def test_reads_every_page_of_roles_list_with_adc(tool: ModuleType, adc: FakeIam,
                                                 tmp_path: Path) -> None:
    out = tmp_path / "roles.json.gz"
    assert tool.main(["--endpoint", adc.url, "--out", str(out)]) == 0
    data = _read(out)
    assert sorted(data["roles"]) == ["roles/a.admin", "roles/a.viewer", "roles/b.old"]
    assert data["roles"]["roles/a.admin"]["includedPermissions"] == [
        "a.things.create", "a.things.get", "a.things.list"]
    assert data["roles"]["roles/b.old"]["stage"] == "DEPRECATED"
    assert adc.url in data["source"] and "view=FULL" in data["source"]
    gets = [r for r in adc.requests if r[0] == "GET /v1/roles"]
    assert [q.get("pageToken") for _, q, _ in gets] == [None, ["2"]]  # two pages
    assert all(auth == "Bearer fake-token" for _, _, auth in gets)
    assert any(r[0] == "POST /token" for r in adc.requests)  # a real refresh happened
    # the package's loader reads what the tool writes; deprecated roles are known as such
    roles = snapshot.load(out)
    role = roles.get("roles/b.old")
    assert role is not None and role.deprecated
    assert roles.granting("a.things.create") == ("roles/a.admin",)
    assert roles.granting("b.x.get") == ()  # deprecated roles are never suggested


def test_check_passes_when_current_and_names_the_changes_when_stale(
        tool: ModuleType, adc: FakeIam, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "roles.json.gz"
    assert tool.main(["--endpoint", adc.url, "--out", str(out)]) == 0
    before = out.read_bytes()
    assert tool.main(["--endpoint", adc.url, "--out", str(out), "--check"]) == 0
    adc.roles = [
        {**ROLES[0], "includedPermissions": ["a.things.get"]},
        {**ROLES[2], "stage": "GA"},
        {"name": "roles/c.new", "title": "C", "stage": "BETA", "includedPermissions": ["c.y"]},
    ]
    capsys.readouterr()
    assert tool.main(["--endpoint", adc.url, "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert "stale" in err
    assert "+ roles/c.new" in err and "- roles/a.admin" in err
    assert "roles/a.viewer: +0 -1 permissions" in err
    assert "roles/b.old: stage DEPRECATED -> GA" in err
    assert out.read_bytes() == before  # --check never writes


def test_without_credentials_it_says_what_to_do(tool: ModuleType, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    assert tool.main(["--out", str(tmp_path / "x.json.gz")]) == 2
    assert "--from-file" in capsys.readouterr().err
    assert not (tmp_path / "x.json.gz").exists()


def test_api_errors_are_reported(tool: ModuleType, adc: FakeIam, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert tool.main(["--endpoint", adc.url + "/nowhere", "--out",
                      str(tmp_path / "x.json.gz")]) == 2
    assert "answered 404" in capsys.readouterr().err


@pytest.mark.parametrize("shape", ["snapshot", "page", "pages", "gzip"])
def test_reads_files_of_every_shape(tool: ModuleType, tmp_path: Path, shape: str) -> None:
    source = tmp_path / ("in.json.gz" if shape == "gzip" else "in.json")
    doc: Any = {
        "snapshot": {"source": "a saved snapshot",
                     "roles": {r["name"]: {k: v for k, v in r.items() if k != "name"}
                               for r in ROLES}},
        "page": {"roles": ROLES},
        "pages": [{"roles": ROLES[:1]}, {"roles": ROLES[1:]}],
        "gzip": {"roles": ROLES},
    }[shape]
    raw = json.dumps(doc).encode()
    source.write_bytes(gzip.compress(raw) if shape == "gzip" else raw)
    out = tmp_path / "roles.json.gz"
    assert tool.main(["--from-file", str(source), "--out", str(out)]) == 0
    assert sorted(_read(out)["roles"]) == ["roles/a.admin", "roles/a.viewer", "roles/b.old"]
    assert tool.main(["--from-file", str(source), "--out", str(out), "--check"]) == 0


def test_a_file_that_is_no_roles_document_is_refused(tool: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"roles": [{"name": "projects/p/roles/custom"}]}))
    assert tool.main(["--from-file", str(source), "--out", str(tmp_path / "o.gz")]) == 2


def test_the_shipped_snapshot_is_canonical_and_says_where_it_came_from(tool: ModuleType) -> None:
    shipped = snapshot.SNAPSHOT
    assert tool.main(["--from-file", str(shipped), "--out", str(shipped), "--check"]) == 0
    assert tool.encode(tool.read_file(shipped)) == shipped.read_bytes()
    roles = snapshot.default()
    assert "iam-dataset" in roles.source and "2073fa52" in roles.source
    assert len(roles.by_name) > 2000
    deprecated = [r for r in roles.by_name.values() if r.deprecated]
    assert deprecated, "the snapshot carries deprecated roles, so the iam stage can refuse them"
    provenance = (shipped.parent / "PROVENANCE.md").read_text()
    assert "2073fa52ac008a45477aa0b1b4580cd99135bf60" in provenance
