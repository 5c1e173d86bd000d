"""Values two modules must agree on, read from their Terraform sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2

MODULES = Path(__file__).resolve().parent.parent / "terraform" / "modules"


def _default(module: str, variable: str) -> Any:
    parsed = hcl2.loads((MODULES / module / "variables.tf").read_text())
    for block in parsed["variable"]:
        for name, body in block.items():
            if name.strip('"') == variable:
                return body["default"]
    raise AssertionError(f"{module} declares no variable {variable}")


def _roles(value: dict[str, list[str]]) -> dict[str, set[str]]:
    return {key: {role.strip('"') for role in roles} for key, roles in value.items()}


def test_bootstrap_seed_roles_equal_what_the_platform_leaves_alone() -> None:
    # ci_identities grants these on projects that exist before CI runs; mlops_platform must not
    # manage the same grants there, so the two lists have to be the same
    seeded = _roles(_default("ci_identities", "seed_roles"))
    skipped = _roles(_default("mlops_platform", "ci_seed_roles"))
    assert seeded == skipped
    assert seeded["plan"] and seeded["apply"]
