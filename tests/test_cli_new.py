"""`mlopsgen new` end to end: real copier, real git, the template as it is in this checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import main

from .conftest import EXAMPLES


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.terraform
def test_new_renders_commits_and_checks(tmp_path: Path, template_snapshot: Path) -> None:
    dest = tmp_path / "client"
    result = CliRunner().invoke(main, [
        "new", str(dest), "--data-file", str(EXAMPLES / "minimal.yml"),
        "--template", str(template_snapshot), "--vcs-ref", "HEAD", "--no-validate",
    ])
    assert result.exit_code == 0, result.output
    assert "ok: terraform fmt -check -recursive" in result.output
    assert "Next steps" in result.output
    # a git repo with exactly one commit and nothing left over
    assert _git(dest, "rev-list", "--count", "HEAD").strip() == "1"
    assert _git(dest, "status", "--porcelain") == ""
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["client_slug"] == "contoso"
    assert answers["_src_path"] == str(template_snapshot)
    assert len(answers["name_suffix"]) == 4


def test_new_without_answers_file_uses_defaults(tmp_path: Path, template_snapshot: Path) -> None:
    dest = tmp_path / "client"
    result = CliRunner().invoke(main, [
        "new", str(dest), "--template", str(template_snapshot), "--vcs-ref", "HEAD",
        "--no-validate",
    ])
    assert result.exit_code in (0, 4), result.output  # 4 only if the checks found issues
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["environments"] == ["dev", "staging", "prod"]


def test_new_reports_a_broken_answers_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("client_name: [unclosed\n")
    result = CliRunner().invoke(main, ["new", str(tmp_path / "x"), "--data-file", str(bad)])
    assert result.exit_code == 1  # nothing rendered
    assert "not valid YAML" in result.output
    assert not (tmp_path / "x").exists()
