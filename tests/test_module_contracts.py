"""Values the model and the modules must agree on, read from their Terraform sources, and the
roots that receive them: each is stated once (the model or one module) and printed elsewhere."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2

from generator import model, versions

from .conftest import ROOT, load_example

MODULES = ROOT / "terraform" / "modules"
Keys = dict[str, Any]  # attribute name -> nested keys, or None for a leaf


def _variables(module: str) -> dict[str, dict[str, Any]]:
    parsed = hcl2.loads((MODULES / module / "variables.tf").read_text())
    return {name.strip('"'): body for block in parsed["variable"] for name, body in block.items()}


class _TypeReader:
    """Reads the attribute names out of an HCL type constraint such as
    `object({a = string, b = optional(object({c = bool}), {})})`."""

    def __init__(self, text: str):
        self.text = text.removeprefix("${").removesuffix("}") if text.startswith("${") else text
        self.at = 0

    def _skip(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in " \n\t,":
            self.at += 1

    def _eat(self, token: str) -> bool:
        self._skip()
        if self.text.startswith(token, self.at):
            self.at += len(token)
            return True
        return False

    def _balanced(self) -> None:
        """Skip one value up to the `,`, `)` or `}` that ends it."""
        depth = 0
        while self.at < len(self.text):
            ch = self.text[self.at]
            if ch in "({[":
                depth += 1
            elif ch in ")}]":
                if depth == 0:
                    return
                depth -= 1
            elif ch == "," and depth == 0:
                return
            self.at += 1

    def type(self) -> Keys | None:
        if self._eat("object({"):
            keys: Keys = {}
            while not self._eat("})"):
                self._skip()
                name = re.match(r"[A-Za-z_][A-Za-z0-9_-]*", self.text[self.at:])
                assert name, self.text[self.at:]
                self.at += name.end()
                assert self._eat("="), self.text[self.at:]
                keys[name.group()] = self.type()
            return keys
        if self._eat("optional("):
            inner = self.type()
            self._skip()
            self._balanced()  # the default
            assert self._eat(")")
            return inner
        self._balanced()
        return None


def _keys(value: Any) -> Keys | None:
    return {k: _keys(v) for k, v in value.items()} if isinstance(value, dict) else None


def test_names_are_the_keys_the_model_computes() -> None:
    """The model computes every name; mlops_platform's `names` type is the one HCL declaration
    of their shape (environment roots pass the model's values straight to the module)."""
    declared = _TypeReader(_variables("mlops_platform")["names"]["type"]).type()
    ctx = model.build_context(model.validate_answers(load_example("full")))
    for env in ctx["environments"]:
        assert _keys(env["platform_inputs"]["names"]) == declared


def test_the_names_type_is_declared_once() -> None:
    sources = [*(ROOT / "templates").rglob("*.tf*"), *MODULES.rglob("*.tf")]
    declaring = [p.relative_to(ROOT).as_posix() for p in sources
                 if re.search(r'^variable "names"', p.read_text(), re.MULTILINE)]
    assert declaring == ["terraform/modules/mlops_platform/variables.tf"]


def test_platform_inputs_are_module_variables() -> None:
    """Every generated argument of `module "platform"` (and every overridable one) is a
    variable of mlops_platform."""
    declared = set(_variables("mlops_platform"))
    ctx = model.build_context(model.validate_answers(load_example("full")))
    for env in ctx["environments"]:
        assert set(env["platform_inputs"]) <= declared
        assert set(env["tfvars"]) <= declared
        assert not set(env["platform_inputs"]) & set(env["tfvars"])


def _module_call(path: Path, name: str) -> dict[str, Any]:
    for block in hcl2.loads(path.read_text())["module"]:
        for key, body in block.items():
            if key.strip('"') == name:
                return dict(body)
    raise AssertionError(f"{path} calls no module {name}")


def _roles(value: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key.strip('"'): [role.strip('"') for role in roles] for key, roles in value.items()}


def test_both_roots_get_the_models_seed_roles(render_repo: Any) -> None:
    """The bootstrap grants the seed roles on projects that exist before CI runs and every
    environment root's platform module leaves the same ones alone: one list, the model's,
    rendered into both roots; the modules hold no copy of it."""
    expected = {kind: list(roles) for kind, roles in model.CI_SEED_ROLES.items()}
    assert expected["plan"] and expected["apply"]
    for variable, module in (("seed_roles", "ci_identities"), ("ci_seed_roles", "mlops_platform")):
        assert "default" not in _variables(module)[variable], f"{module} keeps its own {variable}"
    for example in ("full", "minimal"):
        repo = render_repo(load_example(example))
        ci = _module_call(repo / "terraform" / "bootstrap" / "main.tf", "ci")
        assert _roles(ci["seed_roles"]) == expected
        envs = sorted((repo / "terraform" / "envs").glob("*/main.tf"))
        assert envs
        for main_tf in envs:
            platform = _module_call(main_tf, "platform")
            assert _roles(platform["ci_seed_roles"]) == expected, main_tf


def _terraform_block(path: Path) -> tuple[str, dict[str, dict[str, str]]]:
    (block,) = hcl2.loads(path.read_text())["terraform"]
    providers: dict[str, dict[str, str]] = {}
    for entry in block.get("required_providers", []):
        for name, spec in entry.items():
            if not name.startswith("__"):
                providers[name.strip('"')] = {k: str(v).strip('"') for k, v in spec.items()}
    return str(block["required_version"]).strip('"'), providers


def _check_versions(path: Path) -> set[str]:
    """versions.tf states generator/versions.py's constraints; returns its provider sources."""
    required, providers = _terraform_block(path)
    assert required == f">= {versions.MIN_TERRAFORM}", path
    for name, spec in providers.items():
        assert spec["source"].split("/")[1] == name, path
        assert spec["version"] == versions.PROVIDER_CONSTRAINTS[spec["source"]], (path, name)
    return {spec["source"] for spec in providers.values()}


def test_every_module_requires_the_versions_of_versions_py() -> None:
    """Modules are vendored byte for byte (no templating), so each versions.tf repeats the
    constraints; this keeps them equal to generator/versions.py."""
    files = sorted(MODULES.glob("*/versions.tf"))
    assert len(files) == len(list(MODULES.glob("*/main.tf")))
    for path in files:
        assert _check_versions(path), path


def test_roots_print_the_versions_of_versions_py(render_repo: Any) -> None:
    repo = render_repo(load_example("full"))
    roots = {"bootstrap": [repo / "terraform" / "bootstrap" / "versions.tf"],
             "env": sorted((repo / "terraform" / "envs").glob("*/versions.tf"))}
    assert roots["env"]
    for kind, paths in roots.items():
        for path in paths:
            assert _check_versions(path) == set(model.ROOT_PROVIDERS[kind]), path


def test_cloud_build_runs_a_supported_terraform() -> None:
    configs = "".join(p.read_text() for p in (ROOT / "templates" / "cloudbuild").glob("*"))
    images = re.findall(r"hashicorp/terraform:([0-9.]+)", configs)
    assert images
    for tag in images:
        assert versions.version_tuple(tag) >= versions.version_tuple(versions.MIN_TERRAFORM), tag
