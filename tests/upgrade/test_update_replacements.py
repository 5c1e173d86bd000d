"""`mlopsgen update` (and `fleet update`) list every resource a template update would replace or
delete, before anything is committed (issue 16): v0.4.0 renames the data bucket
(tests/upgrade/builder.py), the repo before the update is applied offline to a rehearsal state
and the updated repo planned against it with the stand-in providers, which know that a
bucket's `name` forces a replacement."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator import update as upd
from generator.cli import main as cli
from tests.upgrade import builder

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH"),
]


@pytest.fixture(scope="module")
def renaming_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v0.1.0 .. v0.4.0; v0.4.0 renames every environment's data bucket."""
    return builder.build_template_repo(
        tmp_path_factory.mktemp("tpl4") / "mlops-foundations", versions=4
    )


def render(template: Path, dest: Path, answers: dict[str, Any]) -> Path:
    return builder.render_client(template, dest, answers, vcs_ref="v0.3.0")


def test_a_release_renaming_a_bucket_is_reported_and_not_committed(
    renaming_template: Path, answers: dict[str, Any], tmp_path: Path
) -> None:
    repo = render(renaming_template, tmp_path / "client", answers)
    head = builder.git(repo, "rev-parse", "HEAD")
    report = upd.update_repo(repo, vcs_ref="v0.4.0", validate=False, commit=True)
    # reported...
    [bucket] = [d for d in report.replacements.destructions if d.type == "google_storage_bucket"]
    assert (bucket.action, bucket.root) == ("replace", "terraform/envs/prod")
    assert ".data_bucket." in bucket.address
    assert bucket.reason == "replace_because_cannot_update" and bucket.forced_by == ("name",)
    assert bucket.protected == "a protected google_storage_bucket"
    # ...with what goes with it (its grants name the bucket), not protected
    others = [d for d in report.replacements.destructions if d is not bucket]
    assert others and {d.type for d in others} == {"google_storage_bucket_iam_member"}
    assert not any(d.protected for d in others)
    assert report.replacements.status == "ok"
    # every environment root was rehearsed (a bootstrap, which reads environment states from
    # Cloud Storage, cannot be offline: it is named in a note)
    assert not [n for n in report.replacements.notes if "terraform/envs/" in n]
    # ...and nothing committed: a person decides
    assert report.needs_attention and not report.committed
    assert builder.git(repo, "rev-parse", "HEAD").strip() == head.strip()
    text = upd.format_report(report)
    assert "1 PROTECTED" in text and f"REPLACE {bucket.address}" in text
    assert "forced by name" in text
    assert "!! PROTECTED: a protected google_storage_bucket" in text
    carried = report.to_json()["replacements"]
    assert carried["protected"] == 1
    assert {"address": bucket.address, "type": "google_storage_bucket", "action": "replace",
            "root": "terraform/envs/prod", "reason": "replace_because_cannot_update",
            "protected": "a protected google_storage_bucket", "forced_by": ["name"]} \
        in carried["destructions"]


def test_the_cli_dry_run_reports_it_in_json_and_writes_nothing(
    renaming_template: Path, answers: dict[str, Any], tmp_path: Path
) -> None:
    repo = render(renaming_template, tmp_path / "client", answers)
    result = CliRunner().invoke(
        cli, ["update", str(repo), "--vcs-ref", "v0.4.0", "--dry-run", "--json", "--no-validate"]
    )
    assert result.exit_code == 4, result.output  # needs a person
    body = json.loads(result.stdout)
    assert body["needs_attention"] is True and body["replacements"]["protected"] == 1
    assert "protected resources" in result.stderr
    assert builder.git(repo, "status", "--porcelain") == ""
    # skipping the check is possible, and says so
    result = CliRunner().invoke(
        cli, ["update", str(repo), "--vcs-ref", "v0.4.0", "--dry-run", "--json", "--no-validate",
              "--no-plan-diff"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["replacements"]["status"] == "skipped"
    assert body["replacements"]["detail"] == "--no-plan-diff"


def test_fleet_update_reports_the_replacement(
    renaming_template: Path, answers: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "fleet").mkdir()
    render(renaming_template, tmp_path / "fleet" / "contoso", answers)
    report_file = tmp_path / "fleet.json"
    result = CliRunner().invoke(
        cli, ["fleet", "update", "--repos", str(tmp_path / "fleet"), "--vcs-ref", "v0.4.0",
              "--no-validate", "--json-report", str(report_file)]
    )
    assert result.exit_code == 4, result.output
    [repo] = json.loads(report_file.read_text())["repos"]
    assert repo["status"] == "destroys" and repo["needs_attention"] is True
    assert repo["replacements"]["protected"] == 1
    row = next(line for line in result.stdout.splitlines() if line.startswith(repo["repo"]))
    assert "(1 PROTECTED)" in row and row.split()[-1] == "destroys"
    assert "!! PROTECTED: a protected google_storage_bucket" in result.stdout
