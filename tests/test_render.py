"""Render both examples and a pairwise matrix over the contract keys with real copier, then
check what a reviewer would: formatting, parseable HCL, IAM hygiene, protection, CMEK wiring."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from generator import model
from generator import validate as validate_mod
from generator.answers import FEATURES

from .conftest import load_example

PRIMITIVE_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}
PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}

ENVIRONMENT_SETS = [
    ["prod"], ["dev", "prod"], ["dev", "staging", "prod"], ["d1", "qa", "uat", "pre", "prod"]
]


def pairwise_matrix() -> list[dict[str, Any]]:
    """Greedy all-pairs over features (each on/off), layout, environments and module source."""
    params: list[tuple[str, list[Any]]] = [(f"feature:{f}", [False, True]) for f in FEATURES]
    params += [
        ("project_layout", ["per_environment", "single_project"]),
        ("environments", list(range(len(ENVIRONMENT_SETS)))),
        ("module_source", ["vendored", "git"]),
    ]
    uncovered = {
        ((i, a), (j, b))
        for i, j in itertools.combinations(range(len(params)), 2)
        for a in range(len(params[i][1]))
        for b in range(len(params[j][1]))
    }
    rows: list[tuple[int, ...]] = []
    while uncovered:
        best, best_score = None, -1
        for row in itertools.product(*(range(len(p[1])) for p in params)):
            score = sum(
                ((i, row[i]), (j, row[j])) in uncovered
                for i, j in itertools.combinations(range(len(params)), 2)
            )
            if score > best_score:
                best, best_score = row, score
        assert best is not None
        rows.append(best)
        uncovered -= {
            ((i, best[i]), (j, best[j])) for i, j in itertools.combinations(range(len(params)), 2)
        }
    combos = []
    for row in rows:
        values = {p[0]: p[1][v] for p, v in zip(params, row, strict=True)}
        combos.append({
            "features": [f for f in FEATURES if values[f"feature:{f}"]],
            "project_layout": values["project_layout"],
            "environments": ENVIRONMENT_SETS[values["environments"]],
            "module_source": values["module_source"],
        })
    return combos


MATRIX = pairwise_matrix()
CASES = [("full", {}), ("minimal", {})] + [
    (f"pair{i}", combo) for i, combo in enumerate(MATRIX)
]


def _answers(name: str, override: dict[str, Any]) -> dict[str, Any]:
    base = load_example("full" if name.startswith("pair") else name)
    return {**base, **override, "client_slug": "acme"}


def test_matrix_covers_every_pair() -> None:
    seen = set()
    for combo in MATRIX:
        flags = [("f", f, f in combo["features"]) for f in FEATURES]
        others = [("layout", combo["project_layout"]), ("envs", len(combo["environments"])),
                  ("src", combo["module_source"])]
        items = flags + others
        seen.update(itertools.combinations(items, 2))
    # both values of every feature appear with both layouts and both module sources
    for f in FEATURES:
        for on in (False, True):
            for layout in ("per_environment", "single_project"):
                assert (("f", f, on), ("layout", layout)) in seen
    assert len(MATRIX) <= 12


def _tf_files(root: Path) -> Iterator[Path]:
    yield from sorted(p for p in root.rglob("*.tf") if ".terraform" not in p.parts)


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _strip(value: Any) -> Any:
    return value.strip('"') if isinstance(value, str) else value


@pytest.fixture(scope="module", params=CASES, ids=[c[0] for c in CASES])
def rendered(request: pytest.FixtureRequest, render_repo: Any) -> tuple[dict[str, Any], Path]:
    name, override = request.param
    answers = _answers(name, override)
    return answers, render_repo(answers)


@pytest.mark.terraform
def test_terraform_fmt_is_clean(rendered: tuple[dict[str, Any], Path]) -> None:
    _, repo = rendered
    assert validate_mod.check_fmt(repo) == []


def test_every_tf_file_parses(rendered: tuple[dict[str, Any], Path]) -> None:
    _, repo = rendered
    files = list(_tf_files(repo))
    assert files, "the render has no Terraform"
    for path in files:
        with path.open() as handle:
            hcl2.load(handle)


def test_no_primitive_roles_and_no_public_members(rendered: tuple[dict[str, Any], Path]) -> None:
    _, repo = rendered
    roles = 0
    for path in [*_tf_files(repo), *repo.rglob("*.tfvars")]:
        for key, value in _walk(hcl2.loads(path.read_text())):
            values = value if isinstance(value, list) else [value]
            literals = [_strip(v) for v in values if isinstance(v, str)]
            grant_key = key.endswith(("_role", "_roles")) and not key.startswith(
                ("primitive", "forbidden")
            )
            if key in ("role", "roles") or grant_key:
                roles += len(literals)
                assert not PRIMITIVE_ROLES & set(literals), f"{path}: {key} = {value}"
            if key in ("member", "members"):
                assert not PUBLIC_MEMBERS & set(literals), f"{path}: {key} = {value}"
    assert roles, "no IAM role found in the render"


def test_every_variable_is_typed_and_described(rendered: tuple[dict[str, Any], Path]) -> None:
    _, repo = rendered
    count = 0
    for path in _tf_files(repo):
        for block in hcl2.loads(path.read_text()).get("variable", []):
            for name, body in block.items():
                count += 1
                assert "type" in body, f"{path}: variable {name} has no type"
                assert body.get("description"), f"{path}: variable {name} has no description"
    assert count > 0


def test_no_service_account_keys_or_random_ids(rendered: tuple[dict[str, Any], Path]) -> None:
    _, repo = rendered
    for path in _tf_files(repo):
        text = path.read_text()
        assert "google_service_account_key" not in text, path
        assert not re.search(r'resource\s+"random_', text), path


def _env_tfvars(repo: Path) -> dict[str, dict[str, Any]]:
    """Per environment root, what its `module "platform"` gets: the generated arguments in
    main.tf, with `var.<name>` resolved from terraform.tfvars."""
    out = {}
    for tfvars in sorted((repo / "terraform" / "envs").glob("*/terraform.tfvars")):
        values = hcl2.loads(tfvars.read_text())
        (call,) = [body for block in hcl2.loads((tfvars.parent / "main.tf").read_text())["module"]
                   for name, body in block.items() if name.strip('"') == "platform"]
        out[tfvars.parent.name] = {
            key: values[value[len("${var."):-1]]
            if isinstance(value, str) and value.startswith("${var.") else value
            for key, value in call.items() if key != "source" and not key.startswith("__")
        }
    return out


def test_env_roots_declare_only_what_clients_may_override(
    rendered: tuple[dict[str, Any], Path],
) -> None:
    """Generated values the rest of the repo relies on go straight into `module "platform"`;
    the root's variables (terraform.tfvars, client.auto.tfvars) are the overridable ones."""
    _, repo = rendered
    recorded = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    ctx = model.build_context(
        model.validate_answers({k: v for k, v in recorded.items() if not k.startswith("_")})
    )
    for env in ctx["environments"]:
        root = repo / "terraform" / "envs" / env["name"]
        declared = {name.strip('"') for block in
                    hcl2.loads((root / "variables.tf").read_text())["variable"] for name in block}
        assert declared == set(env["tfvars"])
        tfvars = hcl2.loads((root / "terraform.tfvars").read_text())
        assert {k for k in tfvars if not k.startswith("__")} == set(env["tfvars"])
        inputs = _env_tfvars(repo)[env["name"]]
        assert set(inputs) == set(env["platform_inputs"]) | set(env["tfvars"])


