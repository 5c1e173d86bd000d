"""Install a dependency group of pyproject.toml (PEP 735) into the CI venv, without the project.

    python scripts/ci_tools.py install --group ci          # mlopsgen and the CI scripts' packages
    python scripts/ci_tools.py install --group ci-scripts  # only what scripts/*.py import
    python scripts/ci_tools.py requirements --group ci     # print what it would install

The CI venv is `.mlopsgen/ci/venv` under the repo root (VENV): /workspace/.mlopsgen/ci/venv in
Cloud Build, where every step is a new container of its image and only /workspace persists, so
what pip installs into the image's own Python is gone in the next step. `install` creates the
venv with this Python (or reuses it) and installs into it; the later steps run its
`bin/python` and find `mlopsgen` in its `bin` (a venv made in one container works in another of
the same image at the same path). The Cloud Build configs run this first. Group `ci`
(`[tool.mlopsgen.ci] mlopsgen-group`) also
installs mlopsgen at the version of the template this repo was rendered from, as
.copier-answers.yml records it (`_commit`; `copier update` moves it): from the template's git
repository (`source`, or the `_src_path` of .copier-answers.yml when `source` is empty) at that
ref, or, when `source` is a package index (`.../simple/`), the release that ref names, from that
index alone (after the `index-bootstrap` packages, from PyPI: pip's authentication to it).
Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(".mlopsgen", "ci", "venv")  # the CI venv, under the repo root (/workspace)
PIP = ["-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--quiet",
       "--root-user-action=ignore"]
_RELEASE = re.compile(r"^v?(\d+(?:\.\d+)*(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?)$")
_DESCRIBED = re.compile(r"^.+-\d+-g([0-9a-f]{7,40})$")  # `git describe`: tag-N-g<commit>
_INDEX = re.compile(r"^https://[^\s?#]+/simple/?$")
_RECORDED = re.compile(r"^(_commit|_src_path):\s*(.+?)\s*$", re.MULTILINE)


class ToolsError(ValueError):
    pass


def group_requirements(project: dict[str, Any], name: str, seen: tuple[str, ...] = ()
                       ) -> list[str]:
    """The requirements of dependency group `name`, its `include-group`s expanded (pure)."""
    groups = project.get("dependency-groups") or {}
    if name not in groups:
        raise ToolsError(f"pyproject.toml has no dependency group {name!r} "
                         f"(groups: {', '.join(sorted(groups)) or 'none'})")
    if name in seen:
        raise ToolsError(f"dependency group {name!r} includes itself")
    out: list[str] = []
    for item in groups[name]:
        if isinstance(item, dict) and "include-group" in item:
            out += group_requirements(project, str(item["include-group"]), (*seen, name))
        elif isinstance(item, str) and item.strip():
            out.append(item.strip())
        else:
            raise ToolsError(f"dependency group {name!r} holds {item!r}, not a requirement")
    return out


def recorded(answers_text: str) -> dict[str, str]:
    """`_commit` and `_src_path` of .copier-answers.yml (plain or quoted scalars; pure)."""
    return {key: value.strip("'\"") for key, value in _RECORDED.findall(answers_text)}


def pip_git_url(source: str) -> str:
    """A git URL as pip's `git+` form takes it (scp-like and plain paths become URLs; pure)."""
    if source.startswith("/"):
        return f"file://{source}"
    scp = re.match(r"^([^@/:]+@[^:/]+):(.+)$", source)
    return f"ssh://{scp.group(1)}/{scp.group(2)}" if scp else source


def mlopsgen_requirement(settings: dict[str, Any], answers: dict[str, str]) -> str:
    """The pip requirement of mlopsgen at the recorded template version (pure)."""
    dist = str(settings.get("distribution") or "mlops-foundations")
    ref = answers.get("_commit", "")
    source = str(settings.get("source") or "") or answers.get("_src_path", "")
    if not ref or not source:
        raise ToolsError(".copier-answers.yml records no _commit/_src_path: render the repo "
                         "with copier (or mlopsgen new) from a git template")
    if _INDEX.match(source):
        release = _RELEASE.match(ref)
        if not release:
            raise ToolsError(f"the template version {ref!r} is not a release, which a package "
                             "index serves: update to a release tag, or answer mlopsgen_source "
                             "with the template's git URL")
        return f"{dist}=={release.group(1)}"
    described = _DESCRIBED.match(ref)
    return f"{dist} @ git+{pip_git_url(source)}@{described.group(1) if described else ref}"


def requirements(project: dict[str, Any], group: str, answers_text: str) -> list[str]:
    """Everything `install --group` installs (pure)."""
    settings = ((project.get("tool") or {}).get("mlopsgen") or {}).get("ci") or {}
    out = group_requirements(project, group)
    if group == settings.get("mlopsgen-group", "ci"):
        out.append(mlopsgen_requirement(settings, recorded(answers_text)))
    return out


def venv_python(root: Path) -> Path:
    """The interpreter of the CI venv of the repo at `root` (pure)."""
    return root / VENV / "bin" / "python"


def pip_commands(project: dict[str, Any], requirements_file: str, python: str
                 ) -> list[list[str]]:
    """The pip runs of `python` that install a requirements file (pure)."""
    settings = ((project.get("tool") or {}).get("mlopsgen") or {}).get("ci") or {}
    source = str(settings.get("source") or "")
    bootstrap = [str(r) for r in settings.get("index-bootstrap") or []]
    commands = [[python, *PIP, *bootstrap]] if bootstrap else []
    command = [python, *PIP, "-r", requirements_file]
    if _INDEX.match(source):
        command += ["--index-url", source]
    return [*commands, command]


def _venv(root: Path) -> Path:
    """The CI venv's interpreter, the venv created first if it is missing."""
    python = venv_python(root)
    if not python.exists():
        print(f"+ python -m venv {VENV}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(root / VENV)], check=True)
    return python


def _install(project: dict[str, Any], wanted: list[str], root: Path) -> int:
    try:
        python = str(_venv(root))
    except subprocess.CalledProcessError as err:
        print(f"error: creating the CI venv {root / VENV} failed (exit {err.returncode})",
              file=sys.stderr)
        return err.returncode or 1
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(wanted) + "\n")
    try:
        for command in pip_commands(project, handle.name, python):
            print(f"+ {VENV}/bin/pip install " + " ".join(command[1 + len(PIP):]),
                  file=sys.stderr, flush=True)
            done = subprocess.run(command, check=False)
            if done.returncode != 0:
                return done.returncode
    finally:
        os.unlink(handle.name)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("install", "requirements"))
    parser.add_argument("--group", default="ci")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    try:
        project = tomllib.loads((args.root / "pyproject.toml").read_text(encoding="utf-8"))
        answers = args.root / ".copier-answers.yml"
        wanted = requirements(project, args.group,
                              answers.read_text(encoding="utf-8") if answers.is_file() else "")
    except (OSError, tomllib.TOMLDecodeError, ToolsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.action == "requirements":
        print("\n".join(wanted))
        return 0
    for line in wanted:
        print(f"  {line}", file=sys.stderr)
    return _install(project, wanted, args.root)


if __name__ == "__main__":
    sys.exit(main())
