"""`run_build`: one Cloud Build build of a config file, run locally (see the package docstring)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cloudbuild_local import config as config_module
from tests.cloudbuild_local import docker_fake
from tests.cloudbuild_local.config import Build, Step
from tests.cloudbuild_local.errors import InvalidBuild, UnsupportedImage
from tests.cloudbuild_local.execute import (
    CANCELLED,
    FAILURE,
    SUCCESS,
    TIMEOUT,
    LineSink,
    Secrets,
    StepResult,
    StepRunner,
)
from tests.cloudbuild_local.identity import NO_METADATA, Accounts, MetadataServer
from tests.cloudbuild_local.images import DockerImage, ImageMap, StepImage
from tests.cloudbuild_local.isolation import ImageFiles
from tests.cloudbuild_local.substitution import substitute

DEFAULT_PROJECT_ID = "test-project"
DEFAULT_PROJECT_NUMBER = "123456789012"
DEFAULT_LOCATION = "us-central1"
SHORT_SHA_LENGTH = 7


@dataclass(frozen=True)
class PullRequest:
    """The pull request of a pull-request trigger's build (GitHub's built-ins)."""

    number: int
    head_branch: str
    base_branch: str
    head_repo_url: str = ""


@dataclass(frozen=True)
class Trigger:
    """What the trigger that started the build adds: its name and the event's source.

    For a pull request BRANCH_NAME defaults to the head branch (as Cloud Build sets it)."""

    name: str
    commit_sha: str
    branch: str = ""
    tag: str = ""
    repo_full_name: str = ""  # owner/name: REPO_FULL_NAME; REPO_NAME is the name
    pull_request: PullRequest | None = None
    config_path: str | None = None  # TRIGGER_BUILD_CONFIG_PATH; default: the config's path

    def substitutions(self, config_path: str) -> dict[str, str]:
        branch = self.branch or (self.pull_request.head_branch if self.pull_request else "")
        values = {
            "TRIGGER_NAME": self.name,
            "COMMIT_SHA": self.commit_sha,
            "REVISION_ID": self.commit_sha,
            "SHORT_SHA": self.commit_sha[:SHORT_SHA_LENGTH],
            "REPO_NAME": self.repo_full_name.rsplit("/", 1)[-1],
            "REPO_FULL_NAME": self.repo_full_name,
            "BRANCH_NAME": branch,
            "TAG_NAME": self.tag,
            "REF_NAME": self.tag or branch,
            "TRIGGER_BUILD_CONFIG_PATH": (
                self.config_path if self.config_path is not None else config_path
            ),
        }
        pr = self.pull_request
        if pr is not None:
            values.update({"_HEAD_BRANCH": pr.head_branch, "_BASE_BRANCH": pr.base_branch,
                           "_HEAD_REPO_URL": pr.head_repo_url, "_PR_NUMBER": str(pr.number)})
        return values


@dataclass(frozen=True)
class BuildResult:
    build_id: str
    status: str  # SUCCESS | FAILURE | TIMEOUT
    steps: tuple[StepResult, ...]
    substitutions: Mapping[str, str]  # built-ins and user substitutions, evaluated
    failure: str  # Cloud Build's failureInfo.detail ('' on success)
    log: str  # every step's output, each line prefixed 'Step #i - "id": '
    docker: tuple[Mapping[str, Any], ...] = field(default=())  # fake docker builds/tags/pushes
    service_account: str = ""

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS

    def step(self, key: str | int) -> StepResult:
        """A step by id or index."""
        for step in self.steps:
            if step.id == key or step.index == key:
                return step
        raise KeyError(f"no step {key!r} in build {self.build_id}")


def builtin_substitutions(
    *,
    project_id: str,
    project_number: str,
    location: str,
    build_id: str,
    service_account: str,
    trigger: Trigger | None,
    config_path: str,
) -> dict[str, str]:
    """The default substitutions of a build (those of triggered builds only with a trigger;
    GitHub's pull request ones only for a pull request)."""
    values = {
        "PROJECT_ID": project_id,
        "PROJECT_NUMBER": project_number,
        "LOCATION": location,
        "BUILD_ID": build_id,
        "SERVICE_ACCOUNT_EMAIL": service_account,
        "SERVICE_ACCOUNT": f"projects/{project_id}/serviceAccounts/{service_account}",
    }
    if trigger is not None:
        values.update(trigger.substitutions(config_path))
    return values


def _relative_config(config: Path, source: Path) -> str:
    try:
        return config.resolve().relative_to(source.resolve()).as_posix()
    except ValueError:
        return config.name


def _prepare_workspace(source: Path, workspace: Path) -> None:
    if source.resolve() == workspace.resolve():
        return
    if workspace.exists() and any(workspace.iterdir()):
        raise ValueError(f"workspace {workspace} is not empty: give each build a fresh directory")
    shutil.copytree(source, workspace, symlinks=True, dirs_exist_ok=True)


def _images_of(build: Build, images: ImageMap) -> list[StepImage]:
    """Every step's image, resolved before anything runs (UnsupportedImage names the step)."""
    resolved = []
    for step in build.steps:
        try:
            resolved.append(images.resolve(step.name))
        except UnsupportedImage as exc:
            raise UnsupportedImage(f"{step.label}: {exc}") from exc
    return resolved


@contextlib.contextmanager
def _metadata(
    accounts: Accounts | None, service_account: str, project_id: str, project_number: str
) -> Iterator[dict[str, str]]:
    if accounts is None:
        yield {"GCE_METADATA_HOST": NO_METADATA, "GCE_METADATA_IP": NO_METADATA}
        return
    with MetadataServer(accounts, service_account, project_id, project_number) as server:
        yield server.env()


def _ignore(_line: str) -> None:
    pass


@dataclass
class _Outcome:
    results: list[StepResult] = field(default_factory=list)
    status: str = SUCCESS
    failure: str = ""


def _run_steps(runner: StepRunner, steps: tuple[Step, ...], images: list[StepImage]) -> _Outcome:
    outcome = _Outcome()
    files = ImageFiles.of(images)
    for step, image in zip(steps, images, strict=True):
        if outcome.status != SUCCESS:
            outcome.results.append(StepResult(step.index, step.id, step.name, CANCELLED, None,
                                              (), "", 0.0))
            continue
        try:
            result = runner.run(step, image)
        finally:
            # the step's container is gone: the next one starts from the image
            for path in files.reset(step.label):
                runner.sink(f"{step.label}: (gone with the container: {path})")
        outcome.results.append(result)
        if result.status == TIMEOUT:
            outcome.status = TIMEOUT
            outcome.failure = f'build step {step.index} "{step.name}" timed out'
        elif result.status == FAILURE and not result.allowed:
            outcome.status = FAILURE
            reason = (f"step exited with non-zero status: {result.exit_code}"
                      if result.exit_code is not None else result.log.strip())
            outcome.failure = f'Build step failure: build step {step.index} "{step.name}" ' \
                              f"failed: {reason}"
    return outcome


def _push_images(build: Build, images: ImageMap, scratch: Path, build_id: str) -> str:
    """Push the config's `images` after the steps, as Cloud Build does; '' or why it failed."""
    if not build.images:
        return ""
    docker = images.resolve("gcr.io/cloud-builders/docker")
    registry = docker.registry_file(scratch) if isinstance(docker, DockerImage) else None
    for ref in build.images:
        try:
            if registry is None:
                raise docker_fake.DockerError("no fake docker in the image map")
            docker_fake.push([ref], scratch / "docker-daemon.json", registry, build_id)
        except docker_fake.DockerError as err:
            return f"failed to push image {ref}: {err}"
    return ""


def _docker_events(scratch: Path) -> tuple[Mapping[str, Any], ...]:
    daemon = scratch / "docker-daemon.json"
    if not daemon.exists():
        return ()
    return tuple(json.loads(daemon.read_text()).get("events", []))


def run_build(
    config: Path,
    *,
    substitutions: Mapping[str, str] | None = None,
    workspace: Path,
    source: Path,
    images: ImageMap,
    secrets: Mapping[str, str] | None = None,
    readable_secrets: Collection[str] | None = None,
    env: Mapping[str, str] | None = None,
    build_id: str | None = None,
    trigger: Trigger | None = None,
    service_account: str = "",
    accounts: Accounts | None = None,
    project_id: str = DEFAULT_PROJECT_ID,
    project_number: str = DEFAULT_PROJECT_NUMBER,
    location: str = DEFAULT_LOCATION,
    log: LineSink | None = None,
) -> BuildResult:
    """Run the build config `config` over a copy of `source` in `workspace` (a new or empty
    directory; see the package docstring for what is modeled).

    `substitutions` are the request's (a trigger's): they override the file's defaults.
    `secrets` is Secret Manager: versionName (or a secret's name, for all its versions) ->
    payload; `readable_secrets` the names the build's service account may access (None: all).
    `env` is the machine's environment for every step (endpoints of the fakes, terraform's
    offline CLI config; PATH, when given, is the base the images prepend to). With `accounts`
    a metadata server serves `service_account`'s token to the steps; without, the steps have
    no Google credentials. `trigger` makes it a triggered build. `log` receives every output
    line as it comes.

    Raises InvalidBuild where Cloud Build would refuse to create the build, UnsupportedImage for
    an image without a local stand-in, NotModeled for features the runner cannot reproduce; a
    build that starts returns a BuildResult."""
    build_id = build_id or str(uuid.uuid4())
    service_account = service_account or f"{project_number}-compute@developer.gserviceaccount.com"
    raw = config_module.load(config)
    config_module.reject_not_modeled(raw)
    builtins = builtin_substitutions(
        project_id=project_id, project_number=project_number, location=location,
        build_id=build_id, service_account=service_account, trigger=trigger,
        config_path=_relative_config(config, source),
    )
    done = substitute(raw, substitutions or {}, builtins, triggered=trigger is not None)
    build = config_module.to_build(done.raw)
    step_images = _images_of(build, images)
    _prepare_workspace(source, workspace)
    sink = log or _ignore
    with tempfile.TemporaryDirectory(prefix="cloudbuild-local-") as tmp, \
            _metadata(accounts, service_account, project_id, project_number) as metadata:
        scratch = Path(tmp)
        (scratch / "home").mkdir()
        base_env = {"PATH": (env or {}).get("PATH", _default_path()), "HOME": str(scratch / "home"),
                    "LANG": "C.UTF-8", "BUILDER_OUTPUT": str(scratch / "outputs"),
                    "CLOUDBUILD_LOCAL_BUILD_ID": build_id, **metadata,
                    **{k: v for k, v in (env or {}).items() if k != "PATH"}}
        runner = StepRunner(build, done.values, workspace.resolve(), scratch, base_env,
                            Secrets(secrets or {}, readable_secrets),
                            time.monotonic() + build.timeout_s, sink)
        outcome = _run_steps(runner, build.steps, step_images)
        if outcome.status == SUCCESS:
            pushed = _push_images(build, images, scratch, build_id)
            if pushed:
                outcome.status, outcome.failure = FAILURE, pushed
        docker = _docker_events(scratch)
    log_text = "".join(
        "".join(f"{r.label}: {line}\n" for line in r.log.splitlines()) for r in outcome.results
    )
    return BuildResult(build_id, outcome.status, tuple(outcome.results), done.values,
                       outcome.failure, log_text, docker, service_account)


def _default_path() -> str:
    return os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")


__all__ = ["BuildResult", "InvalidBuild", "PullRequest", "StepResult", "Trigger", "run_build"]
