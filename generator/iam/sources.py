"""Where needs come from, and in which context their templates are evaluated.

- `context: environment` files (e.g. `pipelines/iam-needs.yaml`): once per `config/<env>.yaml`,
  with that file's keys (the same names the code reads);
- `context: build` files (`cloudbuild/iam-needs.yaml`): once per Cloud Build trigger in the
  plans that runs the build config, as the trigger's service account, with its substitutions
  (`${_X}`), `${PROJECT_ID}`, `${LOCATION}` and `${config.*}` (config/<_ENV>.yaml); a build that
  `plans:` or `applies:` a root also needs what Terraform needs for every resource of that
  root's plan (`terraform_permissions.yaml` in this package);
- `context: resource` files beside a module (`terraform/modules/<m>/iam-needs.yaml`): once per
  planned instance of the resources they name, with its attributes (values known only after
  apply resolved through the plan).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from generator.iam import identities
from generator.iam.needs import (
    Lookup,
    Need,
    NeedsError,
    Spec,
    Unplaced,
    each,
    evaluate,
    expand,
    lookup_in,
    read,
    specs,
    truthy,
)
from generator.iam.planview import Instance, Known, PlanView

NEEDS_FILE = "iam-needs.yaml"
TERRAFORM_PERMISSIONS = Path(__file__).resolve().parent / "terraform_permissions.yaml"
SKIPPED_TYPES = ("github_", "terraform_data", "random_", "null_", "time_")


@dataclass
class Collected:
    needs: list[Need] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    appliers: dict[str, set[str]] = field(default_factory=dict)  # root -> principals
    missing_types: set[str] = field(default_factory=set)  # no Terraform permission data

    def add(self, result: tuple[list[Need], list[Unplaced]]) -> None:
        self.needs += result[0]
        self.unplaced += result[1]


@dataclass(frozen=True)
class TriggerRun:
    """A Cloud Build trigger: the build it runs, as whom, with which substitutions."""

    root: str
    address: str
    filename: str
    service_account: str  # canonical principal ("" when unknown)
    values: Mapping[str, Any]


# --- environment files ---------------------------------------------------------------------


def _configs(repo: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every config/<env>.yaml as (path relative to the repo, its keys)."""
    out = []
    for path in sorted((repo / "config").glob("*.yaml")):
        data = _config(path, path.stat().st_mtime_ns)
        if isinstance(data, dict):
            out.append((path.relative_to(repo).as_posix(), data))
    return out


@functools.lru_cache(maxsize=64)
def _config(path: Path, _mtime: int) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError):
        return None


_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _with_each(lookup: Lookup, item: Any) -> Lookup:
    def inner(path: str) -> Any:
        return item if path.strip() == "each" else lookup(path)

    return inner


def environment_needs(doc: Mapping[str, Any], rel: str, repo: Path, out: Collected,
                      numbers: Mapping[str, str]) -> None:
    principals = doc.get("principals")
    if not isinstance(principals, list):
        raise NeedsError(f"{rel}: an environment needs file lists 'principals'")
    for config_rel, config in _configs(repo):
        lookup = lookup_in(config)
        for block in principals:
            if not isinstance(block, dict):
                raise NeedsError(f"{rel}: each principal is a mapping")
            if block.get("when") is not None and not truthy(expand(block["when"], lookup)):
                continue
            items = list(each(expand(block["for_each"], lookup))) if "for_each" in block \
                else [None]
            block_specs = specs(block.get("needs"), rel, str(block.get("identity", "")))
            if not items and block.get("if_none"):
                spec = block_specs[0] if block_specs else Spec((), {}, "", rel, 0)
                out.unplaced.append(Unplaced(spec, config_rel, str(block["if_none"])))
            for item in items:
                inner = _with_each(lookup, item)
                who = expand(block.get("identity", ""), inner)
                who = identities.principal(str(who), numbers) if who else None
                for spec in block_specs:
                    out.add(evaluate(spec, inner, config_rel, who or ""))


