"""Step images mapped to local tools (there are no containers here).

An image is modeled by what a step can start in it: its ENTRYPOINT and CMD (as the real image
declares them), the commands it has (mapped to local executables) and the well-known tools it
lacks (shadowed on PATH by shims that fail with a message, so a config that calls `gcloud`
from the python image, or `bash` in the alpine-based terraform image, fails here as it would
there; directories of the build's workspace that a step puts on PATH come before the shims:
what an earlier step copied there is in the container too). Which executable a step starts
follows Docker's rules: the step's `entrypoint` (or the image's ENTRYPOINT) followed by `args`;
without an entrypoint `args[0]` is the command (the python image has no ENTRYPOINT, only CMD
`python3`); a `script` runs under its shebang (`#!/bin/sh` when it has none).

`default_images()` maps:
- `hashicorp/terraform[:tag]` -> the `terraform` on PATH (ENTRYPOINT terraform; sh, no bash, no
  python);
- `python[:tag]` -> a given interpreter (no ENTRYPOINT, CMD python3); PATH starts with its bin
  directory, so `python`/`pip` and what pip installs there are that interpreter's venv; sh, bash;
  its bin and site-packages are the image's own files (`image_dirs`): what a step adds there
  (a `pip install` into the image) the runner removes after the step, as the next step's new
  container would not have it (a venv under /workspace keeps it);
- `gcr.io/cloud-builders/docker[:tag]` -> the recording fake docker of docker_fake (ENTRYPOINT
  docker; sh, bash);
- `gcr.io/google.com/cloudsdktool/*` and `gcr.io/cloud-builders/gcloud*` -> refused: the client
  repo's CI has no gcloud, its configs must not need it.
"""

from __future__ import annotations

import fnmatch
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tests.cloudbuild_local import docker_fake
from tests.cloudbuild_local.errors import UnsupportedImage

# tools a CI image is likely to be asked for; each image shadows those it lacks
WELL_KNOWN = frozenset({
    "gcloud", "gsutil", "bq", "kubectl", "docker", "terraform", "python", "python3", "pip",
    "pip3", "bash",
})
_BIN_DIRS = ("/bin/", "/usr/bin/", "/usr/local/bin/", "/sbin/", "/usr/sbin/")


class StepLaunchError(Exception):
    """The step's container could not start its command (Cloud Build fails the step)."""


@dataclass(frozen=True)
class Invocation:
    """What a step asks its container to run, with /workspace already rewritten."""

    image: str
    entrypoint: str | None
    args: tuple[str, ...]
    script: Path | None  # the step's script, written to a file
    env: Mapping[str, str]  # the step's environment; PATH is the base the image prepends to
    workspace: Path | None = None  # the build's /workspace (rewritten)


@dataclass(frozen=True)
class Launch:
    argv: tuple[str, ...]
    env: dict[str, str]


class StepImage(Protocol):
    @property
    def label(self) -> str:
        """How messages name the image."""

    def check(self, name: str) -> None:
        """UnsupportedImage when a step may not use this image."""

    def launch(self, inv: Invocation, scratch: Path) -> Launch:
        """The local command for the step; StepLaunchError when the image cannot start it."""


def shebang(script: Path) -> list[str]:
    """The interpreter argv of a script ('#!/bin/sh' when there is no shebang line)."""
    first = script.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
    return shlex.split(first[2:]) if first.startswith("#!") else ["/bin/sh"]


def _shim_dir(scratch: Path, label: str, absent: frozenset[str]) -> Path:
    """Executables that fail like a missing command, one per tool the image lacks."""
    safe = "".join(c if c.isalnum() else "_" for c in label)
    directory = scratch / "shims" / safe
    if not directory.is_dir():
        directory.mkdir(parents=True)
        for name in sorted(absent):
            shim = directory / name
            shim.write_text(
                "#!/bin/sh\n"
                f"echo \"cloudbuild_local: '{name}' is not in the image {label} (the local runner "
                'shadows it so a config cannot depend on a tool its image lacks)" >&2\n'
                "exit 127\n"
            )
            shim.chmod(0o755)
    return directory


