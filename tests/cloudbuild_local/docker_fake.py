"""A stand-in `docker` CLI for `gcr.io/cloud-builders/docker` steps (no Docker engine here).

It records what would be built, tagged and pushed instead of doing it. `build` checks that the
context and the Dockerfile exist and gives the image a digest that differs per build (real
builds are not reproducible); `push` needs an image built (or pulled or tagged) earlier in the
same build, since one build's steps share one Docker daemon, and a registry with immutable tags
refuses to move an existing tag to another digest (Artifact Registry's rule). `run`, `compose`
and the rest are refused: a CI config should not need them.

State: the daemon (per build) and the registry (shared between builds when the test passes one
FakeRegistry) are JSON files named by CLOUDBUILD_LOCAL_DOCKER_DAEMON and
CLOUDBUILD_LOCAL_REGISTRY. The module runs as a script (`python docker_fake.py ARGS`) with the
standard library only, so the shim can start it from any interpreter.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DAEMON_ENV = "CLOUDBUILD_LOCAL_DOCKER_DAEMON"
REGISTRY_ENV = "CLOUDBUILD_LOCAL_REGISTRY"
BUILD_ENV = "CLOUDBUILD_LOCAL_BUILD_ID"
_VALUE_FLAGS = frozenset({
    "-f", "--file", "-t", "--tag", "--build-arg", "--label", "--platform", "--target",
    "--cache-from", "--network", "--progress", "--iidfile", "--secret",
})
_SKIP_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__", ".terraform"})


class DockerError(Exception):
    pass


@contextlib.contextmanager
def _state(path: Path) -> Iterator[dict[str, Any]]:
    """Read-modify-write one JSON state file under an exclusive lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        yield data
        path.write_text(json.dumps(data, indent=1, sort_keys=True))


def normalize(ref: str) -> str:
    """`name` -> `name:latest` (a tag or digest kept)."""
    last = ref.rsplit("/", 1)[-1]
    return ref if (":" in last or "@" in ref) else f"{ref}:latest"


@dataclass(frozen=True)
class FakeRegistry:
    """A container registry shared by builds: `tags` maps image:tag to digest; `pushes` lists
    every push in order (with the build that pushed it)."""

    path: Path
    immutable_tags: bool = False

    def __post_init__(self) -> None:
        with _state(self.path) as data:
            data.setdefault("tags", {})
            data.setdefault("pushes", [])
            data["immutable"] = self.immutable_tags

    def read(self) -> dict[str, Any]:
        with _state(self.path) as data:
            return json.loads(json.dumps(data))  # type: ignore[no-any-return]

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.read()["tags"])

    @property
    def pushes(self) -> list[dict[str, str]]:
        return list(self.read()["pushes"])


def _context_digest(build_id: str, dockerfile: Path, context: Path, args: list[str]) -> str:
    h = hashlib.sha256(f"{build_id}\n".encode())
    h.update(dockerfile.read_bytes())
    h.update(json.dumps(sorted(args)).encode())
    count = 0
    for root, dirs, files in os.walk(context):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            p = Path(root, name)
            with contextlib.suppress(OSError):
                h.update(f"{p.relative_to(context)}:{p.stat().st_size}\n".encode())
            count += 1
            if count > 5000:
                return "sha256:" + h.hexdigest()
    return "sha256:" + h.hexdigest()


