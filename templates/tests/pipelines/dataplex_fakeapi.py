"""An in-memory fake of the Dataplex REST calls the data quality gate makes (dataScans.run,
dataScans.jobs.get), served by http.server on 127.0.0.1. A test gives it the scan's name and the
job the scan should produce (synthetic results); a job is RUNNING for `polls_running` reads
before it reports that job. Every request is recorded."""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeDataplex:
    scan: str  # projects/<p>/locations/<l>/dataScans/<id>
    outcome: dict[str, Any]  # what the finished job is: state, dataQualityResult, ...
    polls_running: int = 1
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, auth
    jobs: dict[str, int] = field(default_factory=dict)  # job name -> reads so far

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path = urllib.parse.unquote(parsed.path)
                fake.calls.append((self.command, self.path, self.headers.get("Authorization", "")))
                status, body = fake.route(self.command, path,
                                          dict(urllib.parse.parse_qsl(parsed.query)))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
        if method == "POST" and path == f"/v1/{self.scan}:run":
            name = f"{self.scan}/jobs/job-{len(self.jobs) + 1}"
            self.jobs[name] = 0
            return 200, {"job": {"name": name, "state": "PENDING"}}
        name = path.removeprefix("/v1/")
        if method == "GET" and name in self.jobs:
            self.jobs[name] += 1
            if self.jobs[name] <= self.polls_running:
                return 200, {"name": name, "state": "RUNNING"}
            full = query.get("view") == "FULL"
            job = {**self.outcome, "name": name}
            if not full:
                job.pop("dataQualityResult", None)
            return 200, job
        return 404, {"error": {"code": 404, "message": f"{method} {path} not found"}}
