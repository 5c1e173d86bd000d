"""A small local stand-in for the Cloud Storage JSON and XML APIs, enough for Terraform's `gcs`
backend (cloud.google.com/go/storage): object get (XML and `alt=media`), metadata, list, delete,
multipart and resumable uploads with generation preconditions.

Each caller is named by its bearer token: tokens in `writers` may write, tokens in `readers` may
only read (as the CI plan accounts, `roles/storage.objectViewer`), anything else is refused.
A refused write answers 403 in the shape Cloud Storage uses, naming the missing permission.

    with FakeGcs("my-bucket", writers={"owner"}, readers={"plan"}) as gcs:
        env = {"GOOGLE_BACKEND_STORAGE_CUSTOM_ENDPOINT": gcs.endpoint,
               "GOOGLE_OAUTH_ACCESS_TOKEN": "plan"}
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class StoredObject:
    data: bytes
    generation: int
    content_type: str = "application/octet-stream"

    def resource(self, bucket: str, name: str) -> dict[str, Any]:
        md5 = base64.b64encode(hashlib.md5(self.data).digest()).decode()
        return {
            "kind": "storage#object", "id": f"{bucket}/{name}/{self.generation}",
            "bucket": bucket, "name": name, "generation": str(self.generation),
            "metageneration": "1", "size": str(len(self.data)), "md5Hash": md5,
            "contentType": self.content_type, "storageClass": "STANDARD",
            "timeCreated": "2026-01-01T00:00:00.000Z", "updated": "2026-01-01T00:00:00.000Z",
        }


@dataclass
class Request:
    """One request as the fake saw it (for assertions on who did what)."""

    method: str
    path: str
    token: str
    status: int


@dataclass
class _State:
    bucket: str
    writers: set[str]
    readers: set[str]
    objects: dict[str, StoredObject] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[Request] = field(default_factory=list)
    next_generation: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(code: int, message: str, reason: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "errors": [
        {"message": message, "domain": "global", "reason": reason}]}}).encode()


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeGcs/1"
    state: _State  # set on the subclass FakeGcs builds

    def log_message(self, format: str, *args: Any) -> None:
        return

    # --- plumbing ----------------------------------------------------------------------------

    def _token(self) -> str:
        auth = self.headers.get("Authorization", "")
        return auth.removeprefix("Bearer ").strip()

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.state.log.append(Request(self.command, self.path, self._token(), status))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self) -> bytes:
        if "chunked" not in self.headers.get("Transfer-Encoding", ""):
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = b""  # the Go client streams uploads: chunked transfer encoding
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return data
            data += self.rfile.read(size)
            self.rfile.readline()

    def _may(self, write: bool, name: str) -> bool:
        token = self._token()
        if token in self.state.writers or (not write and token in self.state.readers):
            return True
        permission = "storage.objects.create" if write else "storage.objects.get"
        message = (f"{token}@example.iam.gserviceaccount.com does not have {permission} access "
                   f"to the Google Cloud Storage object. Permission '{permission}' denied on "
                   "resource (or it may not exist).")
        self._send(403, _error(403, message, "forbidden"))
        return False

    def _parts(self) -> tuple[list[str], dict[str, list[str]]]:
        split = urlsplit(self.path)
        return [unquote(p) for p in split.path.split("/") if p], parse_qs(split.query)

    def _not_found(self) -> None:
        self._send(404, _error(404, "No such object.", "notFound"))

    # --- routes ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        parts, query = self._parts()
        if parts[:3] == ["storage", "v1", "b"] and len(parts) == 5 and parts[4] == "o":
            self._list(query)
        elif parts[:3] == ["storage", "v1", "b"] and len(parts) >= 6 and parts[4] == "o":
            self._get("/".join(parts[5:]), media=query.get("alt") == ["media"])
        elif parts and parts[0] == self.state.bucket and len(parts) > 1:
            self._get("/".join(parts[1:]), media=True)  # XML API read
        else:
            self._not_found()

    def do_DELETE(self) -> None:
        parts, query = self._parts()
        name = "/".join(parts[5:])
        obj = self._existing(name, write=True)
        if obj is None:
            return
        with self.state.lock:
            if not self._precondition(obj, query):
                return
            self.state.objects.pop(name, None)
        self._send(204)

    def do_POST(self) -> None:
        parts, query = self._parts()
        if parts[:1] != ["upload"]:
            self._not_found()
            return
        upload = query.get("uploadType", [""])[0]
        body = self._body()
        if not self._may(True, query.get("name", [""])[0]):
            return
        if upload == "multipart":
            meta, data = self._multipart(body)
            self._store(str(meta.get("name") or query.get("name", [""])[0]), data, query,
                        str(meta.get("contentType") or "application/octet-stream"))
        elif upload == "resumable":
            meta = json.loads(body or b"{}")
            name = str(meta.get("name") or query.get("name", [""])[0])
            session = uuid.uuid4().hex
            self.state.sessions[session] = {"name": name, "query": query}
            location = f"http://{self.headers['Host']}{urlsplit(self.path).path}?" \
                       f"uploadType=resumable&upload_id={session}"
            self._send(200, b"{}", headers={"Location": location})
        else:
            self._store(query.get("name", [""])[0], body, query, "application/octet-stream")

    def do_PUT(self) -> None:
        _, query = self._parts()
        session = self.state.sessions.pop(query.get("upload_id", [""])[0], None)
        if session is None:
            self._not_found()
            return
        self._store(session["name"], self._body(), session["query"], "application/octet-stream")

    # --- operations --------------------------------------------------------------------------

    def _list(self, query: dict[str, list[str]]) -> None:
        if not self._may(False, ""):
            return
        prefix = query.get("prefix", [""])[0]
        delimiter = query.get("delimiter", [""])[0]
        items, prefixes = [], set()
        with self.state.lock:
            for name, obj in sorted(self.state.objects.items()):
                if not name.startswith(prefix):
                    continue
                rest = name[len(prefix):]
                if delimiter and delimiter in rest:
                    prefixes.add(prefix + rest.split(delimiter, 1)[0] + delimiter)
                else:
                    items.append(obj.resource(self.state.bucket, name))
        self._send(200, json.dumps({"kind": "storage#objects", "items": items,
                                    "prefixes": sorted(prefixes)}).encode())

    def _existing(self, name: str, *, write: bool) -> StoredObject | None:
        """The object, when the caller may touch it and it exists; else the answer is sent."""
        if not self._may(write, name):
            return None
        with self.state.lock:
            obj = self.state.objects.get(name)
        if obj is None:
            self._not_found()
        return obj

    def _get(self, name: str, *, media: bool) -> None:
        obj = self._existing(name, write=False)
        if obj is None:
            return
        if not media:
            self._send(200, json.dumps(obj.resource(self.state.bucket, name)).encode())
            return
        self._send(200, obj.data, obj.content_type, {
            "X-Goog-Generation": str(obj.generation), "X-Goog-Metageneration": "1",
            "X-Goog-Stored-Content-Length": str(len(obj.data)),
            "Last-Modified": "Thu, 01 Jan 2026 00:00:00 GMT"})

    def _precondition(self, obj: StoredObject | None, query: dict[str, list[str]]) -> bool:
        wanted = query.get("ifGenerationMatch")
        if wanted is None:
            return True
        if int(wanted[0]) == (obj.generation if obj else 0):
            return True
        self._send(412, _error(412, "At least one of the pre-conditions you specified did not "
                                    "hold.", "conditionNotMet"))
        return False

    def _store(self, name: str, data: bytes, query: dict[str, list[str]],
               content_type: str) -> None:
        if not self._may(True, name):
            return
        with self.state.lock:
            if not self._precondition(self.state.objects.get(name), query):
                return
            self.state.next_generation += 1
            obj = StoredObject(data, self.state.next_generation, content_type)
            self.state.objects[name] = obj
        self._send(200, json.dumps(obj.resource(self.state.bucket, name)).encode())

    def _multipart(self, body: bytes) -> tuple[dict[str, Any], bytes]:
        header = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(header + body)
        meta_part, media_part = list(message.iter_parts())[:2]
        raw = meta_part.get_payload(decode=True)
        meta = json.loads(raw if isinstance(raw, bytes) else b"{}")
        media = media_part.get_payload(decode=True)
        return meta, media if isinstance(media, bytes) else b""


class FakeGcs:
    """The stand-in, serving one bucket on 127.0.0.1 (an ephemeral port) while in a `with`."""

    def __init__(self, bucket: str, *, writers: Iterable[str], readers: Iterable[str] = ()):
        self.state = _State(bucket, set(writers), set(readers))
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """The JSON API base URL (the gcs backend's `storage_custom_endpoint`)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/storage/v1/"

    @property
    def objects(self) -> dict[str, StoredObject]:
        return self.state.objects

    @property
    def requests(self) -> list[Request]:
        return self.state.log

    def put(self, name: str, data: bytes) -> None:
        with self.state.lock:
            self.state.next_generation += 1
            self.state.objects[name] = StoredObject(data, self.state.next_generation)

    def __enter__(self) -> FakeGcs:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