def test_protection_outside_the_disposable_first_environment(
    rendered: tuple[dict[str, Any], Path],
) -> None:
    answers, repo = rendered
    envs = answers["environments"]
    tfvars = _env_tfvars(repo)
    assert sorted(tfvars) == sorted(envs)
    for index, env in enumerate(envs):
        disposable = index == 0 and len(envs) > 1
        values = dict(_walk(tfvars[env]))
        assert "force_destroy" in values, f"{env}: tfvars do not set force_destroy"
        assert values["force_destroy"] is disposable, env
        if index == len(envs) - 1:
            assert _strip(values.get("deletion_policy", "PREVENT")) == "PREVENT"


def test_cmek_wiring_exactly_when_cmek_is_on(rendered: tuple[dict[str, Any], Path]) -> None:
    answers, repo = rendered
    cmek = "cmek" in answers["features"]
    for env, values in _env_tfvars(repo).items():
        flags = dict(_walk(values))
        assert flags.get("cmek") is cmek, f"{env}: features.cmek should be {cmek}"
    bootstrap = hcl2.loads((repo / "terraform" / "bootstrap" / "terraform.tfvars").read_text())
    assert bootstrap["cmek"] is cmek


def test_module_sources_follow_module_source(rendered: tuple[dict[str, Any], Path]) -> None:
    answers, repo = rendered
    vendored = answers["module_source"] == "vendored"
    assert (repo / "terraform" / "modules").is_dir() is vendored
    sources = []
    for path in _tf_files(repo / "terraform" / "envs"):
        for block in hcl2.loads(path.read_text()).get("module", []):
            for body in block.values():
                sources.append((path.parent, _strip(body["source"])))
    assert sources
    for root, source in sources:
        if vendored:
            assert source.startswith("../../modules/"), source
            assert (root / source / "main.tf").is_file(), f"{root}: {source} is not vendored"
        else:
            assert source.startswith("git::") and "//terraform/modules/" in source, source
            assert "?ref=" in source, source


def test_vendored_modules_are_exact_copies(rendered: tuple[dict[str, Any], Path]) -> None:
    answers, repo = rendered
    if answers["module_source"] != "vendored":
        return
    source = Path(__file__).resolve().parent.parent / "terraform" / "modules"
    expected = {
        p.relative_to(source): p.read_bytes()
        for p in source.rglob("*")
        if p.is_file() and not any(
            part.startswith(".") or part == "__pycache__" for part in p.relative_to(source).parts
        )
    }
    vendored = repo / "terraform" / "modules"
    got = {p.relative_to(vendored): p.read_bytes() for p in vendored.rglob("*") if p.is_file()}
    assert got == expected