@dataclass(frozen=True)
class LocalImage:
    """An image modeled by local executables (see the module docstring)."""

    label: str
    commands: Mapping[str, str]  # command as the container names it -> local executable
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    path_dirs: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    # the image's own directories outside /workspace (an interpreter's site-packages and bin):
    # what a step adds there is gone in the next step, whose container starts from the image
    image_dirs: tuple[str, ...] = ()

    @property
    def absent(self) -> frozenset[str]:
        return WELL_KNOWN - set(self.commands)

    def check(self, name: str) -> None:
        return None

    def resolve(self, command: str) -> str:
        """The local executable for `command` as the container would find it."""
        if command in self.commands:
            return self.commands[command]
        base = command.rsplit("/", 1)[-1]
        if command.startswith(_BIN_DIRS) and base in self.commands:
            return self.commands[base]
        if "/" in command and (not command.startswith("/") or Path(command).exists()):
            return command  # a path in the workspace (rewritten) or relative to the step dir
        known = ", ".join(sorted(self.commands))
        raise StepLaunchError(
            f'exec: "{command}": executable file not found in $PATH (image {self.label}; the '
            f"local runner models its commands {known})"
        )

    def container_argv(self, inv: Invocation) -> list[str]:
        if inv.script is not None:
            return [*shebang(inv.script), str(inv.script)]
        if inv.entrypoint:
            return [inv.entrypoint, *inv.args]
        if self.entrypoint:
            return [*self.entrypoint, *inv.args]
        return list(inv.args) or list(self.cmd)

    def launch(self, inv: Invocation, scratch: Path) -> Launch:
        argv = self.container_argv(inv)
        if not argv:
            raise StepLaunchError(f"image {self.label} has no command to run: set args")
        local = [self.resolve(argv[0]), *argv[1:]]
        env = dict(inv.env)
        env.update(self.env)
        shims = str(_shim_dir(scratch, self.label, self.absent))
        # directories of the build's own workspace that the step puts on PATH (a binary an
        # earlier step copied there) are the container's files: the shims do not shadow them
        path = [p for p in env.get("PATH", "").split(":") if p]
        own = [p for p in path if inv.workspace and Path(p).is_relative_to(inv.workspace)]
        rest = [p for p in path if p not in own]
        env["PATH"] = ":".join([*own, shims, *self.path_dirs, *rest])
        return Launch(tuple(local), env)


@dataclass(frozen=True)
class RefusedImage:
    """An image steps may not use; `reason` says why and what to use instead."""

    label: str
    reason: str

    def check(self, name: str) -> None:
        raise UnsupportedImage(f"step image {name!r} is refused: {self.reason}")

    def launch(self, inv: Invocation, scratch: Path) -> Launch:
        raise UnsupportedImage(f"step image {inv.image!r} is refused: {self.reason}")


_SHELLS = {"sh": "/bin/sh", "env": "/usr/bin/env"}


def terraform_image(terraform: str) -> LocalImage:
    return LocalImage(
        label="hashicorp/terraform",
        commands={**_SHELLS, "terraform": terraform},
        entrypoint=("terraform",),
    )


def python_image(python: str | Path) -> LocalImage:
    """The python image as `python` (a path, or a name looked up on PATH), kept as given: a
    venv's interpreter stays the venv's (its symlink is not resolved)."""
    found = shutil.which(str(python)) if "/" not in str(python) else str(python)
    if found is None:
        raise UnsupportedImage(f"python interpreter {python!r} not found")
    interpreter = Path(found).absolute()
    bin_dir = interpreter.parent
    commands = {**_SHELLS, "bash": "/bin/bash"}
    for name in ("python", "python3"):
        commands[name] = str(interpreter)
    for name in ("pip", "pip3"):
        if (bin_dir / name).exists():
            commands[name] = str(bin_dir / name)
    return LocalImage(
        label="python", commands=commands, cmd=("python3",), path_dirs=(str(bin_dir),),
        env={"PYTHONUNBUFFERED": "1"},
        image_dirs=(str(bin_dir), *_site_dirs(interpreter)),
    )


