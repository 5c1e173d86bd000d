"""Copier's bridge to the generator package (loaded by copier-template-extensions by path).

`copier.yml` lists this file in `_jinja_extensions`. It loads `answers.py`, `model.py`,
`filters.py` and `versions.py` from the template being rendered (not from whatever `generator`
is installed), so plain `copier copy` applies exactly the rules of that template version, then:
- registers the escaping filters and the helpers copier.yml's defaults/validators call;
- at render time validates the whole answer set and adds the `mlops` context, so an invalid
  answer set fails before the first file is written. The disk reads the pure model must not do
  happen here: the template's module names and, when vendored, the module files.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from copier.errors import UserMessageError
from copier_template_extensions import ContextHook
from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

_PACKAGE_DIR = Path(__file__).resolve().parent


def _load_package() -> ModuleType:
    """Import this directory as a private package named after its path."""
    name = "_mlopsgen_tpl_" + hashlib.sha256(str(_PACKAGE_DIR).encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, _PACKAGE_DIR / "__init__.py", submodule_search_locations=[str(_PACKAGE_DIR)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    for sub in ("answers", "filters", "model", "versions", "template"):
        setattr(package, sub, importlib.import_module(f"{name}.{sub}"))
    return package


_pkg = _load_package()
answers = _pkg.answers
filters = _pkg.filters
model = _pkg.model
template = _pkg.template

_ANSWER_KEYS = [q.name for q in answers.QUESTIONS]


def _answers_from(context: Any) -> dict[str, Any]:
    return {k: context[k] for k in _ANSWER_KEYS if k in context}


@pass_context
def _check(context: Context, name: str) -> str:
    """Validator helper: '' when the answer is fine, else the message copier shows."""
    value = context.get(name)
    if isinstance(value, tuple):
        value = list(value)
    known = _answers_from(context)
    return answers.check_question(name, value, known) or ""


class MlopsgenFilters(Extension):
    """Escaping filters and helper functions."""

    def __init__(self, environment: Environment):
        super().__init__(environment)
        environment.filters.update(filters.FILTERS)
        environment.globals.update(
            mlopsgen_slugify=answers.slugify,
            mlopsgen_suffix=answers.derive_suffix,
            mlopsgen_check=_check,
            mlopsgen_template_url=_release_url,
        )


def _release() -> Any:
    """The release this template copy is (a wheel's bundled template), else None."""
    return template.recorded_release(_PACKAGE_DIR.parent)


def _release_url() -> str:
    """The canonical URL a bundled template records (module_git_url's default), else ''."""
    release = _release()
    return str(release.url) if release else ""


def module_names(root: Path) -> list[str]:
    """The template's modules: directories of `terraform/modules/` with a main.tf."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "main.tf").is_file())


def vendored_module_files(root: Path) -> list[dict[str, str]]:
    """Every file of the template's `terraform/modules/` as {path, content}, so the client
    repo gets byte-exact copies without relying on symlinks (which copy tools may drop)."""
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or any(
            part.startswith(".") or part == "__pycache__" for part in rel.parts
        ):
            continue
        files.append({"path": rel.as_posix(), "content": path.read_text(encoding="utf-8")})
    return files


class MlopsgenContext(ContextHook):
    """Validate the whole answer set and expose `mlops` when copier renders files."""

    _cache: dict[str, dict[str, Any]] = {}  # noqa: RUF012 - per-process memo of contexts

    def hook(self, context: dict[str, Any]) -> None:
        if str(context.get("_copier_phase", "")) not in ("render", "tasks", "migrate"):
            return
        raw = _answers_from(context)
        copier_answers = context.get("_copier_answers") or {}
        release = _release()
        ref = str(copier_answers.get("_commit") or (release.version if release else "HEAD"))
        key = json.dumps([raw, ref], sort_keys=True, default=str)
        if key not in self._cache:
            try:
                valid = model.validate_answers(raw)
            except answers.AnswersError as error:
                raise UserMessageError("Invalid answers:\n" + str(error)) from error
            modules = _PACKAGE_DIR.parent / model.MODULES_DIR
            mlops = model.build_context(
                valid, template_ref=ref, module_names=module_names(modules)
            )
            mlops["vendored_module_files"] = (
                vendored_module_files(modules) if mlops["module_source"] == "vendored" else []
            )
            self._cache[key] = mlops
        context["mlops"] = self._cache[key]
