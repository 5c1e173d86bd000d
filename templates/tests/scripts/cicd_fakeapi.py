"""An in-memory fake of the REST endpoints the CI scripts call, served by http.server on
127.0.0.1: GitHub (pulls, reviews, issue events, comments, compare, git data), Cloud Storage
(list, delete, upload, ifGenerationMatch=0) and Vertex AI (pipeline jobs, models and their
version labels, endpoints). Every request is recorded."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPO = "acme/acme-mlops"


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    auth: str


class NotFound(Exception):
    pass


@dataclass
class FakeApi:
    calls: list[Call] = field(default_factory=list)
    # GitHub
    pulls: list[dict[str, Any]] = field(default_factory=list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    compare: dict[str, dict[str, Any]] = field(default_factory=dict)  # "base...head" -> result
    refs: dict[str, str] = field(default_factory=dict)  # branch -> sha
    commits: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha -> {tree, ...}
    trees: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # sha -> entries
    pull_commits: dict[int, list[str]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # pull -> reviews
    events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue -> events
    # Cloud Storage: bucket -> {name: bytes}
    objects: dict[str, dict[str, bytes]] = field(default_factory=dict)
    # Vertex AI
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # model -> versions
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    _counter: int = 0

    # --- server ---------------------------------------------------------------------------

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                ctype = self.headers.get("Content-Type", "")
                body: Any = raw
                if raw and ctype.startswith("application/json"):
                    body = json.loads(raw)
                path = urllib.parse.unquote(parsed.path)
                fake.calls.append(Call(self.command, path, query, body,
                                       self.headers.get("Authorization", "")))
                try:
                    status, result = fake.route(self.command, path, query, body)
                except NotFound:
                    status, result = 404, {"message": "Not Found"}
                data = json.dumps(result).encode() if result is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

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

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method != "GET"]

    def _id(self) -> int:
        self._counter += 1
        return self._counter

    # --- routing ----------------------------------------------------------------------------

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        prefix = f"/repos/{REPO}/"
        if path.startswith(prefix):
            return self.github(method, path[len(prefix):], query, body)
        if path.startswith(("/storage/v1/b/", "/upload/storage/v1/b/")):
            return self.storage(method, path, query, body)
        if path.startswith("/v1/"):
            return self.vertex(method, path[len("/v1/"):], query, body)
        raise NotFound

    def github(self, method: str, path: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        if path.startswith("compare/"):
            return 200, self.compare[path[len("compare/"):]]
        if path == "pulls" and method == "GET":
            owner_head = q.get("head", "")
            found = [p for p in self.pulls if p["state"] == q.get("state", "open")
                     and (not owner_head or f"acme:{p['head']['ref']}" == owner_head)
                     and (not q.get("base") or p["base"]["ref"] == q["base"])]
            return 200, found
        if path == "pulls" and method == "POST":
            pull = {"number": self._id(), "state": "open", "title": body["title"],
                    "body": body["body"], "head": {"ref": body["head"]},
                    "base": {"ref": body["base"]}}
            self.pulls.append(pull)
            return 201, pull
        m = re.fullmatch(r"pulls/(\d+)", path)
        if m:
            pull = next((p for p in self.pulls if p["number"] == int(m.group(1))), None)
            if pull is None:
                raise NotFound
            if method == "PATCH":
                pull.update(body)
            return 200, pull
        m = re.fullmatch(r"commits/(\w+)/pulls", path)
        if m:
            return 200, [p for p in self.pulls if m.group(1) in
                         (p.get("merge_commit_sha"), (p.get("head") or {}).get("sha"))]
        m = re.fullmatch(r"pulls/(\d+)/commits", path)
        if m:
            shas = self.pull_commits.get(int(m.group(1)), [])
            page, size = int(q.get("page", 1)), int(q.get("per_page", 30))
            return 200, [{"sha": s} for s in shas[(page - 1) * size: page * size]]
        m = re.fullmatch(r"(pulls/(\d+)/reviews|issues/(\d+)/events)", path)
        if m and method == "GET":
            items = (self.reviews.get(int(m.group(2)), []) if m.group(2)
                     else self.events.get(int(m.group(3)), []))
            page, size = int(q.get("page", 1)), int(q.get("per_page", 30))
            return 200, items[(page - 1) * size: page * size]
        m = re.fullmatch(r"issues/(\d+)/comments", path)
        if m:
            thread = self.comments.setdefault(int(m.group(1)), [])
            if method == "POST":
                comment = {"id": self._id(), "body": body["body"]}
                thread.append(comment)
                return 201, comment
            page, size = int(q.get("page", 1)), int(q.get("per_page", 30))
            return 200, thread[(page - 1) * size: page * size]
        m = re.fullmatch(r"issues/comments/(\d+)", path)
        if m and method == "PATCH":
            for thread in self.comments.values():
                for comment in thread:
                    if comment["id"] == int(m.group(1)):
                        comment["body"] = body["body"]
                        return 200, comment
            raise NotFound
        m = re.fullmatch(r"git/ref/heads/(.+)", path)
        if m:
            if m.group(1) not in self.refs:
                raise NotFound
            return 200, {"object": {"sha": self.refs[m.group(1)]}}
        m = re.fullmatch(r"git/commits/(\w+)", path)
        if m:
            return 200, {"sha": m.group(1), "tree": {"sha": self.commits[m.group(1)]["tree"]}}
        m = re.fullmatch(r"git/trees/(\w+)", path)
        if m:
            return 200, {"sha": m.group(1), "tree": self.trees[m.group(1)]}
        if path == "git/trees" and method == "POST":
            sha = f"tree{self._id()}"
            self.trees[sha] = body["tree"]
            return 201, {"sha": sha}
        if path == "git/commits" and method == "POST":
            sha = f"commit{self._id()}"
            self.commits[sha] = {"tree": body["tree"], "parents": body["parents"],
                                 "message": body["message"]}
            return 201, {"sha": sha}
        if path == "git/refs" and method == "POST":
            self.refs[body["ref"].removeprefix("refs/heads/")] = body["sha"]
            return 201, {"ref": body["ref"]}
        raise NotFound

    def storage(self, method: str, path: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        if path.startswith("/upload/"):
            bucket = path.split("/")[5]
            if q.get("ifGenerationMatch") == "0" and q["name"] in self.objects.get(bucket, {}):
                return 412, {"error": {"code": 412, "message": "conditionNotMet"}}
            self.objects.setdefault(bucket, {})[q["name"]] = body
            return 200, {"name": q["name"]}
        parts = path.split("/", 6)  # '', storage, v1, b, bucket, o, name
        bucket = parts[4]
        store = self.objects.get(bucket, {})
        if len(parts) == 6 and method == "GET":
            names = sorted(n for n in store if n.startswith(q.get("prefix", "")))
            return 200, {"items": [{"name": n} for n in names]} if names else {}
        if len(parts) == 7 and method == "DELETE":
            if parts[6] not in store:
                raise NotFound
            del store[parts[6]]
            return 204, None
        raise NotFound

    @staticmethod
    def _label_match(item: dict[str, Any], flt: str) -> bool:
        if not flt:
            return True
        m = re.fullmatch(r'labels\.(\w+)="([^"]*)"', flt)
        assert m, f"unexpected filter {flt!r}"
        return item.get("labels", {}).get(m.group(1)) == m.group(2)

    def vertex(self, method: str, path: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        if method == "GET" and path.endswith(("/modelDeploymentMonitoringJobs",
                                              "/batchPredictionJobs", "/trainingPipelines",
                                              "/datasets")):
            return 200, {}  # none here (test_cicd_candidate_cleanup.py serves some)
        if path.endswith("/pipelineJobs"):
            return 200, {"pipelineJobs": [j for j in self.jobs.values()
                                          if self._label_match(j, q.get("filter", ""))]}
        if path.endswith(":cancel"):
            self.jobs[path[: -len(":cancel")]]["state"] = "PIPELINE_STATE_CANCELLED"
            return 200, {}
        if "/pipelineJobs/" in path:
            if path not in self.jobs:
                raise NotFound
            if method == "DELETE":
                if self.jobs[path]["state"] in ("PIPELINE_STATE_RUNNING", "PIPELINE_STATE_PENDING"):
                    return 400, {"error": "job is running"}
                del self.jobs[path]
                return 200, {"name": "operation"}
            return 200, self.jobs[path]
        if path.endswith("/models"):
            return 200, {"models": [{"name": m, **vs[0]} for m, vs in self.models.items() if vs]}
        if path.endswith(":listVersions"):
            model = path[: -len(":listVersions")]
            versions = [{"name": model, **v} for v in self.models.get(model, [])
                        if self._label_match(v, q.get("filter", ""))]
            return 200, {"models": versions}
        if path.endswith(":deleteVersion"):
            model, version = path[: -len(":deleteVersion")].split("@")
            versions = self.models.get(model, [])
            match = [v for v in versions if v["versionId"] == version]
            if not match:
                raise NotFound
            if "default" in match[0].get("versionAliases", []):
                return 400, {"error": "cannot delete the default version"}
            versions.remove(match[0])
            return 200, {"name": "operation"}
        if path.endswith(":mergeVersionAliases"):
            model, version = path[: -len(":mergeVersionAliases")].split("@")
            for v in self.models[model]:
                moved = body["versionAliases"]
                aliases = [a for a in v.get("versionAliases", []) if a not in moved]
                if v["versionId"] == version:
                    aliases += body["versionAliases"]
                v["versionAliases"] = aliases
            return 200, {}
        if path.endswith(":undeployModel"):
            ep = self.endpoints[path[: -len(":undeployModel")]]
            ep["deployedModels"] = [d for d in ep["deployedModels"]
                                    if d["id"] != body["deployedModelId"]]
            ep["trafficSplit"] = body.get("trafficSplit", {})
            for versions in self.models.values():
                for v in versions:
                    v["deployedModels"] = [d for d in v.get("deployedModels", [])
                                           if d["deployedModelId"] != body["deployedModelId"]]
            return 200, {"name": "operation"}
        if "/endpoints/" in path and method == "GET":
            if path not in self.endpoints:
                raise NotFound
            return 200, self.endpoints[path]
        if "/models/" in path and "@" in path and method == "PATCH":
            model, version = path.split("@")
            match = [v for v in self.models.get(model, []) if v["versionId"] == version]
            if not match:
                raise NotFound
            assert q.get("updateMask") == "labels", q
            match[0]["labels"] = dict(body["labels"])
            return 200, {"name": path, **match[0]}
        if "/models/" in path and method == "DELETE":
            if path not in self.models:
                raise NotFound
            del self.models[path]
            return 200, {"name": "operation"}
        raise NotFound
