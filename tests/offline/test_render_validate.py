"""`mlopsgen validate` on real renders of the examples: they pass, and mistakes injected into
a render are caught with terraform's message, file and line."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from generator.validate import validate_repo
from tests.conftest import load_example
from tests.offline.conftest import needs_terraform

pytestmark = [needs_terraform, pytest.mark.terraform]

Render = Callable[[Mapping[str, Any]], Path]
FAST = ("checkov", "test", "cloudbuild", "fmt")


def _problems(report: Any) -> list[str]:
    return [p.one_line() for p in report.problems]


def test_full_example_passes_with_terraform_tests(render_repo: Render) -> None:
    repo = render_repo(load_example("full"))
    report = validate_repo(repo, skip=("checkov", "cloudbuild"))  # both have their own tests
    assert report.ok, _problems(report)
    roots = {r.root: r for r in report.roots}
    assert {"terraform/bootstrap", "terraform/envs/dev", "terraform/envs/prod"} <= set(roots)
    assert all(r.stages["plan"] == "ok" for r in report.roots if r.kind == "root")
    assert sum(roots["terraform/envs/prod"].to_add.values()) > 20
    assert any(r.tests and "0 failed" in r.tests for r in report.roots)


def test_minimal_example_passes(render_repo: Render) -> None:
    repo = render_repo(load_example("minimal"))
    report = validate_repo(repo, skip=FAST)
    assert report.ok, _problems(report)


def test_git_module_sources_validate_offline(render_repo: Render) -> None:
    answers = {
        **load_example("full"),
        "module_source": "git",
        "module_git_url": "https://github.com/acme/mlops-foundations.git",
    }
    repo = render_repo(answers)
    assert "git::" in (repo / "terraform" / "envs" / "dev" / "main.tf").read_text()
    report = validate_repo(repo, skip=FAST)
    assert report.ok, _problems(report)


def _copy(render_repo: Render, tmp_path: Path) -> Path:
    dest = tmp_path / "repo"
    shutil.copytree(render_repo(load_example("full")), dest, symlinks=True)
    return dest


def _insert_after(path: Path, pattern: str, text: str) -> int:
    """Insert `text` as a new line after the first line matching `pattern`; its line number."""
    lines = path.read_text().splitlines(keepends=True)
    for i, line in enumerate(lines):
        if re.search(pattern, line):
            lines.insert(i + 1, text + "\n")
            path.write_text("".join(lines))
            return i + 2
    raise AssertionError(f"{pattern!r} not in {path}")


def test_mistakes_injected_into_a_render_are_caught(render_repo: Render, tmp_path: Path) -> None:
    repo = _copy(render_repo, tmp_path)
    sa = repo / "terraform/modules/service_account/main.tf"
    sa_line = _insert_after(sa, r'^resource "google_service_account" "this"', '  email = "x@y.z"')
    env = repo / "terraform/envs/dev/main.tf"
    env_line = _insert_after(
        env, r'^\s*source\s*=\s*"\.\./\.\./modules/mlops_platform"', "  colour = 1"
    )
    project = repo / "terraform/modules/project/main.tf"
    text = project.read_text()
    beta = re.search(
        r'resource "google_project_service_identity" "this" \{\n\s*provider\s*=\s*google-beta\n',
        text,
    )
    assert beta, "the project module no longer uses google_project_service_identity"
    project.write_text(
        text.replace(beta.group(0), 'resource "google_project_service_identity" "this" {\n')
    )
    beta_line = text[: beta.start()].count("\n") + 1

    report = validate_repo(repo, skip=FAST)
    assert not report.ok
    found = {(p.file, p.line): p.message for p in report.problems}
    assert "Value for unconfigurable attribute" in found.get(
        ("terraform/modules/service_account/main.tf", sa_line), ""
    ), _problems(report)
    assert '"colour" is not expected here' in found.get(
        ("terraform/envs/dev/main.tf", env_line), ""
    )
    assert "exists only in hashicorp/google-beta" in found.get(
        ("terraform/modules/project/main.tf", beta_line), ""
    ), _problems(report)


def test_cloud_build_mistakes_in_a_render_are_caught(render_repo: Render, tmp_path: Path) -> None:
    repo = _copy(render_repo, tmp_path)
    plan = repo / "cloudbuild/terraform-plan.yaml"
    first = _insert_after(
        plan,
        r"^steps:$",
        '  - id: injected\n    name: bash\n    env: ["X=${_NOT_DECLARED}"]\n'
        '    args: ["-c", "echo $HOME"]',
    )
    subst_line, shell_line = first + 2, first + 3
    report = validate_repo(repo, skip=("fmt", "init", "validate", "plan", "test", "checkov"))
    assert not report.ok
    found = [p for p in report.problems if p.file == "cloudbuild/terraform-plan.yaml"]
    assert any("_NOT_DECLARED" in p.message and p.line == subst_line for p in found), [
        p.one_line() for p in found
    ]
    assert any("HOME" in p.message and p.line == shell_line for p in found), [
        p.one_line() for p in found
    ]
