"""A stand-in for the Cloud Build API (v1, regional): `projects.locations.triggers.run`,
`builds.get`, `builds.list`, `builds.approve`, `builds.cancel` and `operations.get`, so a build
can start another trigger and a test (or a script) can approve a waiting build.

Reach it at `URL/v1/projects/P/locations/L/...` with a bearer token (google-auth's
AuthorizedSession with the step's ADC credentials, or any HTTP client); the client scripts
should read the API root from one variable, e.g. CLOUDBUILD_API_URL (default
https://cloudbuild.googleapis.com).

The fake records builds; it runs none by itself: `drain(execute)` runs every queued build, in
order, through the test's `execute(record)` (normally run_build with the record's trigger,
substitutions and service account), including builds those builds start. A trigger with
`approval_required` creates its build PENDING (approval PENDING) until approved; a rejected
build ends CANCELLED (the API documents the approval state, not the status then).
Permissions: any known principal may read builds; `runners` (None: anyone known) may run
triggers; only `approvers` may approve or reject. Field names and enum values follow the
discovery document (a test checks them).
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.cloudbuild_local.errors import CloudBuildLocalError
from tests.cloudbuild_local.httpfake import FakeServer, Handler, Request, Response
from tests.cloudbuild_local.identity import Accounts
from tests.cloudbuild_local.runner import BuildResult, PullRequest, Trigger

PENDING, QUEUED, WORKING = "PENDING", "QUEUED", "WORKING"
SUCCESS, FAILURE, CANCELLED = "SUCCESS", "FAILURE", "CANCELLED"
FINAL = frozenset({SUCCESS, FAILURE, "TIMEOUT", CANCELLED, "INTERNAL_ERROR", "EXPIRED"})
_LOC = r"/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"


def _time(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class TriggerDef:
    """A Cloud Build trigger as the fake knows it (as Terraform declares one)."""

    name: str
    filename: str  # the build config in the repository
    service_account: str  # the email it runs as
    substitutions: Mapping[str, str] = field(default_factory=dict)
    approval_required: bool = False
    id: str = ""

    @property
    def trigger_id(self) -> str:
        return self.id or str(uuid.uuid5(uuid.NAMESPACE_URL, self.name))


@dataclass
class BuildRecord:
    id: str
    trigger: TriggerDef
    substitutions: dict[str, str]  # the trigger's, overridden by the run request's
    branch: str
    commit_sha: str
    tag: str
    requested_by: str
    status: str
    pull_request: PullRequest | None = None
    approval: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    failure: str = ""
    result: BuildResult | None = None
    operation: str = ""

    def runner_trigger(self, repo_full_name: str = "") -> Trigger:
        """The Trigger to give run_build for this record."""
        return Trigger(name=self.trigger.name, commit_sha=self.commit_sha, branch=self.branch,
                       tag=self.tag, repo_full_name=repo_full_name,
                       pull_request=self.pull_request)

    def to_json(self, project: str, location: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": f"projects/{project}/locations/{location}/builds/{self.id}",
            "projectId": project,
            "status": self.status,
            "buildTriggerId": self.trigger.trigger_id,
            "substitutions": {**self.substitutions, "TRIGGER_NAME": self.trigger.name,
                              "COMMIT_SHA": self.commit_sha, "BRANCH_NAME": self.branch},
            "serviceAccount": f"projects/{project}/serviceAccounts/{self.trigger.service_account}",
            "createTime": _time(self.created),
            "logUrl": f"https://console.cloud.google.com/cloud-build/builds;region={location}/"
                      f"{self.id}?project={project}",
            "tags": [f"trigger-{self.trigger.trigger_id}"],
        }
        for key, value in (("startTime", self.started), ("finishTime", self.finished)):
            if value is not None:
                out[key] = _time(value)
        if self.approval is not None:
            out["approval"] = self.approval
        if self.failure:
            out["failureInfo"] = {"type": "USER_BUILD_STEP", "detail": self.failure}
            out["statusDetail"] = self.failure
        return out


class _ApiError(CloudBuildLocalError):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message

    def response(self) -> Response:
        return Response.of_json(self.code, {"error": {
            "code": self.code, "message": self.message, "status": self.status}})


Execute = Callable[[BuildRecord], BuildResult]


class FakeCloudBuild(FakeServer):
    def __init__(
        self,
        accounts: Accounts,
        *,
        project_id: str,
        location: str,
        triggers: Iterable[TriggerDef],
        approvers: Collection[str] = (),
        runners: Collection[str] | None = None,
    ) -> None:
        super().__init__()
        self.accounts = accounts
        self.project_id, self.location = project_id, location
        self.triggers = {t.name: t for t in triggers}
        self.approvers = frozenset(approvers)
        self.runners = None if runners is None else frozenset(runners)
        self.builds: dict[str, BuildRecord] = {}
        self._operations: dict[str, str] = {}  # operation id -> build id
        self._seq = itertools.count(1)
        for method, pattern, handler in (
            ("POST", _LOC + r"/triggers/(?P<trigger>[^/:]+):run", self._run),
            ("GET", _LOC + r"/builds/(?P<build>[^/:]+)", self._get),
            ("GET", _LOC + r"/builds", self._list),
            ("POST", _LOC + r"/builds/(?P<build>[^/:]+):approve", self._approve),
            ("POST", _LOC + r"/builds/(?P<build>[^/:]+):cancel", self._cancel),
            ("GET", _LOC + r"/operations/(?P<operation>[^/:]+)", self._operation),
        ):
            self.route(method, pattern, self._api(handler))

    # -- test-side API ------------------------------------------------------------------------

    def run_trigger(
        self,
        name: str,
        *,
        branch: str = "",
        commit_sha: str = "",
        tag: str = "",
        pull_request: PullRequest | None = None,
        substitutions: Mapping[str, str] | None = None,
        requested_by: str = "github",
    ) -> BuildRecord:
        """A build of trigger `name`, as an event (push, pull request) starts one."""
        with self.lock:
            return self._create(self._trigger(name), branch, commit_sha, tag, pull_request,
                                dict(substitutions or {}), requested_by)

    def build(self, build_id: str) -> BuildRecord:
        with self.lock:
            return self.builds[build_id]

    def of_trigger(self, name: str) -> list[BuildRecord]:
        with self.lock:
            return [b for b in self.builds.values() if b.trigger.name == name]

    def decide(self, build_id: str, principal: str, *, approve: bool, comment: str = ""
               ) -> BuildRecord:
        """Approve or reject a waiting build as `principal` (who must be an approver)."""
        with self.lock:
            return self._decide(self._build(build_id), principal, approve, comment)

    def drain(self, execute: Execute, *, limit: int = 20) -> list[BuildRecord]:
        """Run every QUEUED build (oldest first) through `execute`, also those queued meanwhile;
        returns them in the order they ran."""
        ran: list[BuildRecord] = []
        while len(ran) < limit:
            with self.lock:
                queued = [b for b in self.builds.values() if b.status == QUEUED]
                if not queued:
                    return ran
                record = min(queued, key=lambda b: b.created)
                record.status, record.started = WORKING, time.time()
            self._execute(record, execute)
            ran.append(record)
        raise CloudBuildLocalError(f"drain: more than {limit} builds ran; a trigger loop?")

    # -- plumbing -----------------------------------------------------------------------------

    def _execute(self, record: BuildRecord, execute: Execute) -> None:
        try:
            result: BuildResult | None = execute(record)
            failure = result.failure if result else ""
            status = result.status if result else FAILURE
        except CloudBuildLocalError as err:
            result, failure, status = None, f"invalid build: {err}", FAILURE
        with self.lock:
            record.result, record.failure, record.status = result, failure, status
            record.finished = time.time()

    def _trigger(self, name: str) -> TriggerDef:
        for trigger in self.triggers.values():
            if name in (trigger.name, trigger.trigger_id):
                return trigger
        raise _ApiError(404, "NOT_FOUND", f"trigger {name!r} not found")

    def _build(self, build_id: str) -> BuildRecord:
        if build_id not in self.builds:
            raise _ApiError(404, "NOT_FOUND", f"build {build_id!r} not found")
        return self.builds[build_id]

    def _create(self, trigger: TriggerDef, branch: str, commit_sha: str, tag: str,
                pull_request: PullRequest | None, substitutions: dict[str, str],
                requested_by: str) -> BuildRecord:
        build_id = str(uuid.uuid4())
        record = BuildRecord(
            id=build_id, trigger=trigger, substitutions={**trigger.substitutions, **substitutions},
            branch=branch, commit_sha=commit_sha or f"{next(self._seq):040x}", tag=tag,
            requested_by=requested_by, status=PENDING if trigger.approval_required else QUEUED,
            pull_request=pull_request,
            approval={"state": PENDING, "config": {"approvalRequired": True}}
            if trigger.approval_required else None,
            created=time.time() + next(self._seq) * 1e-6,
        )
        record.operation = str(uuid.uuid4())
        self._operations[record.operation] = build_id
        self.builds[build_id] = record
        return record

    def _decide(self, record: BuildRecord, principal: str, approve: bool, comment: str
                ) -> BuildRecord:
        if principal not in self.approvers:
            raise _ApiError(403, "PERMISSION_DENIED",
                            f"{principal} does not have permission cloudbuild.builds.approve")
        if record.approval is None or record.approval["state"] != PENDING:
            raise _ApiError(400, "FAILED_PRECONDITION",
                            f"build {record.id} is not awaiting approval")
        decision = "APPROVED" if approve else "REJECTED"
        record.approval = {**record.approval, "state": decision, "result": {
            "approverAccount": principal, "approvalTime": _time(time.time()),
            "decision": decision, "comment": comment}}
        record.status = QUEUED if approve else CANCELLED
        if not approve:
            record.finished = time.time()
        return record

    def _api(self, handler: Callable[[str, Request, re.Match[str]], Response]) -> Handler:
        def wrapped(request: Request, match: re.Match[str]) -> Response:
            try:
                principal = self.accounts.caller(request)
                if principal is None:
                    raise _ApiError(401, "UNAUTHENTICATED", "Request had invalid authentication "
                                    "credentials. Expected OAuth 2 access token.")
                if match["project"] != self.project_id or match["location"] != self.location:
                    raise _ApiError(404, "NOT_FOUND", f"no such location {match.group(0)}")
                return handler(principal, request, match)
            except _ApiError as err:
                return err.response()

        return wrapped

    def _operation_json(self, record: BuildRecord) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": f"projects/{self.project_id}/locations/{self.location}/operations/"
                    f"{record.operation}",
            "metadata": {"@type": "type.googleapis.com/google.devtools.cloudbuild.v1."
                                  "BuildOperationMetadata",
                         "build": record.to_json(self.project_id, self.location)},
            "done": record.status in FINAL,
        }
        if record.status == SUCCESS:
            out["response"] = {"@type": "type.googleapis.com/google.devtools.cloudbuild.v1.Build",
                               **record.to_json(self.project_id, self.location)}
        elif record.status in FINAL:
            out["error"] = {"code": 2, "message": f"Build {record.status.lower()}; check build "
                                                  "logs for details"}
        return out

    def _run(self, principal: str, request: Request, m: re.Match[str]) -> Response:
        if self.runners is not None and principal not in self.runners:
            raise _ApiError(403, "PERMISSION_DENIED",
                            f"{principal} does not have permission cloudbuild.builds.create")
        trigger = self._trigger(m["trigger"])
        source = request.json().get("source") or {}
        record = self._create(
            trigger, source.get("branchName", ""), source.get("commitSha", ""),
            source.get("tagName", ""), None, dict(source.get("substitutions") or {}), principal)
        return Response.of_json(200, self._operation_json(record))

    def _get(self, principal: str, request: Request, m: re.Match[str]) -> Response:
        return Response.of_json(200, self._build(m["build"]).to_json(self.project_id,
                                                                     self.location))

    def _list(self, principal: str, request: Request, m: re.Match[str]) -> Response:
        terms = [t for t in re.split(r"\s+AND\s+", request.q("filter").strip()) if t]
        wanted: dict[str, str] = {}
        for term in terms:
            found = re.fullmatch(r'(trigger_id|status|build_id)\s*=\s*"([^"]*)"', term)
            if found is None:
                raise _ApiError(400, "INVALID_ARGUMENT", f"filter term {term!r} is not modeled "
                                "(trigger_id, status, build_id with = and AND)")
            wanted[found[1]] = found[2]
        builds = [b for b in sorted(self.builds.values(), key=lambda b: -b.created)
                  if wanted.get("trigger_id", b.trigger.trigger_id) == b.trigger.trigger_id
                  and wanted.get("status", b.status) == b.status
                  and wanted.get("build_id", b.id) == b.id]
        return Response.of_json(200, {"builds": [b.to_json(self.project_id, self.location)
                                                 for b in builds]})

    def _approve(self, principal: str, request: Request, m: re.Match[str]) -> Response:
        result = request.json().get("approvalResult") or {}
        decision = result.get("decision")
        if decision not in ("APPROVED", "REJECTED"):
            raise _ApiError(400, "INVALID_ARGUMENT", "approvalResult.decision must be APPROVED "
                            "or REJECTED")
        record = self._decide(self._build(m["build"]), principal, decision == "APPROVED",
                              str(result.get("comment", "")))
        return Response.of_json(200, self._operation_json(record))

    def _cancel(self, principal: str, request: Request, m: re.Match[str]) -> Response:
        record = self._build(m["build"])
        if record.status not in FINAL:
            record.status, record.finished = CANCELLED, time.time()
        return Response.of_json(200, record.to_json(self.project_id, self.location))

    def _operation(self, principal: str, request: Request, m: re.Match[str]) -> Response:
        build_id = self._operations.get(m["operation"])
        if build_id is None:
            raise _ApiError(404, "NOT_FOUND", "operation not found")
        return Response.of_json(200, self._operation_json(self.builds[build_id]))
