"""The offline workspace: a scratch copy of a client repo that terraform can plan with no network.

`mlopsgen validate` (every root) and `mlopsgen plan/apply --offline` (one environment) use the
same copy: the repo without `.git`, `.terraform/`, state, lock files and `.mlopsgen/`;
module sources of this template pinned by git (`module_source: git`) pointed at a local copy of
the modules at that ref; a local backend (`OVERRIDE_FILE`) in every root that declares one; and
the stand-in providers of `generator.offline`, served by one long-lived process.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import RenderError
from generator.offline import offline_providers
from generator.template import template_root

OVERRIDE_FILE = "mlopsgen_offline_override.tf"
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".terraform", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.backup", ".mlopsgen"
)
GIT_MODULE_RE = re.compile(
    r'(source\s*=\s*)"git::[^"]*?//(terraform/modules/[A-Za-z0-9_\-]+)(?:\?ref=([^"&]+))?[^"]*"'
)
_BACKEND_RE = re.compile(r'^\s*backend\s+"', re.M)

@dataclass
class Workspace:
    """A prepared scratch copy: `repo` mirrors the client repo, `env` runs terraform offline."""

    repo: Path
    env: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def path(self, rel: str | Path) -> Path:
        """The scratch copy of a path relative to the client repo."""
        return self.repo / rel


def has_backend_block(module: Path) -> bool:
    return any(_BACKEND_RE.search(f.read_text(errors="replace")) for f in module.glob("*.tf"))


def backend_override(state_file: Path) -> str:
    return (
        "# written by mlopsgen (offline): state stays local, nothing reaches Google Cloud\n"
        "terraform {\n"
        '  backend "local" {\n'
        f"    path = {json.dumps(str(state_file))}\n"
        "  }\n"
        "}\n"
    )


def root_modules(repo: Path) -> list[Path]:
    """Root modules of a rendered repo: terraform/bootstrap, then terraform/envs/* (sorted)."""
    tf = repo / "terraform"
    roots = [tf / "bootstrap"] if _has_tf(tf / "bootstrap") else []
    envs = tf / "envs"
    if envs.is_dir():
        roots += sorted(p for p in envs.iterdir() if _has_tf(p))
    return roots


def _has_tf(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.tf"))


def _template_modules_root() -> Path | None:
    """The template (checkout or a wheel's copy) whose terraform/modules git-sourced modules
    come from."""
    try:
        return template_root()
    except RenderError:
        return None


class _ModuleCopies:
    """Local copies of the template's terraform/modules, one per git ref."""

    def __init__(self, template: Path | None, scratch: Path, notes: list[str]) -> None:
        self.template = template
        self.scratch = scratch
        self.notes = notes
        self.by_ref: dict[str, Path | None] = {}

    def base(self, ref: str) -> Path | None:
        if ref not in self.by_ref:
            self.by_ref[ref] = self._extract(ref) or self._working_copy(ref)
        return self.by_ref[ref]

    def _extract(self, ref: str) -> Path | None:
        if not ref or self.template is None or not (self.template / ".git").exists():
            return None
        archive = subprocess.run(
            ["git", "-C", str(self.template), "archive", ref, "terraform/modules"],
            capture_output=True, check=False,
        )
        if archive.returncode != 0:
            return None
        dest = self.scratch / f"modules-{re.sub(r'[^A-Za-z0-9_.-]', '_', ref)}"
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(dest, filter="data")
        return dest

    def _working_copy(self, ref: str) -> Path | None:
        if self.template is None or not (self.template / "terraform" / "modules").is_dir():
            self.notes.append(
                f"git module ref {ref or '(none)'}: no template checkout to read it from; "
                "terraform init will try the network"
            )
            return None
        self.notes.append(
            f"git module ref {ref or '(none)'} is not in {self.template}: "
            "checked against the template's working copy of terraform/modules"
        )
        return self.template


def localize_git_modules(work: Path, template: Path | None) -> list[str]:
    """Point this template's git-sourced modules (`git::URL//terraform/modules/X?ref=R`) at a
    local copy, so `terraform init` needs no network: the ref's tree from the template's git
    repo when it has that commit, else its working copy. Returns notes for the report."""
    notes: list[str] = []
    copies = _ModuleCopies(template, work.parent, notes)
    for tf in sorted(work.glob("terraform/**/*.tf")):
        text = tf.read_text(errors="replace")
        if "git::" not in text:
            continue

        def swap(m: re.Match[str], tf: Path = tf) -> str:
            base = copies.base(m.group(3) or "")
            if base is None:
                return m.group(0)
            return f"{m.group(1)}{json.dumps(os.path.relpath(base / m.group(2), tf.parent))}"

        new_text = GIT_MODULE_RE.sub(swap, text)
        if new_text != text:
            tf.write_text(new_text)
    return notes


@contextlib.contextmanager
def offline_workspace(
    repo: Path, states: Mapping[str, Path] | None = None
) -> Iterator[Workspace]:
    """A scratch copy of `repo` ready for offline terraform (see the module docstring).

    `states` maps a root's repo-relative path to the local state file it keeps (the rehearsal
    state of `plan --offline`); other roots keep theirs in the scratch copy, gone afterwards."""
    with tempfile.TemporaryDirectory(prefix="mlopsgen-offline-") as tmp:
        scratch = Path(tmp)
        work = scratch / "repo"
        shutil.copytree(repo, work, symlinks=True, ignore=COPY_IGNORE)
        notes = localize_git_modules(work, _template_modules_root())
        kept = dict(states or {})
        for root in root_modules(work):
            if has_backend_block(root):
                rel = root.relative_to(work).as_posix()
                state_file = kept.get(rel, scratch / "state" / f"{rel.replace('/', '_')}.tfstate")
                state_file = state_file.resolve()
                state_file.parent.mkdir(parents=True, exist_ok=True)
                (root / OVERRIDE_FILE).write_text(backend_override(state_file), encoding="utf-8")
        with offline_providers(scratch, reattach=True) as env:
            yield Workspace(repo=work, env=dict(env), notes=notes)
