"""Build hook: the wheel carries the template (see generator/template.py).

Everything else is in pyproject.toml. `build_py` copies, into `generator/_template/` of the
build: copier.yml, templates/, terraform/modules/ and the modules copier loads by path when it
renders (copier_ext and what it imports), and writes RELEASE.json: the template repo's
canonical git URL (MLOPSGEN_TEMPLATE_URL at build time, else `[tool.mlopsgen] template-url`
in pyproject.toml) and the release tag `v<version>` (the version is stated once, as
generator/__init__.py's `__version__`). Editable installs render from the checkout itself and
get no copy.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# the template as copier reads it: copier.yml's _subdirectory and _jinja_extensions, and what
# the context hook reads (the modules it vendors or pins)
TEMPLATE_TREES = ("templates", "terraform/modules")
TEMPLATE_FILES = ("copier.yml",)
# copier_ext.py loads these from the template by path (standard library only)
RENDER_MODULES = (
    "generator/__init__.py",
    "generator/answers.py",
    "generator/copier_ext.py",
    "generator/errors.py",
    "generator/filters.py",
    "generator/governance.py",
    "generator/model.py",
    "generator/observability.py",
    "generator/template.py",
    "generator/versions.py",
)
RENDER_TREES = ("generator/migrations",)
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".terraform", "*.tfstate*")


def template_url() -> str:
    url = os.environ.get("MLOPSGEN_TEMPLATE_URL")
    if url:
        return url
    config = tomllib.loads((HERE / "pyproject.toml").read_text(encoding="utf-8"))
    return str(config["tool"]["mlopsgen"]["template-url"])


def bundle(dest: Path, version: str) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for rel in (*TEMPLATE_TREES, *RENDER_TREES):
        shutil.copytree(HERE / rel, dest / rel, ignore=SKIP)
    for rel in (*TEMPLATE_FILES, *RENDER_MODULES):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(HERE / rel, dest / rel)
    release = {"url": template_url(), "version": f"v{version}"}
    (dest / "RELEASE.json").write_text(json.dumps(release, indent=2) + "\n", encoding="utf-8")


class BuildWithTemplate(build_py):
    def run(self) -> None:
        super().run()
        if not self.dry_run and not getattr(self, "editable_mode", False):
            bundle(Path(self.build_lib) / "generator" / "_template",
                   self.distribution.get_version())


setup(cmdclass={"build_py": BuildWithTemplate})