# --- build files ---------------------------------------------------------------------------


def _filename(after: Mapping[str, Any]) -> str:
    name = after.get("filename")
    if not name:
        source = after.get("git_file_source") or []
        name = source[0].get("path") if source and isinstance(source[0], Mapping) else ""
    return str(name or "").removeprefix("./")


def triggers(views: list[PlanView], numbers: Mapping[str, str]) -> list[TriggerRun]:
    out = []
    for view in views:
        for inst in view.managed():
            if inst.address.type != "google_cloudbuild_trigger":
                continue
            sa = inst.known("service_account")
            email = str(sa).rsplit("/serviceAccounts/", 1)[-1] if sa else ""
            values: dict[str, Any] = dict(inst.known("substitutions") or {})
            values["PROJECT_ID"] = inst.known("project")
            values["LOCATION"] = inst.known("location")
            out.append(TriggerRun(view.root, str(inst.address), _filename(inst.values),
                                  identities.principal(f"serviceAccount:{email}", numbers)
                                  if email else "", values))
    return out


def build_needs(doc: Mapping[str, Any], rel: str, repo: Path, views: list[PlanView],
                out: Collected, numbers: Mapping[str, str]) -> None:
    builds = doc.get("builds")
    if not isinstance(builds, list):
        raise NeedsError(f"{rel}: a build needs file lists 'builds'")
    by_file = {str(b.get("file")): b for b in builds if isinstance(b, dict)}
    configs = dict(_configs(repo))
    views_by_root = {v.root: v for v in views}
    for run in triggers(views, numbers):
        build = by_file.get(run.filename)
        if build is None:
            continue
        env = run.values.get("_ENV")
        values = {**run.values, "config": configs.get(f"config/{env}.yaml", {})}
        lookup = lookup_in(values)
        context = f"{run.address} ({run.root})"
        if not run.service_account:
            out.unplaced.append(Unplaced(Spec((), {}, "", rel, int(build.get("__line__", 0))),
                                         context, "the trigger's service account is not known"))
            continue
        for spec in specs(build.get("needs") or [], rel):
            out.add(evaluate(spec, lookup, context, run.service_account))
        for mode in ("plans", "applies"):
            root = expand(build.get(mode), lookup) if build.get(mode) else None
            if root and root in views_by_root:
                terraform_needs(views_by_root[root], mode, run.service_account, out)
                if mode == "applies":
                    out.appliers.setdefault(str(root), set()).add(run.service_account)


# --- Terraform's own needs -----------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _type_table() -> dict[str, dict[str, list[Spec]]]:
    rel = "generator/iam/terraform_permissions.yaml"
    doc = read(TERRAFORM_PERMISSIONS, rel)
    table: dict[str, dict[str, list[Spec]]] = {}
    for rtype, modes in (doc.get("types") or {}).items():
        if rtype == "__line__" or not isinstance(modes, dict):
            continue
        table[str(rtype)] = {m: specs(modes.get(m) or [], rel) for m in ("plan", "apply")}
    return table


def _instance_lookup(view: PlanView, inst: Instance) -> Lookup:
    """Attribute paths of one planned instance; unknown values resolved through the plan."""
    def lookup(path: str) -> Any:
        traced = view.trace_path(inst, path.strip())
        if isinstance(traced, identities.Resolved):
            return traced.text
        return traced.value if isinstance(traced, Known) else None

    return lookup


def terraform_needs(view: PlanView, mode: str, principal: str, out: Collected) -> None:
    """What planning (`plans`) or applying (`applies`) every resource of a root needs."""
    table = _type_table()
    for inst in view.instances.values():
        rtype = inst.address.type
        if rtype.startswith(SKIPPED_TYPES):
            continue
        key = ("data." if inst.address.mode == "data" else "") + rtype
        entry = table.get(key)
        if entry is None:
            out.missing_types.add(key)
            continue
        wanted = entry["plan"] + (entry["apply"] if mode == "applies" else [])
        lookup = _instance_lookup(view, inst)
        for spec in wanted:
            out.add(evaluate(spec, lookup, f"{inst.address} ({view.root})", principal))