def _site_dirs(interpreter: Path) -> tuple[str, ...]:
    """Where pip installs for `interpreter` (purelib, platlib), as it reports them."""
    done = subprocess.run(
        [str(interpreter), "-c", "import sysconfig; p = sysconfig.get_paths(); "
         "print(p['purelib']); print(p['platlib'])"],
        capture_output=True, text=True, check=True)
    return tuple(dict.fromkeys(line for line in done.stdout.splitlines() if line))


@dataclass(frozen=True)
class DockerImage:
    """`gcr.io/cloud-builders/docker`: ENTRYPOINT docker, the recording fake on PATH.

    The daemon is the build's (`<scratch>/docker-daemon.json`); the registry is `registry` when
    given, else one per build."""

    registry: docker_fake.FakeRegistry | None = None
    python: str = sys.executable
    label: str = "gcr.io/cloud-builders/docker"

    def check(self, name: str) -> None:
        return None

    def registry_file(self, scratch: Path) -> Path:
        return self.registry.path if self.registry else scratch / "docker-registry.json"

    def launch(self, inv: Invocation, scratch: Path) -> Launch:
        bin_dir = scratch / "docker-bin"
        shim = bin_dir / "docker"
        if not shim.exists():
            bin_dir.mkdir(parents=True, exist_ok=True)
            shim.write_text(
                "#!/bin/sh\n"
                f"exec {shlex.quote(self.python)} {shlex.quote(docker_fake.__file__)} \"$@\"\n"
            )
            shim.chmod(0o755)
        image = LocalImage(
            label=self.label,
            commands={**_SHELLS, "bash": "/bin/bash", "docker": str(shim)},
            entrypoint=("docker",),
            path_dirs=(str(bin_dir),),
            env={docker_fake.DAEMON_ENV: str(scratch / "docker-daemon.json"),
                 docker_fake.REGISTRY_ENV: str(self.registry_file(scratch))},
        )
        return image.launch(inv, scratch)


def repo_patterns(*repos: str) -> tuple[str, ...]:
    """fnmatch patterns of an image repository with any tag or digest."""
    return tuple(p for r in repos for p in (r, f"{r}:*", f"{r}@*"))


@dataclass(frozen=True)
class ImageMap:
    """Image name patterns (fnmatch, first match wins) -> how steps of that image run."""

    rules: tuple[tuple[tuple[str, ...], StepImage], ...]

    def resolve(self, name: str) -> StepImage:
        for patterns, image in self.rules:
            if any(fnmatch.fnmatchcase(name, p) for p in patterns):
                image.check(name)
                return image
        known = "; ".join(" | ".join(p[:1]) for p, _ in self.rules)
        raise UnsupportedImage(
            f"step image {name!r} has no local stand-in (mapped: {known}); add one with "
            "ImageMap.with_image(...) or use a mapped image"
        )

    def with_image(self, patterns: tuple[str, ...], image: StepImage) -> ImageMap:
        """This map with `image` for `patterns`, ahead of the existing rules."""
        return ImageMap(((patterns, image), *self.rules))


GCLOUD_REASON = (
    "the client repo's CI has no gcloud (its builds use the python image with Google's client "
    "libraries, or terraform); rewrite the step without the Cloud SDK"
)


def default_images(
    *,
    python: str | Path = sys.executable,
    terraform: str | None = None,
    registry: docker_fake.FakeRegistry | None = None,
) -> ImageMap:
    """The standard map (module docstring). `terraform` defaults to the one on PATH."""
    tf = terraform or shutil.which("terraform")
    tf_image: StepImage = (
        terraform_image(tf) if tf
        else RefusedImage("hashicorp/terraform", "no terraform binary on PATH")
    )
    return ImageMap((
        (repo_patterns("hashicorp/terraform", "docker.io/hashicorp/terraform"), tf_image),
        (repo_patterns("python", "docker.io/library/python", "library/python"),
         python_image(python)),
        (repo_patterns("gcr.io/cloud-builders/docker"), DockerImage(registry)),
        (("gcr.io/google.com/cloudsdktool/*", "gcr.io/cloud-builders/gcloud*",
          "google/cloud-sdk*"), RefusedImage("cloud-sdk", GCLOUD_REASON)),
    ))
