"""The versions the template and the tools require, stated once.

Standard library only: copier_ext loads it by path (templates print these through the render
context), tfrunner checks the terraform binary against `MIN_TERRAFORM` at run time, and a test
keeps every `versions.tf` of `terraform/modules/` (byte-exact vendored files, so not templated)
equal to these constraints.
"""

from __future__ import annotations

# Oldest terraform the modules, the client roots and mlopsgen's runner support: the
# `required_version` of every versions.tf is `>= MIN_TERRAFORM`.
MIN_TERRAFORM = "1.9"

# Provider constraints of every versions.tf; the offline schema snapshot
# (generator/offline/schemas) serves the lowest version each constraint admits.
PROVIDER_CONSTRAINTS: dict[str, str] = {
    "hashicorp/google": ">= 8.7.0, < 9.0.0",
    "hashicorp/google-beta": ">= 8.7.0, < 9.0.0",
    "integrations/github": "~> 6.13",
}


def version_tuple(text: str) -> tuple[int, ...]:
    """`1.11.4` -> (1, 11, 4); pre-release and build suffixes are ignored."""
    core = text.strip().lstrip("v").split("-", 1)[0].split("+", 1)[0]
    return tuple(int(part) for part in core.split(".") if part.isdigit())