# --- module files --------------------------------------------------------------------------


def module_dirs(view: PlanView, repo: Path, template_modules: Path | None
                ) -> dict[tuple[str, ...], Path]:
    """Each module path's source directory (git sources: the template's modules)."""
    out: dict[tuple[str, ...], Path] = {(): repo / view.root}

    def walk(path: tuple[str, ...], module: Mapping[str, Any], here: Path) -> None:
        for name, call in (module.get("module_calls") or {}).items():
            source = str(call.get("source", ""))
            target = _source_dir(source, here, template_modules)
            if target is None:
                continue
            out[(*path, name)] = target
            walk((*path, name), call.get("module") or {}, target)

    root_module = (view.plan.get("configuration") or {}).get("root_module") or {}
    walk((), root_module, repo / view.root)
    return out


def _source_dir(source: str, here: Path, template_modules: Path | None) -> Path | None:
    if source.startswith(("./", "../")):
        return Path(_normalize(here / source))
    if "//terraform/modules/" in source and template_modules is not None:
        module = source.split("//terraform/modules/", 1)[1].split("?", 1)[0]
        return template_modules / module
    return None


def _normalize(path: Path) -> str:
    parts: list[str] = []
    for part in PurePosixPath(path.as_posix()).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/" + "/".join(parts[1:]) if parts and parts[0] == "/" else "/".join(parts)


def _module_specs(path: Path, rel: str) -> dict[str, list[Spec]]:
    doc = read(path, rel)
    resources = doc.get("resources")
    if not isinstance(resources, dict):
        raise NeedsError(f"{rel}: a resource needs file maps resource addresses to needs")
    return {str(k): specs(v, rel) for k, v in resources.items() if k != "__line__"}


def module_needs(view: PlanView, repo: Path, template_modules: Path | None, out: Collected,
                 numbers: Mapping[str, str]) -> None:
    dirs = module_dirs(view, repo, template_modules)
    by_dir: dict[Path, dict[str, list[Spec]]] = {}
    for inst in view.instances.values():
        directory = dirs.get(tuple(m.name for m in inst.address.modules))
        if directory is None:
            continue
        if directory not in by_dir:
            path = directory / NEEDS_FILE
            by_dir[directory] = _module_specs(path, _rel(path, repo)) if path.is_file() else {}
        for spec in by_dir[directory].get(inst.address.resource, []):
            lookup = _instance_lookup(view, inst)
            who = expand(spec.identity, lookup)
            principal = identities.principal(str(who), numbers) if who else ""
            out.add(evaluate(spec, lookup, f"{inst.address} ({view.root})", principal))


def _rel(path: Path, repo: Path) -> str:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# --- everything ----------------------------------------------------------------------------


def needs_files(repo: Path) -> Iterator[Path]:
    """The repo's environment and build needs files (module files are found by the plans)."""
    for path in sorted(repo.rglob(NEEDS_FILE)):
        rel = path.relative_to(repo)
        if rel.parts[0] in ("terraform", ".git", ".mlopsgen") or any(
                p.startswith(".") for p in rel.parts):
            continue
        yield path


def collect(repo: Path, views: list[PlanView], numbers: Mapping[str, str],
            template_modules: Path | None) -> Collected:
    out = Collected()
    for path in needs_files(repo):
        rel = path.relative_to(repo).as_posix()
        doc = read(path, rel)
        context = doc.get("context")
        if context == "environment":
            environment_needs(doc, rel, repo, out, numbers)
        elif context == "build":
            build_needs(doc, rel, repo, views, out, numbers)
        else:
            raise NeedsError(f"{rel}: 'context' must be environment or build, not {context!r}")
    for view in views:
        module_needs(view, repo, template_modules, out, numbers)
    return out
