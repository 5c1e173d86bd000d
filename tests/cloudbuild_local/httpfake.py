"""The base of the fake HTTP services: a threaded server on 127.0.0.1, regex routes, a request
log, and one lock around every handler (state changes are atomic, order is the arrival order).

Bodies may come with Content-Length or chunked (Go's HTTP client streams uploads chunked)."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass(frozen=True)
class Request:
    method: str
    raw_path: str  # without the query, still percent-encoded
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-cased names
    body: bytes

    @property
    def path(self) -> str:
        return urllib.parse.unquote(self.raw_path)

    def q(self, key: str, default: str = "") -> str:
        values = self.query.get(key)
        return values[0] if values else default

    def json(self) -> Any:
        if not self.body:
            return {}
        return json.loads(self.body)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def bearer(self) -> str | None:
        """The token of `Authorization: Bearer X` (or GitHub's `token X`)."""
        scheme, _, token = self.header("authorization").partition(" ")
        return token.strip() if scheme.lower() in ("bearer", "token") and token.strip() else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, status: int, value: Any, headers: Mapping[str, str] | None = None) -> Response:
        body = b"" if value is None else json.dumps(value).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=UTF-8",
                                  **(headers or {})})

    @classmethod
    def text(cls, status: int, text: str, headers: Mapping[str, str] | None = None) -> Response:
        return cls(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8",
                                           **(headers or {})})


Handler = Callable[[Request, "re.Match[str]"], Response]


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


class FakeServer:
    """Subclasses add routes in __init__ (`self.route(...)`) and may override `not_found`."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[Request] = []
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- routing ------------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """`pattern` is a regex matched against the whole percent-encoded path."""
        self.routes.append((method, re.compile(pattern), handler))

    def not_found(self, request: Request) -> Response:
        return Response.of_json(404, {"message": "Not Found"})

    def dispatch(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
            for method, pattern, handler in self.routes:
                match = pattern.fullmatch(request.raw_path)
                if match and method in (request.method, "*"):
                    return handler(request, match)
            return self.not_found(request)

    # -- serving ------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                split = urllib.parse.urlsplit(self.path)
                request = Request(
                    method=self.command,
                    raw_path=split.path,
                    query=urllib.parse.parse_qs(split.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=_read_body(self),
                )
                try:
                    response = fake.dispatch(request)
                except Exception as exc:  # a bug in a fake: answer 500 with the reason
                    response = Response.text(500, f"fake server error: {exc!r}")
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        return Handler

    def start(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        """host:port (what STORAGE_EMULATOR_HOST and GCE_METADATA_HOST take)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"127.0.0.1:{self._server.server_port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"