def _parse_build(args: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    flags: dict[str, list[str]] = {}
    positional: list[str] = []
    it = iter(args)
    for arg in it:
        name, eq, value = arg.partition("=")
        if arg.startswith("-") and name in _VALUE_FLAGS:
            flags.setdefault(name, []).append(value if eq else next(it, ""))
        elif arg.startswith("-"):
            flags.setdefault(name, []).append("")
        else:
            positional.append(arg)
    return flags, positional


def build(args: list[str], daemon: Path, build_id: str) -> str:
    flags, positional = _parse_build(args)
    if len(positional) != 1:
        raise DockerError('"docker build" requires exactly 1 argument (the build context)')
    context = Path(positional[0])
    if not context.is_dir():
        raise DockerError(f"unable to prepare context: path {str(context)!r} not found")
    files = flags.get("-f", []) + flags.get("--file", [])
    dockerfile = Path(files[-1]) if files else context / "Dockerfile"
    if not dockerfile.is_file():
        raise DockerError(f"failed to read dockerfile: open {dockerfile}: no such file")
    build_args = flags.get("--build-arg", [])
    digest = _context_digest(build_id, dockerfile, context, build_args)
    tags = [normalize(t) for t in flags.get("-t", []) + flags.get("--tag", [])]
    with _state(daemon) as data:
        images = data.setdefault("images", {})
        for tag in tags or [digest]:
            images[tag] = {"digest": digest, "dockerfile": str(dockerfile),
                           "context": str(context.resolve()), "build_args": build_args}
        data.setdefault("events", []).append({"op": "build", "tags": tags, "digest": digest})
    tagged = "".join(f"Successfully tagged {t}\n" for t in tags)
    return f"Successfully built {digest[7:19]}\n{tagged}"


def push(args: list[str], daemon: Path, registry: Path, build_id: str) -> str:
    refs = [a for a in args if not a.startswith("-")]
    if len(refs) != 1:
        raise DockerError('"docker push" requires exactly 1 argument')
    ref = normalize(refs[0])
    with _state(daemon) as data:
        local = data.get("images", {}).get(ref)
    if local is None:
        raise DockerError(f"An image does not exist locally with the tag: {refs[0]}")
    with _state(registry) as reg:
        tags = reg.setdefault("tags", {})
        current = tags.get(ref)
        if reg.get("immutable") and current is not None and current != local["digest"]:
            raise DockerError(
                f"denied: the tag {ref} already exists and the repository has immutable tags"
            )
        tags[ref] = local["digest"]
        reg.setdefault("pushes", []).append(
            {"ref": ref, "digest": local["digest"], "build_id": build_id})
    with _state(daemon) as data:
        data.setdefault("events", []).append({"op": "push", "ref": ref, "digest": local["digest"]})
    return f"{ref.rsplit(':', 1)[-1]}: digest: {local['digest']} size: 1234\n"


def tag(args: list[str], daemon: Path) -> str:
    if len(args) != 2:
        raise DockerError('"docker tag" requires exactly 2 arguments')
    src, dst = normalize(args[0]), normalize(args[1])
    with _state(daemon) as data:
        images = data.setdefault("images", {})
        if src not in images:
            raise DockerError(f"No such image: {args[0]}")
        images[dst] = images[src]
        data.setdefault("events", []).append({"op": "tag", "source": src, "target": dst})
    return ""


def pull(args: list[str], daemon: Path, registry: Path) -> str:
    refs = [a for a in args if not a.startswith("-")]
    ref = normalize(refs[0]) if refs else ""
    with _state(registry) as reg:
        digest = reg.get("tags", {}).get(ref)
    if digest is None:
        raise DockerError(f"manifest for {ref or '(none)'} not found: manifest unknown")
    with _state(daemon) as data:
        data.setdefault("images", {})[ref] = {"digest": digest, "pulled": True}
    return f"Status: Downloaded newer image for {ref}\n"


def main(argv: list[str]) -> int:
    daemon = Path(os.environ[DAEMON_ENV])
    registry = Path(os.environ[REGISTRY_ENV])
    build_id = os.environ.get(BUILD_ENV, "")
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    if command in ("image", "buildx") and args and args[0] in ("build", "push", "tag", "pull"):
        command, args = args[0], args[1:]
    try:
        if command == "build":
            out = build(args, daemon, build_id)
        elif command == "push":
            out = push(args, daemon, registry, build_id)
        elif command == "tag":
            out = tag(args, daemon)
        elif command == "pull":
            out = pull(args, daemon, registry)
        elif command in ("version", "info"):
            out = "cloudbuild_local fake docker (records builds and pushes; no engine)\n"
        else:
            raise DockerError(
                f"'docker {command}' is not modeled by the local runner's fake docker "
                "(build, tag, push, pull only)"
            )
    except DockerError as err:
        print(f"Error response from daemon: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
